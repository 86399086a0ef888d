"""AWS pricers: SageMaker notebooks and Batch pools (Fargate / EC2)."""

from __future__ import annotations

from cost.inputs import Resource
from cost.machine_rates import NoRate, machine_rate
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    MissingRow,
    PricingContext,
    attribute,
    block,
    component,
    literal_int,
    literal_number,
    literal_text,
    need,
    pricer,
    unpriced,
)
from cost.pricers.aws.common import usage_component
from cost.pricers.notebooks import disk_note, running_hours

ML_STORAGE = "gp2 ML storage volume (training/endpoint/notebook)"


@pricer("aws_sagemaker_notebook_instance")
def notebook(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Notebook instance hours at the notebook rate (usage `monthly_hours`, else the stack's
    `notebooks.hours_per_month`, else always on), plus its ML storage volume (`volume_size`
    GB, billed all month, also while stopped) at the gp2 ML storage rate. Without
    `volume_size` (AWS default 5 GB) the volume is not priced (existing report snapshots)."""
    instance = literal_text(resource.values.get("instance_type"))
    if not instance:
        return unpriced(resource, "instance_type is an expression")
    try:
        (part,) = machine_rate(ctx.catalog, "aws", "notebook", instance, ctx.region(resource))
    except NoRate as missing:
        return unpriced(resource, str(missing))
    hours, source = running_hours(resource, ctx)
    volume = literal_number(resource.values.get("volume_size"))
    storage = ctx.price(resource, "sagemaker-ml-storage", ML_STORAGE, "storage")
    note = source
    if volume is not None and storage is None:
        note = "; ".join(n for n in (source, disk_note("the ML storage volume",
                                                       "no ML storage price in the catalog"))
                         if n)
    cost = ResourceCost(resource.address, resource.type,
                        [component(f"Notebook instance ({instance})", "hours", hours, part.price,
                                   note)])
    if volume is not None and storage is not None:
        cost.components.append(component("ML storage volume (gp2)", "GB", volume, storage,
                                         "billed all month, also while stopped"))
    return cost


@pricer("aws_batch_compute_environment")
def batch(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Batch itself is free. Fargate and Fargate Spot pools: vCPU-hours and GB-hours the jobs
    run (usage `monthly_vcpu_hours`, `monthly_gb_hours`); EC2/Spot pools with min_vcpus > 0
    keep instances running."""
    if isinstance(resource.values.get("compute_resources"), str):
        return unpriced(resource, "compute_resources is an expression")
    resources = block(resource.values, "compute_resources")
    kind = attribute(resources, "type", "EC2")
    if not kind:
        return unpriced(resource, "compute_resources.type is an expression")
    if kind in ("FARGATE", "FARGATE_SPOT"):
        market = "spot" if kind == "FARGATE_SPOT" else "on_demand"
        try:
            vcpu = need(ctx, resource, "fargate", "vCPU hour (Linux/x86)", market)
            memory = need(ctx, resource, "fargate", "GB hour (Linux/x86)", market)
        except MissingRow as exc:
            return unpriced(resource, f"{exc} ({kind.replace('_', ' ').title()})")
        label = "Fargate Spot" if market == "spot" else "Fargate"
        note = "point-in-time Spot rate" if market == "spot" else ""
        return ResourceCost(resource.address, resource.type, [
            usage_component(f"{label} vCPU", "vCPU-hours",
                             ctx.usage(resource, "monthly_vcpu_hours"), vcpu,
                             "monthly_vcpu_hours", note),
            usage_component(f"{label} memory", "GB-hours",
                             ctx.usage(resource, "monthly_gb_hours"), memory,
                             "monthly_gb_hours", note),
        ])
    minimum = literal_int(resources.get("min_vcpus"), 0)
    if minimum == 0:
        return ResourceCost(resource.address, resource.type, free=True)
    instances = resources.get("instance_type")
    instance = literal_text(instances[0]) if isinstance(instances, list) and instances else ""
    market = "spot" if kind == "SPOT" else "on_demand"
    price = ctx.price(resource, "ec2", instance, market) if instance else None
    if price is None:
        return unpriced(resource, f"min_vcpus {minimum} keeps {instance or 'instances'} "
                                   "running; no EC2 price in the catalog")
    count = ctx.usage(resource, "instances", 1)
    return ResourceCost(resource.address, resource.type, [component(
        f"Always-on pool ({instance} x{count})", "hours", HOURS_PER_MONTH * count, price,
        f"min_vcpus {minimum}")])

