"""GCP pricers. Vertex AI prediction rates are not in the catalog: endpoint replicas are
priced at the Compute Engine rate of the same machine (+ GPUs), stated as a floor."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import PricingContext, component, free, pricer, unpriced

free("google_project_service", "google_compute_network", "google_compute_subnetwork",
     "google_compute_router", "google_service_account", "google_project_iam_member",
     "google_storage_bucket_iam_member", "google_kms_key_ring", "google_kms_crypto_key_iam_member",
     "google_artifact_registry_repository_iam_member", "google_bigquery_dataset",
     "google_monitoring_notification_channel", "google_billing_budget",
     "google_compute_firewall")

def gpus_billed_separately(machine: str) -> bool:
    """A2, A3 and G2 machine rates include their GPUs; other machines bill GPUs apart."""
    return not machine.startswith(("a2-", "a3-", "g2-"))


GPU_SKU = {"NVIDIA_TESLA_T4": "NVIDIA_TESLA_T4", "NVIDIA_L4": "NVIDIA_L4",
           "NVIDIA_TESLA_A100": "NVIDIA_TESLA_A100 (40GB)", "NVIDIA_H100_80GB": "NVIDIA_H100_80GB"}



@pricer("google_storage_bucket")
def storage_bucket(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "cloud-storage", "Standard storage (regional)", "storage")
    if price is None:
        return unpriced(resource, f"no Cloud Storage price for {ctx.region(resource)}")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("storage_gb_per_bucket"))
    return ResourceCost(resource.address, resource.type, [component(
        "Standard storage", "GB", gb, price, "" if gb is not None else "usage-based: set storage_gb")])


@pricer("google_kms_crypto_key")
def kms_crypto_key(resource: Resource, ctx: PricingContext) -> ResourceCost:
    template = resource.values.get("version_template") or [{}]
    template = template[0] if isinstance(template, list) and template else template or {}
    hsm = template.get("protection_level") == "HSM"
    sku = "active key version (HSM, AES-256/RSA-2048)" if hsm else \
        "active key version (SOFTWARE protection)"
    versions = ctx.usage(resource, "key_versions", 1)
    return ResourceCost(resource.address, resource.type, [component(
        f"Active key versions ({'HSM' if hsm else 'software'})", "months", versions,
        ctx.price(resource, "cloud-kms", sku, "other"),
        "rotation adds a version each period; set key_versions for the count kept active")])


@pricer("google_artifact_registry_repository")
def artifact_registry(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "artifact-registry", "storage (over 0.5 GB free)", "storage")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("registry_gb_per_repository"))
    return ResourceCost(resource.address, resource.type, [component(
        "Image storage", "GB", gb, price,
        "first 0.5 GB free" if gb is not None else "usage-based: set storage_gb")])


@pricer("google_compute_router_nat")
def router_nat(resource: Resource, ctx: PricingContext) -> ResourceCost:
    vms = ctx.usage(resource, "assigned_vms")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    per_vm = ctx.price(resource, "cloud-nat", "assigned VM (first 32 VMs)")
    if per_vm is None:  # catalog lists the per-VM rate under vm_hour for us-central1 only
        per_vm = ctx.catalog.price("gcp", "cloud-nat", "assigned VM (first 32 VMs)",
                                   "us-central1", "on_demand")
    data = ctx.price(resource, "cloud-nat", "data processed", "other")
    return ResourceCost(resource.address, resource.type, [
        component("NAT gateway (per assigned VM, max 32)", "VM-hours",
                  None if vms is None else min(vms, 32) * HOURS_PER_MONTH, per_vm,
                  "" if vms is not None else "usage-based: set assigned_vms"),
        component("Data processed", "GB", gb, data,
                  "" if gb is not None else "usage-based: set monthly_data_processed_gb"),
    ])


@pricer("google_monitoring_alert_policy")
def alert_policy(resource: Resource, ctx: PricingContext) -> ResourceCost:
    conditions = max(len(resource.values.get("conditions") or []), 1)
    price = ctx.price(resource, "cloud-monitoring", "alerting policy condition", "other")
    return ResourceCost(resource.address, resource.type, [component(
        "Alerting policy conditions", "condition-months", conditions, price)])


free("google_compute_global_address", "google_service_networking_connection")
