"""Cost result types: named components per resource, resources per project."""

from __future__ import annotations

from dataclasses import dataclass, field

HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class CostComponent:
    """One line of a bill: `quantity` `unit` per month at `price` USD each."""

    name: str
    unit: str
    quantity: float | None  # None: usage-based and no usage given
    price: float
    source: str = ""
    note: str = ""
    fallback_region: str = ""  # priced at this region's rate: no figure for the resource's own
    stand_in: str = ""  # why a sibling service's rate of the same machine is used (stated)

    @property
    def monthly(self) -> float:
        return round((self.quantity or 0.0) * self.price, 6)

    @property
    def hourly(self) -> float | None:
        return self.price if self.unit == "hours" else None


@dataclass
class ResourceCost:
    address: str
    type: str
    components: list[CostComponent] = field(default_factory=list)
    free: bool = False
    unpriced_reason: str = ""  # known type, but the catalog has no figure for it
    # Set by a pricer for a service billed all month even while idle (a tracking server, an
    # online feature store): what runs. The always_on_in_dev guardrail reads it, priced or not.
    idle_billing: str = ""

    @property
    def monthly(self) -> float:
        return round(sum(c.monthly for c in self.components), 6)


@dataclass
class ProjectCost:
    name: str
    source: str
    resources: list[ResourceCost]
    unsupported: dict[str, int]  # resource type -> count, no pricer and not known free
    assumptions: list[str] = field(default_factory=list)  # stated in every report

    @property
    def monthly(self) -> float:
        return round(sum(r.monthly for r in self.resources), 6)

    @property
    def unpriced(self) -> list[ResourceCost]:
        return [r for r in self.resources if r.unpriced_reason]

    def by_component(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for resource in self.resources:
            for component in resource.components:
                totals[component.name] = totals.get(component.name, 0.0) + component.monthly
        return totals
