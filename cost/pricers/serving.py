"""Serving pricers on every cloud, from one neutral serving workload.

SageMaker endpoints are read from Terraform (variants, autoscaling); a Vertex AI endpoint
or an Azure ML online endpoint runs what is deployed into it at run time, which terraml
records as the endpoint's serving workload (stacks/workloads.py). Usage-file keys override
the record: `machine_type`, `accelerator_type`, `accelerator_count`, `replicas` (or
`instances`), `monthly_hours`, `monthly_requests`, `avg_duration_ms`.
"""

from __future__ import annotations

from cost.inputs import Resource
from cost.machine_rates import NoRate, machine_rate
from cost.model import ResourceCost
from cost.pricers import (
    PricingContext,
    block,
    blocks,
    component,
    literal_int,
    literal_text,
    pricer,
    unpriced,
)
from cost.sagemaker import endpoint_config, scaling_bounds
from cost.workloads import Workload, serving_for

ONLINE_ENDPOINT = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"


def _replicas(resource: Resource, ctx: PricingContext, work: Workload | None, machine: str,
              accelerator_type: str | None, gpus: int, minimum: int, maximum: int,
              requests: float | None, duration_ms: float, variant: str = "") -> ResourceCost:
    """Always-on replicas x hours at the machine's serving rate; a deployment that scales to
    zero is billed for the time replicas serve requests (requests x average duration)."""
    cost = ResourceCost(resource.address, resource.type)
    cloud = work.cloud if work else resource.cloud
    region = ctx.region(resource) or (work.region if work else "")
    try:
        parts = machine_rate(ctx.catalog, cloud, "serving", machine, region,
                             accelerator_type=accelerator_type, gpus=gpus)
    except NoRate as missing:
        return unpriced(resource, str(missing))
    replicas = ctx.usage(resource, "replicas", ctx.usage(resource, "instances", minimum))
    hours_given = ctx.usage(resource, "monthly_hours")
    if replicas:
        hours = hours_given if hours_given is not None else \
            (work.hours_per_month if work else 730.0)
        quantity, what = hours * replicas, f"x{replicas}"
        note = f"autoscaling {minimum}-{maximum} replicas; priced at the minimum" \
            if maximum > minimum else ""
    elif hours_given is not None:
        quantity, what, note = hours_given, "scales to zero", "replica-hours from usage"
    elif requests is not None:
        quantity = requests * duration_ms / 3_600_000
        what = "scales to zero"
        note = (f"lower bound: billed while serving {requests:,.0f} requests x "
                f"{duration_ms:g} ms; a deployed replica also runs while idle until stop-idle "
                "removes it: set monthly_hours for the hours a model stays deployed")
    else:
        quantity, what, note = None, "scales to zero", "usage-based: set monthly_hours"
    prefix = f"{variant}, " if variant else ""
    for index, part in enumerate(parts):
        name = f"Replicas ({prefix}{part.label}, {what})" if index == 0 else \
            f"Replica GPUs ({prefix}{part.label}, {what})"
        cost.components.append(component(
            name, "hours", None if quantity is None else quantity * part.quantity, part.price,
            "; ".join(n for n in (note, part.note) if n), part.stand_in))
    return cost


def _from_workload(resource: Resource, ctx: PricingContext,
                   work: Workload | None) -> ResourceCost:
    machine = ctx.usage(resource, "machine_type") or (work.instance_type if work else None)
    if not machine:
        return unpriced(resource, "no deployment recorded for this endpoint: set machine_type "
                                  "and replicas in a usage file")
    accelerator = ctx.usage(resource, "accelerator_type",
                            work.accelerator_type if work else None)
    gpus = ctx.usage(resource, "accelerator_count",
                     work.gpus if work else (1 if accelerator else 0))
    minimum = work.always_on if work else 1
    requests = ctx.usage(resource, "monthly_requests", work.requests_per_month if work else None)
    duration = ctx.usage(resource, "avg_duration_ms", work.avg_duration_ms if work else 100)
    return _replicas(resource, ctx, work, str(machine), accelerator, int(gpus), minimum,
                     work.max_instances if work else minimum, requests, duration)


