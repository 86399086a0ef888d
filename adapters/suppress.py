"""Record a reasoned checkov suppression on a synthesized resource.

checkov's terraform_json runner reads `checkov:skip=<ID>:<reason>` text inside a
resource block; we put it under the resource's `//` comment key, so the reason
lives in code next to the resource that needs it.
"""

from __future__ import annotations

from cdktn import TerraformResource


def skip_checks(resource: TerraformResource, reasons: dict[str, str]) -> None:
    """Suppress each check id with its written reason (a reason is required)."""
    lines = []
    for check_id, reason in sorted(reasons.items()):
        if len(reason.strip()) < 10:
            raise ValueError(f"suppression of {check_id} needs a written reason")
        lines.append(f"checkov:skip={check_id}:{reason}")
    resource.add_override("//.checkov", lines)
