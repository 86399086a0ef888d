"""Azure pricers for the production ML-ops layers: the managed feature store (a feature-store
workspace, its entities and feature sets written through azapi, and its online store, an Azure
Cache for Redis), compute instances written through azapi, and the model monitor's schedule.
The monitor's runs are priced from terraml's `monitoring_job` record
(cost/pricers/monitoring.py)."""

from __future__ import annotations

from typing import Any

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    PricingContext,
    block,
    component,
    free,
    literal_int,
    literal_text,
    pricer,
)
from cost.pricers.azure.compute import instance_cost
from cost.workloads import monitoring_jobs

free(
    # A datastore registers a storage container with the workspace: no charge of its own (the
    # data is billed on the storage account).
    "azurerm_machine_learning_datastore_datalake_gen2", "azurerm_machine_learning_datastore_blobstorage",
    # A blob's bytes are billed as the storage account's capacity (priced on the account).
    "azurerm_storage_blob",
)

ML = "Microsoft.MachineLearningServices/workspaces"
# azapi types that are metadata only: a workspace of any kind (a feature store is a workspace of
# kind FeatureStore; the catalog lists the Azure ML workspace at no charge), feature-store
# entities and feature sets (their versions, unless scheduled to materialize: see
# `azapi_mlops`), a data asset, and a workspace connection.
FREE_AZAPI = (f"{ML}@", f"{ML}/featurestoreEntities@", f"{ML}/featurestoreEntities/versions@",
              f"{ML}/featuresets@", f"{ML}/featuresets/versions@", f"{ML}/data@",
              f"{ML}/data/versions@", f"{ML}/connections@")


def azapi_mlops(resource: Resource, ctx: PricingContext, kind: str,
                body: dict[str, Any]) -> ResourceCost | None:
    """The cost of an ML-ops azapi resource of type `kind`, or None when it is not one."""
    if kind.startswith(f"{ML}/featuresets/versions@"):
        settings = block(block(body, "properties"), "materializationSettings")
        if settings.get("schedule") is not None:
            spark = literal_text(block(settings, "resource").get("instanceType")) or \
                "a size set by an expression"
            return ResourceCost(resource.address, resource.type, unpriced_reason=(
                f"materializationSettings.schedule runs a serverless Spark materialization "
                f"job ({spark}) on every recurrence; no terraml record gives its hours per "
                "run (billed per vCPU-hour while it runs)"))
    if kind.startswith(FREE_AZAPI):
        return ResourceCost(resource.address, resource.type, free=True)
    properties = block(body, "properties")
    if kind.startswith(f"{ML}/computes@"):
        if literal_text(properties.get("computeType")) != "ComputeInstance":
            return None
        size = literal_text(block(properties, "properties").get("vmSize"))
        if not size:
            return ResourceCost(resource.address, resource.type, unpriced_reason=(
                "compute instance properties.properties.vmSize is an expression or missing"))
        return instance_cost(resource, ctx, size)
    if kind.startswith(f"{ML}/schedules@"):
        if monitoring_jobs(ctx.project):
            return ResourceCost(resource.address, resource.type, free=True)
        return ResourceCost(resource.address, resource.type, unpriced_reason=(
            "each run of the schedule is a job; no terraml monitoring_job record gives its "
            "machine, hours and runs (price the synthesized stack, cdktf.out)"))
    return None


SKU_NAMES = {"C": ("Basic", "Standard"), "P": ("Premium",)}


@pricer("azurerm_redis_cache")
def redis_cache(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """The cache's SKU (`sku_name` + `family` + `capacity`, e.g. Basic C0) bills every hour it
    exists, idle or not (the managed feature store's online store); Premium x shards."""
    sku = literal_text(resource.values.get("sku_name"))
    family = literal_text(resource.values.get("family"))
    capacity = literal_int(resource.values.get("capacity"), -1)
    name = f"{sku} {family}{capacity}" if sku and family and capacity >= 0 else ""
    idle = f"Azure Cache for Redis ({name or 'size set by an expression'}) bills every hour " \
        "it exists, idle or not"
    if not name or sku not in SKU_NAMES.get(family, ()):
        return ResourceCost(resource.address, resource.type, idle_billing=idle,
                            unpriced_reason="sku_name, family and capacity are not a literal "
                                            "Basic/Standard C or Premium P size")
    price = ctx.price(resource, "azure-cache-for-redis", name)
    if price is None:
        return ResourceCost(resource.address, resource.type, idle_billing=idle, unpriced_reason=(
            f"no sourced Azure Cache for Redis {name} price in the catalog (billed per hour "
            f"while it exists: {HOURS_PER_MONTH:g} h/month)"))
    shards = max(literal_int(resource.values.get("shard_count"), 1), 1) if sku == "Premium" \
        else 1
    return ResourceCost(resource.address, resource.type, [component(
        f"Redis cache ({name}{f' x{shards} shards' if shards > 1 else ''})", "hours",
        HOURS_PER_MONTH * shards, price)], idle_billing=idle)
