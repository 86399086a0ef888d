"""Training jobs are not Terraform resources: terraml prices them from the environment's
`training` section, which the stack records in its synthesized JSON."""

from __future__ import annotations

from cost.inputs import Project, Resource
from cost.model import ResourceCost
from cost.pricers import PricingContext, component
from cost.pricers.gcp import GPU_SKU, gpus_billed_separately

SERVICE = {"aws": ("sagemaker-training", "sagemaker-realtime-inference", "ec2")}


def training_resource(project: Project) -> Resource | None:
    spec = project.usage.get("training")
    if not spec:
        return None
    return Resource(f"terraml_training_jobs.{project.name}", "terraml_training_jobs",
                    project.name, dict(spec))


def _price_gcp(resource: Resource, ctx: PricingContext, hours: float) -> ResourceCost:
    """Vertex custom jobs at Compute Engine machine + GPU rates (a floor: Vertex bills its
    own SKUs); Spot VMs at the Compute Engine spot rates."""
    spec = resource.values
    cost = ResourceCost(resource.address, resource.type)
    kind = "spot" if spec.get("spot") else "on_demand"
    region = spec.get("region") or ""
    machine = spec.get("instance_type", "")
    price = ctx.catalog.price("gcp", "compute-engine", machine, region, kind)
    floor = "Vertex training rate not in the catalog: Compute Engine rate used as a floor"
    if price is None:
        cost.unpriced_reason = f"no Compute Engine {kind} price for {machine}"
        return cost
    cost.components.append(component(f"Training ({machine}, {kind})", "hours", hours, price,
                                      floor))
    gpu = spec.get("accelerator_type")
    if gpu and gpus_billed_separately(machine):
        gpu_price = ctx.catalog.price("gcp", "compute-engine-gpu", GPU_SKU.get(gpu, gpu),
                                      region, kind)
        if gpu_price is None:
            cost.unpriced_reason = f"no {kind} price for {gpu}"
            return cost
        gpus = int(spec.get("count") or 1)
        cost.components.append(component(f"Training GPUs ({gpu} x{gpus}, {kind})", "hours",
                                          hours * gpus, gpu_price, floor))
    return cost


def _price_azure(resource: Resource, ctx: PricingContext, hours: float) -> ResourceCost:
    """Azure ML cluster node-hours: low-priority (spot) or dedicated VM rates."""
    spec = resource.values
    cost = ResourceCost(resource.address, resource.type)
    size, region = spec.get("instance_type", ""), spec.get("region") or ""
    note = ""
    if spec.get("spot"):
        price = ctx.catalog.price("azure", "virtual-machines", f"{size} (low-priority)", region,
                                  "spot")
        if price is None:
            price = ctx.catalog.price("azure", "virtual-machines", size, region, "spot")
            note = "no low-priority figure: spot rate used"
    else:
        price = ctx.catalog.price("azure", "virtual-machines", size, region)
    if price is None:
        cost.unpriced_reason = f"no VM price for {size}"
        return cost
    label = "low-priority" if spec.get("spot") else "dedicated"
    cost.components.append(component(f"Training ({size}, {label})", "hours", hours, price, note))
    return cost


def price_training(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Instance-hours (GPU-hours / GPUs per instance) at the training rate; managed spot
    at that rate times the EC2 spot/on-demand ratio of the same family."""
    spec = resource.values
    cloud = spec.get("cloud", "aws")
    cost = ResourceCost(resource.address, resource.type)
    gpus = max(int(spec.get("count") or 1), 1) if spec.get("accelerator") else 1
    instance = spec.get("instance_type", "")
    hours = float(spec.get("gpu_hours_per_month", 0)) / gpus
    if cloud == "gcp":
        return _price_gcp(resource, ctx, hours)
    if cloud == "azure":
        return _price_azure(resource, ctx, hours)
    services = SERVICE.get(cloud)
    if not services:
        cost.unpriced_reason = f"no training pricer for {cloud}"
        return cost
    region = spec.get("region") or ctx.project.regions.get(cloud, "")
    price = ctx.catalog.price(cloud, services[0], instance, region)
    note = ""
    if price is None:
        price = ctx.catalog.price(cloud, services[1], instance, region)
        note = "training rate assumed equal to the hosting rate (no training figure)"
    if price is None:
        cost.unpriced_reason = f"no training price for {instance}"
        return cost
    if not spec.get("spot"):
        cost.components.append(component(f"Training ({instance}, on-demand)", "hours", hours,
                                          price, note))
    else:
        family = instance.removeprefix("ml.")
        on_demand = ctx.catalog.price(cloud, services[2], family, region, "on_demand")
        spot = ctx.catalog.price(cloud, services[2], family, region, "spot")
        if on_demand and spot and on_demand.usd:
            ratio = spot.usd / on_demand.usd
            cost.components.append(component(
                f"Training ({instance}, managed spot)", "hours", hours,
                price.__class__(round(price.usd * ratio, 6), price.unit, price.source,
                                price.source_date, price.region, price.fallback),
                f"spot discount {1 - ratio:.0%} from the EC2 {family} spot/on-demand ratio; {note}"
                .strip("; ")))
        else:
            cost.components.append(component(
                f"Training ({instance}, managed spot)", "hours", hours, price,
                f"no spot figure for {family}: priced at on-demand (upper bound); {note}"
                .strip("; ")))
    return cost