@pricer("google_vertex_ai_endpoint")
def vertex_endpoint(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """The deployed model's replicas (machine + GPUs) at Vertex AI prediction rates."""
    return _from_workload(resource, ctx, serving_for(ctx.project, resource.address))


@pricer("azapi_resource")
def azapi(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Azure ML online endpoints: the recorded deployment's instances at the VM rate;
    online deployments written in Terraform: `sku.capacity` x `properties.instanceType`; the
    ML-ops types (feature store, compute instances, monitor schedules) in azure/mlops.py."""
    kind = literal_text(resource.values.get("type"))
    body = resource.values.get("body")
    body = body if isinstance(body, dict) else {}
    if kind.startswith(f"{ONLINE_ENDPOINT}/deployments@"):
        instance = literal_text(block(body, "properties").get("instanceType"))
        capacity = literal_int(block(body, "sku").get("capacity"), 1)
        if not instance:
            return unpriced(resource, "online deployment instanceType is an expression or "
                                      "missing")
        return _replicas(resource, ctx, None, instance, None, 0, capacity, capacity, None, 100)
    if kind.startswith(f"{ONLINE_ENDPOINT}@"):
        work = serving_for(ctx.project, resource.address)
        if work is None and ctx.usage(resource, "machine_type") is None:
            return ResourceCost(resource.address, resource.type, free=True)
        return _from_workload(resource, ctx, work)
    from cost.pricers.azure.mlops import azapi_mlops  # ML-ops azapi types (feature store, ...)
    found = azapi_mlops(resource, ctx, kind, body)
    if found is not None:
        return found
    return unpriced(resource, f"no pricer for azapi type {kind or 'from an expression'}")


@pricer("aws_sagemaker_endpoint")
def sagemaker_endpoint(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Real-time variants: instance-hours x instances (autoscaling minimum, or usage
    `instances`). Serverless: compute-seconds from requests x duration at the memory size's
    rate (usage, else the environment's figures)."""
    config = endpoint_config(ctx.project, resource)
    if config is None:
        return unpriced(resource, "endpoint configuration not found in the plan")
    work = serving_for(ctx.project, resource.address)
    legacy = ctx.project.usage.get("serving", {})
    cost = ResourceCost(resource.address, resource.type)
    for variant in blocks(config.values, "production_variants"):
        label = literal_text(variant.get("variant_name"), "variant")
        serverless = block(variant, "serverless_config")
        if serverless:
            memory = literal_int(serverless.get("memory_size_in_mb"), 2048)
            price = ctx.price(resource, "sagemaker-serverless-inference", f"memory {memory} MB",
                              "serverless")
            if price is None:
                return unpriced(resource, f"no serverless price for {memory} MB")
            requests = ctx.usage(resource, "monthly_requests",
                                 work.requests_per_month if work else
                                 legacy.get("requests_per_month"))
            duration_ms = ctx.usage(resource, "avg_duration_ms",
                                    work.avg_duration_ms if work else 100)
            seconds = None if requests is None else requests * duration_ms / 1000.0
            cost.components.append(component(
                f"Serverless inference ({label}, {memory} MB)", "seconds", seconds, price,
                f"{requests:,.0f} requests x {duration_ms:g} ms" if requests is not None
                else "usage-based: set monthly_requests"))
            continue
        instance = literal_text(variant.get("instance_type"))
        bounds = scaling_bounds(ctx.project, resource, label)
        count = bounds[0] if bounds else literal_int(variant.get("initial_instance_count"), 1)
        variant_cost = _replicas(resource, ctx, work, instance, None, 0, count,
                                 bounds[1] if bounds else count, None, 100, variant=label)
        if variant_cost.unpriced_reason:
            return variant_cost
        cost.components += variant_cost.components
    return cost
