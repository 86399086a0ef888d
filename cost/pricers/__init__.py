"""Registry of pricers keyed by Terraform resource type (one small function per type).

A pricer takes `(resource, context)` and returns a `ResourceCost`. Types known to
cost nothing are listed in `FREE_TYPES`; everything else without a pricer is
reported as unsupported by type and count, never as a silent $0.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cost.catalog import Catalog, Price
from cost.inputs import Project, Resource
from cost.model import CostComponent, ResourceCost

PRICERS: dict[str, Callable[[Resource, PricingContext], ResourceCost]] = {}
FREE_TYPES: set[str] = set()


def pricer(*types: str):
    """Register a function as the pricer of `types`."""
    def register(function):
        for rtype in types:
            PRICERS[rtype] = function
        return function
    return register


def free(*types: str) -> None:
    FREE_TYPES.update(types)


@dataclass
class PricingContext:
    catalog: Catalog
    project: Project
    usage_file: dict[str, Any] = field(default_factory=dict)

    def region(self, resource: Resource) -> str:
        """The resource's own region/location (normalized: `East US` -> `eastus`,
        `US-CENTRAL1` -> `us-central1`), else the provider's default region."""
        for key in ("region", "location"):
            value = resource.values.get(key)
            if isinstance(value, str) and value and "${" not in value:
                return value.lower().replace(" ", "")
        return self.project.regions.get(resource.cloud, "")

    def usage(self, resource: Resource, key: str, default: Any = None) -> Any:
        """Per-resource usage from the usage file (address, `[*]` wildcards, type defaults)."""
        per_resource = self.usage_file.get("resource_usage") or {}
        for pattern, values in per_resource.items():
            if (pattern == resource.address or fnmatch.fnmatchcase(
                    resource.address, pattern.replace("[*]", "*"))) and key in values:
                return values[key]
        defaults = (self.usage_file.get("resource_type_default_usage") or {}).get(resource.type)
        if defaults and key in defaults:
            return defaults[key]
        return default

    def price(self, resource: Resource, service: str, sku: str,
              kind: str = "on_demand") -> Price | None:
        return self.catalog.price(resource.cloud, service, sku, self.region(resource), kind)


def unpriced(resource: Resource, reason: str) -> ResourceCost:
    """A known type the catalog cannot price: listed with its reason, never a silent $0."""
    return ResourceCost(resource.address, resource.type, unpriced_reason=reason)


def component(name: str, unit: str, quantity: float | None, price: Price,
              note: str = "") -> CostComponent:
    notes = "; ".join(n for n in (note, price.note) if n)
    return CostComponent(name, unit, quantity, price.usd, f"{price.source} ({price.source_date})",
                         notes)


def load_all() -> None:
    """Import every cloud's pricers (they register themselves)."""
    from cost.pricers import aws, azure, gcp, training  # noqa: F401
