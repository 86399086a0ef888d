"""Lifecycle settings shared by every cloud's stateful resources."""

from __future__ import annotations

from cdktn import TerraformResourceLifecycle

from core.props import Site


def protect(site: Site) -> TerraformResourceLifecycle | None:
    """`prevent_destroy` on stateful resources outside dev (the tier's deletion protection)."""
    return TerraformResourceLifecycle(prevent_destroy=True) if site.deletion_protection else None
