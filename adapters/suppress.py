"""Record a reasoned checkov suppression on a synthesized resource.

We write `checkov:skip=<ID>:<reason>` lines under the resource's `//` comment key,
so the reason lives in code next to the resource that needs it. checkov 3.x's
terraform_json runner does not apply inline skips itself; `tests/checkov_gate.py`
accepts a failed check only when the failing resource carries such a line.
"""

from __future__ import annotations

from cdktn import TerraformElement

_RECORDED: dict[str, dict[str, str]] = {}  # construct path -> check id -> reason


def skip_checks(resource: TerraformElement, reasons: dict[str, str]) -> None:
    """Suppress each check id with its written reason (a reason is required). Repeated
    calls on one resource add to its suppressions."""
    for check_id, reason in reasons.items():
        if len(reason.strip()) < 10:
            raise ValueError(f"suppression of {check_id} needs a written reason")
    recorded = _RECORDED.setdefault(resource.node.path, {})
    recorded.update(reasons)
    resource.add_override("//.checkov", [f"checkov:skip={check_id}:{reason}"
                                         for check_id, reason in sorted(recorded.items())])
