"""AWS pricers: Athena workgroups and the Glue Data Catalog."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import ResourceCost
from cost.pricers import (
    MissingRow,
    PricingContext,
    need,
    pricer,
    unpriced,
)
from cost.pricers.aws.common import usage_component


@pricer("aws_athena_workgroup")
def athena_workgroup(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Data scanned by the workgroup's queries (usage `monthly_data_scanned_tb`)."""
    price = ctx.price(resource, "athena", "data scanned", "other")
    if price is None:
        return unpriced(resource, "no Athena price in the catalog")
    return ResourceCost(resource.address, resource.type, [usage_component(
        "Data scanned", "TB", ctx.usage(resource, "monthly_data_scanned_tb"), price,
        "monthly_data_scanned_tb")])


@pricer("aws_glue_catalog_database")
def glue_catalog_database(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Data Catalog objects stored (usage `monthly_objects`) and requests
    (`monthly_requests`); the account-level free tier is not subtracted."""
    objects = ctx.usage(resource, "monthly_objects")
    requests = ctx.usage(resource, "monthly_requests")
    try:
        return ResourceCost(resource.address, resource.type, [
            usage_component("Catalog storage", "100k objects",
                             None if objects is None else objects / 1e5,
                             need(ctx, resource, "glue", "Data Catalog storage", "storage"),
                             "monthly_objects"),
            usage_component("Catalog requests", "1M requests",
                             None if requests is None else requests / 1e6,
                             need(ctx, resource, "glue", "Data Catalog requests", "request"),
                             "monthly_requests"),
        ])
    except MissingRow as exc:
        return unpriced(resource, str(exc))

