"""GCP pricers for the production ML-ops layers: Vertex AI Workbench instances, the Vertex AI
Feature Store (online store, feature views, feature groups) and the BigQuery tables of its
offline store. Drift monitoring runs are priced from terraml's record
(cost/pricers/monitoring.py). A dimension without a catalog row is never priced with another
SKU's figure: it is named, on the resource (unpriced) or, for a notebook's disk, on the priced
machine's line."""

from __future__ import annotations

import re

from cost.inputs import Resource
from cost.machine_rates import NoRate, machine_rate
from cost.model import HOURS_PER_MONTH, CostComponent, ResourceCost
from cost.pricers import (
    PricingContext,
    block,
    blocks,
    component,
    free,
    literal_int,
    literal_number,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)
from cost.pricers.notebooks import disk_note, running_hours

free(
    # A feature group registers a BigQuery source and its features name columns: metadata only
    # (the data is billed by BigQuery, the online serving by the online store).
    "google_vertex_ai_feature_group", "google_vertex_ai_feature_group_feature",
    # An IAM binding on the offline store's dataset.
    "google_bigquery_dataset_iam_member",
)

ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")
DISK_SKU = {"PD_STANDARD": "persistent disk standard", "PD_SSD": "persistent disk SSD",
            "PD_BALANCED": "persistent disk balanced", "PD_EXTREME": "persistent disk extreme"}
MANAGEMENT_FEE = ("the Vertex AI Workbench management fee (billed while the instance runs) has "
                  "no sourced figure in the catalog: not included")


def _region(resource: Resource, ctx: PricingContext) -> str:
    location = ctx.region(resource)
    match = ZONE.match(location)
    return match.group(1) if match else location


def _disks(setup: dict) -> list[tuple[str, dict]]:
    found = [("boot disk", d) for d in blocks(setup, "boot_disk")]
    return found + [("data disk", d) for d in blocks(setup, "data_disks")]


