"""Serving pricers (placeholder during the move; rewritten on the neutral workloads)."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import PricingContext, component, pricer, unpriced
from cost.pricers.gcp import GPU_SKU
from cost.sagemaker import endpoint_config, scaling_bounds


@pricer("aws_sagemaker_endpoint")
def sagemaker_endpoint(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Real-time: instance-hours x instances (autoscaling minimum, or usage `instances`).
    Serverless: GB-seconds from requests x duration (usage or the environment's figures)."""
    config = endpoint_config(ctx.project, resource)
    if config is None:
        return unpriced(resource, "endpoint configuration not found in the plan")
    cost = ResourceCost(resource.address, resource.type)
    serving = ctx.project.usage.get("serving", {})
    for variant in config.values.get("production_variants") or []:
        label = variant.get("variant_name", "variant")
        serverless = (variant.get("serverless_config") or [None])
        serverless = serverless[0] if isinstance(serverless, list) else serverless
        if serverless:
            memory = int(serverless.get("memory_size_in_mb", 2048))
            price = ctx.price(resource, "sagemaker-serverless-inference", f"memory {memory} MB",
                              "serverless")
            if price is None:
                return unpriced(resource, f"no serverless price for {memory} MB")
            requests = ctx.usage(resource, "monthly_requests", serving.get("requests_per_month"))
            duration_ms = ctx.usage(resource, "avg_duration_ms",
                                    serving.get("avg_duration_ms", 100))
            seconds = None if requests is None else requests * duration_ms / 1000.0
            cost.components.append(component(
                f"Serverless inference ({label}, {memory} MB)", "seconds", seconds, price,
                "" if requests is not None else "usage-based: set monthly_requests"))
            continue
        instance = variant.get("instance_type", "")
        price = ctx.price(resource, "sagemaker-realtime-inference", instance)
        if price is None:
            return unpriced(resource, f"no SageMaker hosting price for {instance}")
        bounds = scaling_bounds(ctx.project, resource, label)
        count = int(variant.get("initial_instance_count") or 1)
        note = ""
        if bounds:
            count = bounds[0]
            note = f"autoscaling {bounds[0]}-{bounds[1]} instances; priced at the minimum"
        count = ctx.usage(resource, "instances", count)
        hours = ctx.usage(resource, "monthly_hours", serving.get("hours_per_month",
                                                                 HOURS_PER_MONTH))
        cost.components.append(component(f"Endpoint instances ({label}, {instance} x{count})",
                                         "hours", hours * count, price, note))
    return cost



@pricer("google_vertex_ai_endpoint")
def vertex_endpoint(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Models are deployed at run time; usage says what runs: machine_type, replicas,
    accelerator_type, accelerator_count, monthly_hours."""
    machine = ctx.usage(resource, "machine_type") or \
        ctx.project.usage.get("serving", {}).get("machine_type")
    cost = ResourceCost(resource.address, resource.type)
    if not machine:
        price = ctx.price(resource, "compute-engine", "n1-standard-4")
        cost.components.append(component(
            "Deployed model replicas", "hours", None, price,
            "usage-based: set machine_type and replicas (no model is deployed by Terraform)"))
        return cost
    price = ctx.price(resource, "compute-engine", str(machine))
    if price is None:
        return unpriced(resource, f"no Compute Engine price for {machine}")
    replicas = ctx.usage(resource, "replicas", 1)
    hours = ctx.usage(resource, "monthly_hours", HOURS_PER_MONTH)
    floor = "Vertex prediction rate not in the catalog: Compute Engine rate used as a floor"
    cost.components.append(component(f"Replicas ({machine} x{replicas})", "hours",
                                      hours * replicas, price, floor))
    gpu = ctx.usage(resource, "accelerator_type")
    if gpu:
        gpu_price = ctx.price(resource, "compute-engine-gpu", GPU_SKU.get(str(gpu), str(gpu)))
        if gpu_price is None:
            return unpriced(resource, f"no GPU price for {gpu}")
        count = ctx.usage(resource, "accelerator_count", 1)
        cost.components.append(component(f"GPUs ({gpu} x{count * replicas})", "hours",
                                          hours * count * replicas, gpu_price, floor))
    return cost



@pricer("azapi_resource")
def azapi(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """An online endpoint costs nothing until a deployment runs in it (priced at run time)."""
    if str(resource.values.get("type", "")).startswith(
            "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"):
        return ResourceCost(resource.address, resource.type, free=True)
    return ResourceCost(resource.address, resource.type,
                        unpriced_reason=f"no pricer for azapi type {resource.values.get('type')}")

