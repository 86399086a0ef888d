"""AWS pricers for the production ML-ops layers: SageMaker Feature Store feature groups and the
Model Monitor resources. The monitor's runs are priced from terraml's `monitoring_job` record
(cost/pricers/monitoring.py); the notebook instance is priced in compute.py."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import ResourceCost
from cost.pricers import PricingContext, block, component, free, pricer, unpriced, usage_note
from cost.workloads import monitoring_jobs

free(
    # A lifecycle configuration is a stored script; it bills nothing.
    "aws_sagemaker_notebook_instance_lifecycle_configuration",
    # A job definition only describes the processing job a schedule starts; each run is a
    # SageMaker Processing job, priced from the stack's monitoring_job record.
    "aws_sagemaker_data_quality_job_definition",
)

SERVICE = "sagemaker-feature-store"
ONLINE_SKUS = (("online storage", "storage", "GB", "stored_gb"),
               ("write request units", "request", "1M write units", "writes_per_month"),
               ("read request units", "request", "1M read units", "reads_per_month"))


def _online(resource: Resource) -> bool:
    config = block(resource.values, "online_store_config")
    enabled = config.get("enable_online_store")
    return bool(config) and enabled is not False and enabled != "false"


def _expected(ctx: PricingContext, resource: Resource, key: str) -> float | None:
    """The feature store's expected online figure: the usage file, else the stack's record
    (`features.online_store`), split evenly across the project's online feature groups."""
    given = ctx.usage(resource, {"stored_gb": "storage_gb", "writes_per_month":
                                 "monthly_write_units", "reads_per_month":
                                 "monthly_read_units"}[key])
    if given is not None:
        return float(given)
    store = (ctx.project.usage.get("features") or {}).get("online_store") or {}
    if store.get(key) is None:
        return None
    groups = sum(1 for r in ctx.project.resources
                 if r.type == resource.type and _online(r)) or 1
    return float(store[key]) / groups


@pricer("aws_sagemaker_feature_group")
def feature_group(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Online store (on-demand throughput): stored GB-month, billed while idle, plus read and
    write request units. The offline store is the features bucket's S3 data (priced on the
    bucket) plus the write units that ingest into it."""
    online = _online(resource)
    idle = "SageMaker Feature Store online store bills its stored data every month, idle or " \
        "not" if online else ""
    cost = ResourceCost(resource.address, resource.type, idle_billing=idle)
    skus = ONLINE_SKUS if online else ONLINE_SKUS[1:2]
    for sku, kind, unit, key in skus:
        price = ctx.price(resource, SERVICE, sku, kind)
        if price is None:
            what = "online store" if online else "offline-only feature group (its ingestion)"
            cost.components = []
            cost.unpriced_reason = (f"no sourced SageMaker Feature Store {sku} price in the "
                                    f"catalog ({what}); the offline store's data is priced on "
                                    "the features bucket")
            return cost
        quantity = _expected(ctx, resource, key)
        if quantity is not None and unit.startswith("1M"):
            quantity /= 1_000_000
        cost.components.append(component(f"Feature Store {sku}", unit, quantity, price,
                                         usage_note(quantity, key)))
    return cost


@pricer("aws_sagemaker_monitoring_schedule")
def monitoring_schedule(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """The schedule itself bills nothing; its runs are SageMaker Processing jobs, priced from
    terraml's monitoring_job record. Without the record (a plan, a foreign project): unpriced."""
    if monitoring_jobs(ctx.project):
        return ResourceCost(resource.address, resource.type, free=True)
    return unpriced(resource, "each run is a SageMaker Processing job; no terraml "
                              "monitoring_job record gives its machine, hours and runs (price "
                              "the synthesized stack, cdktf.out)")
