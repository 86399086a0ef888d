"""GCP pricers: one function per Terraform type, each pricing the billable dimensions of its
type from cost/catalog/gcp.csv. A dimension without a catalog row makes the resource
unpriced with a reason naming it; it is never priced with another SKU's figure. Machines
(Vertex AI, Compute Engine) are priced in cost/machine_rates/gcp.py."""

from __future__ import annotations

import re

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    PricingContext,
    block,
    blocks,
    component,
    free,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)

free("google_project_service", "google_compute_network", "google_compute_router",
     "google_service_account", "google_project_iam_member", "google_storage_bucket_iam_member",
     "google_kms_key_ring", "google_kms_crypto_key_iam_member",
     "google_artifact_registry_repository_iam_member", "google_monitoring_notification_channel",
     "google_billing_budget", "google_compute_firewall", "google_service_networking_connection",
     "google_service_account_iam_member")


MULTI_REGIONS = {"us", "eu", "asia"}
DUAL_REGIONS = {"nam4", "eur4", "eur5", "eur7", "eur8", "asia1"}
STORAGE_CLASSES = {"STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE", "MULTI_REGIONAL", "REGIONAL"}


def _location_type(resource: Resource, location: str) -> str:
    if block(resource.values, "custom_placement_config") or location in DUAL_REGIONS:
        return "dual-region"
    return "multi-region" if location in MULTI_REGIONS else "region"


