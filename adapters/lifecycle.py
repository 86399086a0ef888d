"""Lifecycle settings shared by every cloud's stateful resources."""

from __future__ import annotations

from cdktn import TerraformResourceLifecycle

from core.spec import Environment


def protect(env: Environment) -> TerraformResourceLifecycle | None:
    """`prevent_destroy` on stateful resources outside dev (the tier's deletion protection)."""
    return TerraformResourceLifecycle(prevent_destroy=True) if env.deletion_protection else None