@pricer("google_workbench_instance")
def workbench_instance(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """The machine at its Compute Engine rate for the running hours (usage `monthly_hours`, else
    notebooks.hours_per_month), plus each persistent disk all month (stopped instances keep
    paying for disks). GPUs attached to a Workbench instance are not priced (unpriced)."""
    setup = block(resource.values, "gce_setup")
    machine = literal_text(setup.get("machine_type"))
    if not machine:
        return unpriced(resource, "gce_setup.machine_type is not a literal machine type")
    if blocks(setup, "accelerator_configs"):
        return unpriced(resource, "GPUs on a Workbench instance are not priced")
    region = _region(resource, ctx)
    try:
        parts = machine_rate(ctx.catalog, "gcp", "notebook", machine, region)
    except NoRate as missing:
        return unpriced(resource, f"{missing} in {region}")
    hours, source = running_hours(resource, ctx)
    missing: list[str] = []
    disks = []
    for what, disk in _disks(setup):
        size = literal_number(disk.get("disk_size_gb"))
        kind = literal_text(disk.get("disk_type")).upper()
        price = ctx.catalog.price("gcp", "compute-engine-disk", DISK_SKU.get(kind, ""), region,
                                  "storage") if kind else None
        if size is None or price is None:
            why = "disk_size_gb not set" if size is None else \
                f"no sourced {kind} price" if kind else "disk_type not set"
            missing.append(f"{what}: {why}")
            continue
        disks.append(component(f"Workbench {what} ({kind})", "GB", size, price,
                               "billed all month, also while stopped"))
    notes = [source, MANAGEMENT_FEE] + ([disk_note("; ".join(missing), "no figure")]
                                        if missing else [])
    cost = ResourceCost(resource.address, resource.type, [component(
        f"Workbench instance ({part.label})", "hours", hours * part.quantity, part.price,
        "; ".join(n for n in notes if n), part.stand_in) for part in parts])
    cost.components += disks
    return cost


@pricer("google_vertex_ai_feature_online_store")
def feature_online_store(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Bigtable online serving: node-hours all month (the autoscaling minimum), billed while
    idle; Optimized online serving: billed while idle too. Without a sourced rate: unpriced,
    still marked as billed while idle for the always_on_in_dev guardrail."""
    bigtable = block(resource.values, "bigtable")
    if bigtable:
        nodes = literal_int(block(bigtable, "auto_scaling").get("min_node_count"), 1)
        idle = (f"Vertex AI Feature Store Bigtable online store ({nodes} node"
                f"{'s' if nodes > 1 else ''}) bills node-hours all month, idle or not")
        price = ctx.price(resource, "vertex-ai-feature-store", "Bigtable online serving node")
        if price is None:
            return ResourceCost(resource.address, resource.type, idle_billing=idle,
                                unpriced_reason=(
                                    "no sourced Vertex AI Feature Store Bigtable online serving "
                                    f"node-hour price in the catalog ({nodes} x "
                                    f"{HOURS_PER_MONTH:g} node-hours/month)"))
        return ResourceCost(resource.address, resource.type, [component(
            f"Bigtable online serving nodes (x{nodes})", "hours", nodes * HOURS_PER_MONTH,
            price, "autoscaling minimum, all month")], idle_billing=idle)
    idle = "Vertex AI Feature Store Optimized online store bills all month, idle or not"
    return ResourceCost(resource.address, resource.type, idle_billing=idle, unpriced_reason=(
        "no sourced Vertex AI Feature Store Optimized online serving price in the catalog"))


@pricer("google_vertex_ai_feature_online_store_featureview")
def feature_view(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """A feature view's syncs from BigQuery into the online store are billed as Vertex AI Feature
    Store data processing; without a sourced figure: unpriced."""
    price = ctx.price(resource, "vertex-ai-feature-store", "data processing node")
    if price is None:
        return unpriced(resource, "its syncs into the online store are billed as Vertex AI "
                                  "Feature Store data processing; no sourced figure in the "
                                  "catalog")
    hours = ctx.usage(resource, "monthly_sync_hours")
    return ResourceCost(resource.address, resource.type, [component(
        "Feature view syncs (data processing)", "hours", hours, price,
        usage_note(hours, "monthly_sync_hours"))])


NO_STORAGE = {  # a table of these kinds keeps no data of its own in BigQuery storage
    "view": "a view stores nothing in BigQuery: it reads its source tables",
    "external_data_configuration": "an external table's data stays in its bucket, priced "
                                   "there",
}


def _native(resource: Resource) -> bool:
    """A table holding its own rows (not a view, materialized view or external table)."""
    return not any(blocks(resource.values, kind) for kind in (*NO_STORAGE, "materialized_view"))


@pricer("google_bigquery_table")
def bigquery_table(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Active logical storage of the table: usage `storage_gb`, else, for a native table, the
    feature store's `features.offline_stored_gb` split evenly across the project's native
    tables (a terraml stack's tables are its offline feature store). A view or an external
    table stores nothing in BigQuery: $0 with the reason. A materialized view stores its
    results (billed): usage `storage_gb` only. Queries are priced on the dataset (usage)."""
    for kind, why in NO_STORAGE.items():
        if blocks(resource.values, kind):
            return ResourceCost(resource.address, resource.type, [CostComponent(
                "Storage (active, logical)", "GB", 0, 0.0, note=why)])
    price = ctx.price(resource, "bigquery", "active logical storage", "storage")
    if price is None:
        return unpriced(resource, f"no BigQuery storage price for {ctx.region(resource)}")
    gb = ctx.usage(resource, "storage_gb")
    note = ""
    stored = (ctx.project.usage.get("features") or {}).get("offline_stored_gb")
    if gb is None and stored is not None and _native(resource):
        tables = sum(1 for r in ctx.project.resources if r.type == resource.type and _native(r))
        gb = float(stored) / tables
        note = f"features.offline_stored_gb {stored:g} GB over {tables} native table(s)"
    return ResourceCost(resource.address, resource.type, [component(
        "Storage (active, logical)", "GB", gb, price, usage_note(gb, "storage_gb", note))])
