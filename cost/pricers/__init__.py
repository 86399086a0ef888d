"""Registry of pricers keyed by Terraform resource type (one small function per type).

A pricer takes `(resource, context)` and returns a `ResourceCost`. Types known to
cost nothing are listed in `FREE_TYPES`; everything else without a pricer is
reported as unsupported by type and count, never as a silent $0.
"""

from __future__ import annotations

import re
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

    def usage(self, resource: Resource, key: str | tuple[str, ...],
              default: Any = None) -> Any:
        """Per-resource usage from the usage file: the exact address first, then `[*]`
        wildcards (matching only that resource's count/for_each instances), then the type's
        defaults. `key` may be dotted for Infracost's nested keys (`standard.storage_gb`), or a
        tuple of alternative keys: every alternative is tried at one level before the next."""
        keys = (key,) if isinstance(key, str) else key
        per_resource = self.usage_file.get("resource_usage") or {}
        levels = [per_resource.get(resource.address)]
        levels += [values for pattern, values in per_resource.items()
                   if "[*]" in pattern and address_matches(pattern, resource.address)]
        levels.append((self.usage_file.get("resource_type_default_usage") or {})
                      .get(resource.type))
        for values in levels:
            for name in keys:
                found = _lookup(values, name)
                if found is not None:
                    return found
        return default

    def price(self, resource: Resource, service: str, sku: str,
              kind: str = "on_demand") -> Price | None:
        return self.catalog.price(resource.cloud, service, sku, self.region(resource), kind)


def address_matches(pattern: str, address: str) -> bool:
    """Infracost wildcard semantics: `name[*]` matches `name[0]`, `name["a"]`, never
    `name_other[0]` or `name.child`."""
    parts = [re.escape(part) for part in pattern.split("[*]")]
    return re.fullmatch(r"\[[^\]]+\]".join(parts), address) is not None


def _lookup(values: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


def block(values: dict[str, Any], key: str) -> dict[str, Any]:
    """The first nested block `key` (Terraform JSON writes blocks as objects or arrays)."""
    found = values.get(key)
    if isinstance(found, list):
        found = found[0] if found else {}
    return found if isinstance(found, dict) else {}


def blocks(values: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every nested block `key`, whether written as one object or an array of objects."""
    found = values.get(key)
    if isinstance(found, dict):
        return [found]
    return [b for b in found if isinstance(b, dict)] if isinstance(found, list) else []


def literal_number(value: Any, default: float | None = None) -> float | None:
    """A literal number (or numeric string); `default` for `${...}` expressions, booleans
    and anything else the engine cannot evaluate."""
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def literal_int(value: Any, default: int = 0) -> int:
    number = literal_number(value)
    return default if number is None else int(number)


def literal_text(value: Any, default: str = "") -> str:
    """A literal string attribute; `default` when it is an expression (`${...}`)."""
    return value if isinstance(value, str) and "${" not in value else default


class MissingRow(Exception):
    """A billable dimension with a known quantity has no catalog row; `estimate` lists the
    resource as unpriced with this message."""


def need(ctx: PricingContext, resource: Resource, service: str, sku: str,
         kind: str = "on_demand") -> Price:
    """The catalog price, or `MissingRow` naming the service and SKU."""
    price = ctx.price(resource, service, sku, kind)
    if price is None:
        raise MissingRow(f"no catalog price for {service} '{sku}' in "
                         f"{ctx.region(resource) or 'any region'}")
    return price


def attribute(values: dict[str, Any], key: str, default: str) -> str:
    """A literal string attribute: `default` when absent or null, "" for an expression."""
    value = values.get(key)
    return default if value is None else literal_text(value, "")


def usage_note(quantity: Any, key: str, note: str = "") -> str:
    """`note`, plus "usage-based: set <key>" when the quantity is unknown."""
    hint = "" if quantity is not None else f"usage-based: set {key}"
    return "; ".join(n for n in (note, hint) if n)


def unpriced(resource: Resource, reason: str) -> ResourceCost:
    """A known type the catalog cannot price: listed with its reason, never a silent $0."""
    return ResourceCost(resource.address, resource.type, unpriced_reason=reason)


def component(name: str, unit: str, quantity: float | None, price: Price,
              note: str = "", stand_in: str = "") -> CostComponent:
    """A bill line at `price`; `stand_in` says why a sibling service's rate of the same machine
    stands in for a figure the catalog lacks (reported as an assumption)."""
    notes = "; ".join(n for n in (note, stand_in, price.note) if n)
    return CostComponent(name, unit, quantity, price.usd, f"{price.source} ({price.source_date})",
                         notes, price.region if price.fallback else "", stand_in)


def load_all() -> None:
    """Import every cloud's pricers (they register themselves)."""
    from cost.pricers import (  # noqa: F401
        aws,
        azure,
        gcp,
        gcp_mlops,
        monitoring,
        pipeline,
        serving,
        training,
    )
