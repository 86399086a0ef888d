"""Local deploy: real Terraform against an embedded AWS emulator (moto server on loopback)."""
