"""Pair current and base estimates by environment and resource address; compute deltas."""

from __future__ import annotations

from dataclasses import dataclass

from cost.model import ProjectCost


@dataclass(frozen=True)
class ResourceDelta:
    address: str
    type: str
    base: float | None  # None: added
    current: float | None  # None: removed

    @property
    def delta(self) -> float:
        return (self.current or 0.0) - (self.base or 0.0)


@dataclass(frozen=True)
class ProjectDiff:
    name: str
    current: ProjectCost | None
    base: ProjectCost | None
    resources: list[ResourceDelta]

    @property
    def delta(self) -> float:
        return (self.current.monthly if self.current else 0.0) - \
            (self.base.monthly if self.base else 0.0)


def _totals(cost: ProjectCost | None) -> dict[str, tuple[str, float]]:
    totals: dict[str, tuple[str, float]] = {}
    for resource in cost.resources if cost else []:
        previous = totals.get(resource.address, (resource.type, 0.0))[1]
        totals[resource.address] = (resource.type, previous + resource.monthly)
    return totals


def diff(current: list[ProjectCost], base: list[ProjectCost]) -> list[ProjectDiff]:
    """One `ProjectDiff` per environment in either side; only changed resources listed.
    Two single plans (e.g. base.json vs pr.json) pair with each other whatever their names."""
    now = {p.name: p for p in current}
    before = {p.name: p for p in base}
    if len(now) == 1 and len(before) == 1:
        before = {next(iter(now)): next(iter(before.values()))}
    result = []
    for name in sorted(set(now) | set(before)):
        new, old = _totals(now.get(name)), _totals(before.get(name))
        changes = []
        for address in sorted(set(new) | set(old)):
            rtype = (new.get(address) or old.get(address))[0]
            a = old[address][1] if address in old else None
            b = new[address][1] if address in new else None
            if a is None or b is None or abs(a - b) > 1e-9:
                changes.append(ResourceDelta(address, rtype, a, b))
        result.append(ProjectDiff(name, now.get(name), before.get(name), changes))
    return result