@pricer("google_storage_bucket")
def storage_bucket(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Storage (GB-month) by storage class x location type, plus class A / class B operations
    (per 10k) where the catalog has them; no row for the class/location: unpriced."""
    storage_class = literal_text(resource.values.get("storage_class"), "STANDARD").upper()
    if storage_class not in STORAGE_CLASSES:
        return unpriced(resource, f"storage_class {storage_class or 'expression'} is not known")
    location = ctx.region(resource)
    if not location:
        return unpriced(resource, "bucket location is an expression")
    kind = _location_type(resource, location)
    price = ctx.price(resource, "cloud-storage", f"{storage_class} storage ({kind})", "storage")
    if price is None or (price.fallback and kind != "region"):
        return unpriced(resource, f"no Cloud Storage price for {storage_class} in {kind} "
                                  f"{location}")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("storage_gb_per_bucket"))
    cost = ResourceCost(resource.address, resource.type, [component(
        f"Storage ({storage_class.lower()}, {kind})", "GB", gb, price,
        usage_note(gb, "storage_gb"))])
    for op, key in (("A", "monthly_class_a_operations"), ("B", "monthly_class_b_operations")):
        count = ctx.usage(resource, key)
        op_price = ctx.price(resource, "cloud-storage",
                             f"class {op} operations ({storage_class}, {kind})", "request")
        if op_price is None or op_price.fallback:
            if count:
                return unpriced(resource, f"no class {op} operations price for {storage_class} "
                                          f"in {kind} {location}")
            continue
        cost.components.append(component(
            f"Class {op} operations", "10k operations", None if count is None else count / 10_000,
            op_price, usage_note(count, key)))
    return cost


def _attribute(values: dict, key: str, default: str) -> str:
    """An upper-cased literal attribute: `default` when unset, "" when an expression."""
    value = values.get(key)
    return default if value in (None, "") else literal_text(value).upper()


ASYMMETRIC_HIGH = re.compile(r"RSA_[A-Z_]*(3072|4096)|^EC_")


def _rotation_days(value: object) -> float | None:
    text = literal_text(value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", text)
    return float(match.group(1)) / 86_400 if match else None


@pricer("google_kms_crypto_key")
def kms_crypto_key(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Active key versions by protection level (SOFTWARE, HSM symmetric/RSA-2048 vs HSM
    RSA-3072/4096/EC, EXTERNAL) and cryptographic operations (per 10k, usage)."""
    template = block(resource.values, "version_template")
    level = _attribute(template, "protection_level", "SOFTWARE")
    algorithm = _attribute(template, "algorithm", "GOOGLE_SYMMETRIC_ENCRYPTION")
    if level == "SOFTWARE":
        version_sku, ops_sku = "active key version (SOFTWARE protection)", \
            "cryptographic operations (SOFTWARE; HSM AES/RSA-2048)"
    elif level == "HSM":
        if not algorithm:
            return unpriced(resource, "HSM key algorithm is an expression")
        if ASYMMETRIC_HIGH.search(algorithm):
            version_sku, ops_sku = "active key version (HSM, RSA-3072/4096/EC, first 2,000)", \
                "cryptographic operations (HSM RSA-3072/4096/EC)"
        else:
            version_sku, ops_sku = "active key version (HSM, AES-256/RSA-2048)", \
                "cryptographic operations (SOFTWARE; HSM AES/RSA-2048)"
    elif level == "EXTERNAL":
        version_sku, ops_sku = "active key version (EXTERNAL)", "cryptographic operations (EXTERNAL)"
    else:
        return unpriced(resource, f"no Cloud KMS price for protection level {level or 'expression'}")
    version_price = ctx.price(resource, "cloud-kms", version_sku, "other")
    ops_price = ctx.price(resource, "cloud-kms", ops_sku, "request")
    if version_price is None or ops_price is None:
        missing = "key version" if version_price is None else "cryptographic operation"
        return unpriced(resource, f"no Cloud KMS {missing} price for {level} keys")
    days = _rotation_days(resource.values.get("rotation_period"))
    versions = 1 if not days else 1 + int(365 // days)
    note = ("rotation_period adds a version each period and versions accumulate unless "
            f"destroyed: {versions} versions = 1 + versions created in the first 365 days; "
            "set key_versions to override") if days else "one version (no rotation_period)"
    override = ctx.usage(resource, "key_versions")
    if override is not None:
        versions, note = override, "key_versions from usage"
    ops = ctx.usage(resource, "monthly_key_operations")
    return ResourceCost(resource.address, resource.type, [
        component(f"Active key versions ({level.lower()})", "months", versions, version_price,
                  note),
        component("Cryptographic operations", "10k operations",
                  None if ops is None else ops / 10_000, ops_price,
                  usage_note(ops, "monthly_key_operations")),
    ])


@pricer("google_artifact_registry_repository")
def artifact_registry(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Stored GB (the 0.5 GB free tier is per billing account, like every account-level free
    tier it is not subtracted per resource); a remote repository's cache is stored and billed
    alike; a virtual repository stores nothing (free)."""
    mode = literal_text(resource.values.get("mode"), "STANDARD_REPOSITORY").upper()
    if mode == "VIRTUAL_REPOSITORY":
        return ResourceCost(resource.address, resource.type, free=True)
    price = ctx.price(resource, "artifact-registry", "storage (over 0.5 GB free)", "storage")
    if price is None:
        return unpriced(resource, "no Artifact Registry storage price")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("registry_gb_per_repository"))
    label = "Cached image storage (remote)" if mode == "REMOTE_REPOSITORY" else "Image storage"
    return ResourceCost(resource.address, resource.type, [component(
        label, "GB", gb, price,
        usage_note(gb, "storage_gb", "0.5 GB free per billing account, not subtracted"))])


@pricer("google_compute_router_nat")
def router_nat(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Gateway: per assigned VM-hour, capped at 32 VMs; data processed per GB (usage)."""
    vms = ctx.usage(resource, "assigned_vms")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    per_vm = ctx.price(resource, "cloud-nat", "assigned VM (first 32 VMs)")
    data = ctx.price(resource, "cloud-nat", "data processed", "other")
    if per_vm is None or data is None:
        return unpriced(resource, f"no Cloud NAT price for {ctx.region(resource)}")
    return ResourceCost(resource.address, resource.type, [
        component("NAT gateway (per assigned VM, max 32)", "VM-hours",
                  None if vms is None else min(vms, 32) * HOURS_PER_MONTH, per_vm,
                  usage_note(vms, "assigned_vms")),
        component("Data processed", "GB", gb, data, usage_note(gb, "monthly_data_processed_gb")),
    ])


@pricer("google_compute_address", "google_compute_global_address")
def compute_address(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """External static IPv4: hourly, unused (reserved) rate unless usage `in_use_by` says
    `standard` or `spot`. Internal addresses and private-service ranges are free."""
    address_type = literal_text(resource.values.get("address_type"), "EXTERNAL").upper()
    purpose = literal_text(resource.values.get("purpose")).upper()
    if address_type == "INTERNAL" or purpose in ("VPC_PEERING", "PRIVATE_SERVICE_CONNECT"):
        return ResourceCost(resource.address, resource.type, free=True)
    if literal_text(resource.values.get("ip_version")).upper() == "IPV6":
        return unpriced(resource, "no price for a static external IPv6 address")
    in_use = str(ctx.usage(resource, "in_use_by", "")).lower()
    sku = {"standard": "static external IPv4 (in use, standard VM)",
           "spot": "static external IPv4 (in use, spot/preemptible VM)"}.get(
        in_use, "static external IPv4 (unused)")
    price = ctx.price(resource, "compute-engine", sku)
    if price is None:
        return unpriced(resource, f"no {sku} price")
    note = "" if in_use in ("standard", "spot") else \
        "priced as reserved but unattached; set in_use_by: standard|spot"
    return ResourceCost(resource.address, resource.type, [component(
        "Static external IP address", "hours", HOURS_PER_MONTH, price, note)])


@pricer("google_compute_subnetwork")
def subnetwork(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """A subnet is free; with `log_config` it generates VPC Flow Logs, which are billed
    (no catalog figure yet: unpriced rather than $0)."""
    if block(resource.values, "log_config"):
        return unpriced(resource, "VPC Flow Logs (log_config) have no catalog price")
    return ResourceCost(resource.address, resource.type, free=True)


@pricer("google_bigquery_dataset")
def bigquery_dataset(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Storage by billing model (logical/physical) x active/long-term GB, and on-demand
    queries per TB (usage: storage_gb, long_term_storage_gb, monthly_queries_tb)."""
    model = literal_text(resource.values.get("storage_billing_model"), "LOGICAL").upper() \
        or "LOGICAL"
    if model not in ("LOGICAL", "PHYSICAL"):
        return unpriced(resource, f"storage_billing_model {model} is not known")
    cost = ResourceCost(resource.address, resource.type)
    for tier, key in (("active", "storage_gb"), ("long-term", "long_term_storage_gb")):
        price = ctx.price(resource, "bigquery", f"{tier} {model.lower()} storage", "storage")
        if price is None:
            return unpriced(resource, f"no BigQuery {tier} {model.lower()} storage price for "
                                      f"{ctx.region(resource)}")
        gb = ctx.usage(resource, key)
        cost.components.append(component(f"Storage ({tier}, {model.lower()})", "GB", gb, price,
                                         usage_note(gb, key)))
    queries = ctx.price(resource, "bigquery", "on-demand queries", "request")
    if queries is None:
        return unpriced(resource, f"no BigQuery query price for {ctx.region(resource)}")
    tb = ctx.usage(resource, "monthly_queries_tb")
    cost.components.append(component("Queries (on-demand)", "TB", tb, queries,
                                     usage_note(tb, "monthly_queries_tb")))
    return cost


@pricer("google_monitoring_alert_policy")
def alert_policy(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Alerting: per condition per month (each `conditions` block)."""
    conditions = max(len(blocks(resource.values, "conditions")), 1)
    price = ctx.price(resource, "cloud-monitoring", "alerting policy condition", "other")
    if price is None:
        return unpriced(resource, "no alerting condition price")
    return ResourceCost(resource.address, resource.type, [component(
        "Alerting policy conditions", "condition-months", conditions, price)])


@pricer("google_vertex_ai_tensorboard")
def tensorboard(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Vertex AI TensorBoard bills the data it stores, per GiB-month (nothing while empty, so it
    is not billed while idle); usage key `storage_gb`. Without a sourced figure: unpriced."""
    price = ctx.price(resource, "vertex-ai-tensorboard", "storage", "storage")
    if price is None:
        return unpriced(resource, "no sourced Vertex AI TensorBoard storage price in the catalog "
                                  "(it bills the experiment data it stores, per GiB-month)")
    stored = ctx.usage(resource, "storage_gb")
    return ResourceCost(resource.address, resource.type, [component(
        "TensorBoard storage", "GiB", stored, price, usage_note(stored, "storage_gb"))])


@pricer("google_logging_metric")
def logging_metric(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """A user-defined log-based metric is a chargeable Cloud Monitoring metric: ingestion per
    MiB (usage key `monthly_ingested_mib`; the free allotment per billing account is not
    subtracted)."""
    price = ctx.price(resource, "cloud-monitoring", "metrics ingestion (first 100,000 MiB tier)",
                      "other")
    if price is None:
        return unpriced(resource, "no Cloud Monitoring metrics ingestion price")
    mib = ctx.usage(resource, "monthly_ingested_mib")
    return ResourceCost(resource.address, resource.type, [component(
        "Metric ingestion", "MiB", mib, price, usage_note(mib, "monthly_ingested_mib"))])
