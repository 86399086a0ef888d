"""Price projects: run each resource through its pricer; list the rest by type."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cost.catalog import Catalog
from cost.inputs import Project
from cost.model import ProjectCost, ResourceCost
from cost.pricers import FREE_TYPES, PRICERS, PricingContext, load_all
from cost.pricers.training import price_training, training_resource


def estimate(project: Project, catalog: Catalog,
             usage_file: dict[str, Any] | None = None) -> ProjectCost:
    load_all()
    ctx = PricingContext(catalog, project, usage_file or {})
    priced: list[ResourceCost] = []
    unsupported: Counter[str] = Counter()
    for resource in project.resources:
        pricer = PRICERS.get(resource.type)
        if pricer is not None:
            for _ in range(max(resource.count, 0)):
                priced.append(pricer(resource, ctx))
        elif resource.type in FREE_TYPES:
            priced.append(ResourceCost(resource.address, resource.type, free=True))
        else:
            unsupported[resource.type] += max(resource.count, 1)
    training = training_resource(project)
    if training is not None:
        priced.append(price_training(training, ctx))
    return ProjectCost(project.name, str(project.source), priced, dict(sorted(unsupported.items())))
