"""Shared lookup for the per-cloud neutral accelerator tables."""

from __future__ import annotations

from typing import TypeVar

from terraml.errors import UserError

T = TypeVar("T")


def pick(table: dict[tuple[str, int], T], accelerator: str, count: int, cloud: str,
         not_offered: dict[str, str] | None = None) -> T:
    """The table entry for `accelerator` x `count`; a one-line `UserError` naming valid counts
    (or the suggestion in `not_offered`) otherwise."""
    if not_offered and accelerator in not_offered:
        raise UserError(f"accelerator {accelerator} is not offered on {cloud}: "
                        f"{not_offered[accelerator]}")
    found = table.get((accelerator, count))
    if found is None:
        counts = sorted(c for (a, c) in table if a == accelerator)
        if not counts:
            raise UserError(f"accelerator {accelerator!r} is not offered on {cloud}")
        raise UserError(f"accelerator {accelerator} x{count} has no single {cloud} machine; "
                        f"valid counts: {', '.join(map(str, counts))}")
    return found
