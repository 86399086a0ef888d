"""AWS pricers: S3 buckets (storage classes, requests) and ECR repositories."""

from __future__ import annotations

from typing import Any

from cost.inputs import Resource
from cost.model import CostComponent, ResourceCost
from cost.pricers import (
    MissingRow,
    PricingContext,
    component,
    need,
    pricer,
    unpriced,
)
from cost.pricers.aws.common import usage_component

# (usage prefix, label, storage sku, PUT/LIST sku, GET sku); Standard is handled apart.
S3_CLASSES = (
    ("intelligent_tiering", "Intelligent-Tiering",
     "Intelligent-Tiering frequent access storage (first 50 TB)", "Intelligent-Tiering", None),
    ("standard_infrequent_access", "Standard-IA", "Standard-IA storage", "Standard-IA",
     "Standard-IA"),
    ("one_zone_infrequent_access", "One Zone-IA", "One Zone-IA storage", "One Zone-IA",
     "One Zone-IA"),
    ("glacier_instant_retrieval", "Glacier Instant Retrieval", "Glacier Instant Retrieval storage",
     "Glacier Instant Retrieval", "Glacier Instant Retrieval"),
    ("glacier_flexible_retrieval", "Glacier Flexible Retrieval",
     "Glacier Flexible Retrieval storage", "Glacier Flexible Retrieval",
     "Glacier Flexible Retrieval"),
    ("glacier_deep_archive", "Glacier Deep Archive", "Glacier Deep Archive storage",
     "Glacier Deep Archive", "Glacier Deep Archive"),
)


# Intelligent-Tiering's other access tiers: (usage key, label, sku)
S3_IT_TIERS = (
    ("infrequent_access_storage_gb", "infrequent access",
     "Intelligent-Tiering infrequent access storage"),
    ("archive_access_storage_gb", "archive access", "Intelligent-Tiering archive access storage"),
    ("deep_archive_access_storage_gb", "deep archive access",
     "Intelligent-Tiering deep archive access storage"),
)


FIRST_TIER_GB = 51_200  # the "first 50 TB" storage rows


# Glacier restores (standard / expedited / bulk) and early deletes: no catalog rows yet.
S3_RESTORE_KEYS = tuple(f"monthly_{speed}_data_retrieval_{what}"
                        for speed in ("standard", "expedited", "bulk")
                        for what in ("gb", "requests")) + ("early_delete_gb",)


def _requests(ctx: PricingContext, resource: Resource, label: str, count: float | None,
              sku_class: str | None, tier: int) -> CostComponent:
    if sku_class is None:
        raise MissingRow(f"{label} tier {tier} requests have no catalog row")
    name = ("PUT, COPY, POST, LIST requests" if tier == 1 else "GET, SELECT and other requests")
    price = need(ctx, resource, "s3", f"{name} ({sku_class})", "request")
    return component(f"{label} {name}", "1k requests", count / 1000, price)


def _storage(ctx: PricingContext, resource: Resource, name: str, sku: str, gb: float | None,
             key: str, tiered: bool) -> CostComponent:
    if tiered and gb is not None and gb > FIRST_TIER_GB:
        raise MissingRow(f"{name} above 50 TB/month (next tiers) has no catalog row")
    return usage_component(name, "GB", gb, need(ctx, resource, "s3", sku, "storage"), key)


@pricer("aws_s3_bucket")
def s3_bucket(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Storage per class (Infracost keys `<class>.storage_gb`, Intelligent-Tiering
    `*_access_storage_gb` and `monitored_objects`), tier 1/2 requests, lifecycle transitions
    and retrievals per class. Standard storage falls back to `storage_gb`, then the
    project's `storage_gb_per_bucket`."""
    def use(key: str) -> Any:
        return ctx.usage(resource, key)

    cost = ResourceCost(resource.address, resource.type)
    try:
        gb = ctx.usage(resource, ("standard.storage_gb", "storage_gb"),
                       ctx.project.usage.get("storage_gb_per_bucket"))
        cost.components.append(_storage(ctx, resource, "Standard storage",
                                        "Standard storage (first 50 TB)", gb, "storage_gb", True))
        for tier in (1, 2):
            key = f"monthly_tier_{tier}_requests"
            count = ctx.usage(resource, (f"standard.{key}", key))
            if count is not None:
                cost.components.append(_requests(ctx, resource, "Standard", count, "Standard",
                                                 tier))
        for prefix, label, sku, put_class, get_class in S3_CLASSES:
            storage_key = ("frequent_access_storage_gb" if prefix == "intelligent_tiering"
                           else "storage_gb")
            gb = use(f"{prefix}.{storage_key}")
            if gb is not None:
                cost.components.append(_storage(ctx, resource, f"{label} storage", sku, gb,
                                                f"{prefix}.{storage_key}",
                                                prefix == "intelligent_tiering"))
            if prefix == "intelligent_tiering":
                for key, tier_label, tier_sku in S3_IT_TIERS:
                    tier_gb = use(f"{prefix}.{key}")
                    if tier_gb is not None:
                        cost.components.append(_storage(
                            ctx, resource, f"{label} storage ({tier_label})", tier_sku, tier_gb,
                            f"{prefix}.{key}", False))
                objects = use(f"{prefix}.monitored_objects")
                if objects is not None:
                    cost.components.append(component(
                        f"{label} monitoring and automation", "1k objects", objects / 1000,
                        need(ctx, resource, "s3", "Intelligent-Tiering monitoring and automation",
                              "other")))
            for tier, sku_class in ((1, put_class), (2, get_class)):
                count = use(f"{prefix}.monthly_tier_{tier}_requests")
                if count is not None:
                    cost.components.append(_requests(ctx, resource, label, count, sku_class,
                                                     tier))
            transitions = use(f"{prefix}.monthly_lifecycle_transition_requests")
            if transitions is not None:
                cost.components.append(component(
                    f"{label} lifecycle transitions", "1k requests", transitions / 1000,
                    need(ctx, resource, "s3", f"lifecycle transition requests ({label})",
                          "request")))
            retrieved = use(f"{prefix}.monthly_data_retrieval_gb")
            if retrieved is not None:
                cost.components.append(component(
                    f"{label} retrievals", "GB", retrieved,
                    need(ctx, resource, "s3", f"data retrieval ({label})", "other")))
            restores = [key for key in S3_RESTORE_KEYS if use(f"{prefix}.{key}") is not None]
            if restores:
                raise MissingRow(f"{label} {restores[0]} has no catalog row (Glacier restore "
                                 "tiers and early deletes are not modelled)")
    except MissingRow as exc:
        return unpriced(resource, str(exc))
    return cost


@pricer("aws_ecr_repository")
def ecr_repository(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Image storage (usage `storage_gb`, else the project's `registry_gb_per_repository`)."""
    price = need(ctx, resource, "ecr", "private repository storage", "storage")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("registry_gb_per_repository"))
    return ResourceCost(resource.address, resource.type, [
        usage_component("Image storage", "GB", gb, price, "storage_gb")])

