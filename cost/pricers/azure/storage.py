"""Azure pricers: storage accounts (kind, tier, replication, access tier, HNS) and container registries."""

from __future__ import annotations

from typing import Any

from cost.inputs import Resource
from cost.model import ResourceCost
from cost.pricers import (
    PricingContext,
    blocks,
    component,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)
from cost.pricers.azure.common import DAYS_PER_MONTH, per

BLOB_KINDS = {"StorageV2", "BlobStorage", "BlockBlobStorage"}


REPLICATION = {"LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"}


OPERATIONS = (("write operations", "monthly_write_operations"),
              ("list and create container operations",
               "monthly_list_and_create_container_operations"),
              ("read operations", "monthly_read_operations"),
              ("all other operations", "monthly_other_operations"))


def _storage_service(kind: str, tier: str, hns: bool) -> tuple[str, str] | str:
    """(service, sku prefix) of the capacity meter, or the reason it has none."""
    if kind == "FileStorage":
        return "azure-files", tier
    if kind == "Storage":
        return "storage-v1", tier
    if kind not in BLOB_KINDS:
        return f"account_kind {kind!r} is not a known kind"
    if tier == "Premium" and kind != "BlockBlobStorage":
        return f"Premium {kind} accounts hold page blobs, which are not priced"
    return ("adls-gen2" if hns else "blob-storage"), tier


@pricer("azurerm_storage_account")
def storage_account(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Capacity (usage `storage_gb`, else the project's `storage_gb_per_bucket`) for the
    account's kind, tier, replication, access tier and hierarchical namespace, plus operations
    (Infracost usage keys, per 10k) where the catalog has that combination's operation rates."""
    values = resource.values
    kind = literal_text(values.get("account_kind"), "?") if "account_kind" in values \
        else "StorageV2"
    tier = literal_text(values.get("account_tier"), "?")
    replication = literal_text(values.get("account_replication_type"), "?")
    if tier not in ("Standard", "Premium"):
        return unpriced(resource, f"account_tier {values.get('account_tier')!r} is not a "
                                  "literal Standard or Premium")
    if replication not in REPLICATION:
        return unpriced(resource, f"account_replication_type "
                                  f"{values.get('account_replication_type')!r} is not a literal "
                                  f"{'/'.join(sorted(REPLICATION))}")
    hns = values.get("is_hns_enabled")
    if isinstance(hns, str):
        return unpriced(resource, "is_hns_enabled is an expression: ADLS Gen2 and blob rates "
                                  "differ")
    found = _storage_service(kind, tier, bool(hns))
    if isinstance(found, str):
        return unpriced(resource, found)
    service, prefix = found
    if tier == "Standard":
        access = literal_text(values.get("access_tier"), "?") if "access_tier" in values \
            else "Hot"
        if access not in ("Hot", "Cool", "Cold"):
            return unpriced(resource, f"access_tier {access!r} is not Hot, Cool or Cold")
        prefix = access
    sku = f"{prefix} {replication}"
    label = f"{service} {sku} (account_kind {kind}, account_tier {tier})"
    price = ctx.price(resource, service, f"{sku} capacity", "storage")
    if price is None:
        return unpriced(resource, f"no capacity price for {label} in {ctx.region(resource)}")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("storage_gb_per_bucket"))
    cost = ResourceCost(resource.address, resource.type)
    cost.components.append(component(f"Capacity ({sku}, {kind})", "GB", gb, price,
                                     usage_note(gb, "storage_gb")))
    for name, key in OPERATIONS:
        rate = ctx.price(resource, service, f"{sku} {name}", "request")
        count = ctx.usage(resource, key)
        if rate is None:
            if count is not None:
                return unpriced(resource, f"{key} is set but there is no {name} price for "
                                          f"{label} in {ctx.region(resource)}")
            continue
        cost.components.append(component(name.capitalize(), "10k operations",
                                         per(count, 10_000), rate, usage_note(count, key)))
    return cost


ACR_SKU = {"Basic": ("Basic (includes 10 GB)", 10), "Standard": ("Standard (includes 100 GB)", 100),
           "Premium": ("Premium (includes 500 GB)", 500)}


def _replica_count(values: dict[str, Any]) -> int | None:
    """Geo-replicas: `georeplications` blocks (azurerm 3+) or `georeplication_locations`."""
    replicas = blocks(values, "georeplications")
    legacy = values.get("georeplication_locations")
    if isinstance(legacy, str):
        return None
    return len(replicas) + (len(legacy) if isinstance(legacy, list) else 0)


@pricer("azurerm_container_registry")
def container_registry(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Registry days at the SKU's rate, each geo-replica at the registry's Premium rate, and
    storage above the SKU's included amount (usage `storage_gb`)."""
    sku = literal_text(resource.values.get("sku"), "?")
    if sku not in ACR_SKU:
        return unpriced(resource, f"sku {sku!r} is not Basic, Standard or Premium")
    catalog_sku, included = ACR_SKU[sku]
    price = ctx.price(resource, "container-registry", catalog_sku, "other")
    if price is None:
        return unpriced(resource, f"no Container Registry price for {sku} in "
                                  f"{ctx.region(resource)}")
    cost = ResourceCost(resource.address, resource.type,
                        [component(f"Registry ({sku})", "days", DAYS_PER_MONTH, price)])
    replicas = _replica_count(resource.values)
    if replicas is None:
        return unpriced(resource, "georeplication_locations is an expression: replica count "
                                  "unknown")
    if replicas:
        if sku != "Premium":
            return unpriced(resource, f"geo-replication needs Premium; sku is {sku}")
        cost.components.append(component(f"Geo-replicas ({replicas}, Premium rate)", "days",
                                         DAYS_PER_MONTH * replicas, price,
                                         "each replica billed at the Premium registry rate"))
    gb = ctx.usage(resource, "storage_gb")
    if gb is not None and gb > included:
        over = ctx.price(resource, "container-registry", "storage above included amount",
                         "storage")
        if over is not None and not over.fallback:
            cost.components.append(component(f"Storage above {included} GB", "GB",
                                             gb - included, over))
        elif sku == "Basic" and (daily := ctx.price(
                resource, "container-registry", "Basic storage above included 10 GB",
                "storage")) is not None:
            cost.components.append(component(f"Storage above {included} GB", "GB-days",
                                             (gb - included) * DAYS_PER_MONTH, daily))
        else:
            return unpriced(resource, f"no storage-overage price for {sku} in "
                                      f"{ctx.region(resource)}")
    return cost

