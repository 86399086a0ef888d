"""Price projects: run each resource through its pricer; list the rest by type; state the
assumptions every figure rests on."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cost.batch import batch
from cost.catalog import Catalog
from cost.inputs import Project, Resource
from cost.model import ProjectCost, ResourceCost
from cost.pricers import FREE_TYPES, PRICERS, MissingRow, PricingContext, load_all, unpriced
from cost.pricers.monitoring import monitoring_assumptions, price_monitoring
from cost.pricers.pipeline import pipeline_assumptions, price_pipeline, tracking_assumptions
from cost.pricers.training import price_training, training_workload
from cost.workloads import notebooks, workloads


@batch
def estimate(project: Project, catalog: Catalog,
             usage_file: dict[str, Any] | None = None) -> ProjectCost:
    load_all()
    ctx = PricingContext(catalog, project, usage_file or {})
    priced: list[ResourceCost] = []
    unsupported: Counter[str] = Counter()
    for resource in project.resources:
        pricer = PRICERS.get(resource.type)
        if pricer is not None:
            priced.append(_safely(pricer, resource, ctx))
        elif resource.type in FREE_TYPES:
            priced.append(ResourceCost(resource.address, resource.type, free=True))
        else:
            unsupported[resource.type] += 1
    training = training_workload(project)
    if training is not None:
        priced.append(price_training(training, ctx))
    priced += price_pipeline(project, ctx)
    priced += price_monitoring(project, ctx)
    addresses = project.by_address()
    for work in workloads(project):
        if work.kind == "serving" and work.address not in addresses:
            priced.append(ResourceCost(work.address, "terraml_serving", unpriced_reason=(
                "the recorded serving workload names a resource that is not in this file")))
    return ProjectCost(project.name, str(project.source), priced,
                       dict(sorted(unsupported.items())), assumptions(project, priced))


def _safely(pricer, resource: Resource, ctx: PricingContext) -> ResourceCost:
    """A pricer that meets an attribute it cannot read (an expression where a number was
    expected) lists the resource as unpriced; it never stops the estimate."""
    try:
        return pricer(resource, ctx)
    except MissingRow as missing:
        return unpriced(resource, str(missing))
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        return unpriced(resource, f"cannot read its attributes ({type(exc).__name__}: {exc}); "
                                  "an attribute is probably an expression")


def assumptions(project: Project, priced: list[ResourceCost]) -> list[str]:
    """What the figures rest on: counts assumed, usage taken from the environment (the pipeline's
    runs a month and where that figure comes from), what tracking bills, region fallbacks and
    usage-based components left at zero."""
    found = [f"{r.address}: {r.assumption}" for r in project.resources if r.assumption]
    for work in workloads(project):
        if work.kind == "training":
            found.append(f"training: {work.hours_per_month:g} machine-hours/month on "
                         f"{work.instance_type} "
                         f"({'spot/low-priority' if work.spot else 'on-demand'} capacity), "
                         "from the environment's training.gpu_hours_per_month")
        elif work.kind != "serving" or work.address not in project.by_address():
            continue
        elif work.serverless or not work.always_on:
            found.append(f"serving ({work.address}): scales to zero; "
                         f"{work.requests_per_month or 0:,.0f} requests/month x "
                         f"{work.avg_duration_ms:g} ms each, from the environment")
        else:
            found.append(f"serving ({work.address}): {work.always_on} always-on "
                         f"{work.instance_type} for {work.hours_per_month:g} h/month "
                         f"(autoscaling up to {work.max_instances} not priced)")
    found += pipeline_assumptions(project, priced) + tracking_assumptions(project)
    found += monitoring_assumptions(project) + notebook_assumptions(project)
    stored = project.usage.get("storage_gb_per_bucket")
    if stored is not None:
        found.append(f"storage: {stored:g} GB per bucket, from the environment's data.stored_gb")
    stand_ins = sorted({(r.address, c.name, c.stand_in) for r in priced for c in r.components
                        if c.stand_in})
    found += [f"{address}: {name}: {why}" for address, name, why in stand_ins]
    by_region: dict[str, list[str]] = {}
    for address, region in sorted({(r.address, c.fallback_region) for r in priced
                                   for c in r.components if c.fallback_region}):
        by_region.setdefault(region, []).append(address)
    found += [f"priced at the {region} rate (no figure for their own region): "
              f"{', '.join(addresses)}" for region, addresses in sorted(by_region.items())]
    open_usage = sum(1 for r in priced for c in r.components if c.quantity is None)
    if open_usage:
        found.append(f"{open_usage} usage-based components have no usage and count as $0: "
                     "set them in a usage file (--usage-file)")
    return found


def notebook_assumptions(project: Project) -> list[str]:
    """The notebooks' running hours (the same figure on every cloud) and what stays billed while
    they are stopped."""
    record = notebooks(project)
    if record is None:
        return []
    return [(f"notebooks: {len(record.users) or 'each'} x {record.instance_type}, "
            f"{record.hours_per_month:g} running h/month each (notebooks.hours_per_month); "
            f"each keeps a {record.disk_gb:g} GB disk all month, also while stopped (priced "
            "where the catalog has the disk's rate, else named on the notebook's line)")]
