"""Cost engine (offline pricing, guardrails, reports): reads Terraform JSON only."""
