"""AWS pricers: NAT gateways, public IPv4 addresses and VPC endpoints."""

from __future__ import annotations

from typing import Any

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    MissingRow,
    PricingContext,
    attribute,
    component,
    need,
    pricer,
    unpriced,
)
from cost.pricers.aws.common import usage_component


@pricer("aws_nat_gateway")
def nat_gateway(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Gateway hours and data processed (usage `monthly_data_processed_gb`). Its Elastic IP
    is priced on the aws_eip."""
    hourly = need(ctx, resource, "vpc-nat-gateway", "NAT gateway hour")
    data = need(ctx, resource, "vpc-nat-gateway", "NAT data processed", "other")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    return ResourceCost(resource.address, resource.type, [
        component("NAT gateway", "hours", HOURS_PER_MONTH, hourly),
        usage_component("Data processed", "GB", gb, data, "monthly_data_processed_gb"),
    ])


@pricer("aws_eip")
def elastic_ip(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """A public IPv4 address, billed per hour whether attached or idle."""
    price = ctx.price(resource, "vpc-public-ipv4", "public IPv4 address hour")
    if price is None:
        return unpriced(resource, "no public IPv4 price in the catalog")
    hours = ctx.usage(resource, "monthly_hours", HOURS_PER_MONTH)
    return ResourceCost(resource.address, resource.type,
                        [component("Public IPv4 address", "hours", hours, price)])


# Interface endpoint data tiers in GB per month (Infracost fixture: 1 PB = 1,000,000 GB).
ENDPOINT_TIERS = (
    (1_000_000, "first 1 PB", "data processed (first 1 PB/month/region)"),
    (4_000_000, "next 4 PB", "data processed (next 4 PB/month/region)"),
    (None, "over 5 PB", "data processed (over 5 PB/month/region)"),
)


def _zones(values: dict[str, Any]) -> tuple[int, str]:
    subnets = values.get("subnet_ids")
    if isinstance(subnets, list) and subnets:
        return len(subnets), ""
    if subnets:
        return 1, "subnet_ids is an expression: priced for 1 AZ"
    return 1, ""


@pricer("aws_vpc_endpoint")
def vpc_endpoint(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Gateway endpoints are free. Interface endpoints: hours per AZ (subnet) and tiered
    data processed; Gateway Load Balancer endpoints: hours per AZ and data processed
    (usage `monthly_data_processed_gb`)."""
    kind = attribute(resource.values, "vpc_endpoint_type", "Gateway")
    if not kind:
        return unpriced(resource, "vpc_endpoint_type is an expression")
    if kind == "Gateway":
        return ResourceCost(resource.address, resource.type, free=True)
    zones, zone_note = _zones(resource.values)
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    try:
        if kind == "GatewayLoadBalancer":
            return ResourceCost(resource.address, resource.type, [
                component(f"Gateway Load Balancer endpoint ({zones} AZ)", "hours",
                          HOURS_PER_MONTH * zones,
                          need(ctx, resource, "vpc-gwlb-endpoint", "endpoint hour (per AZ)"),
                          zone_note),
                usage_component("Data processed", "GB", gb,
                                 need(ctx, resource, "vpc-gwlb-endpoint", "data processed",
                                       "other"), "monthly_data_processed_gb"),
            ])
        if kind != "Interface":
            return unpriced(resource, f"no pricer for {kind} endpoints")
        service = "vpc-interface-endpoint"
        cost = ResourceCost(resource.address, resource.type, [component(
            f"Interface endpoint ({zones} AZ)", "hours", HOURS_PER_MONTH * zones,
            need(ctx, resource, service, "endpoint hour (per AZ)"), zone_note)])
        if gb is None:
            cost.components.append(usage_component(
                "Data processed", "GB", None,
                need(ctx, resource, service, ENDPOINT_TIERS[0][2], "other"),
                "monthly_data_processed_gb"))
            return cost
        remaining = float(gb)
        for size, label, sku in ENDPOINT_TIERS:
            used = remaining if size is None else min(remaining, size)
            if used <= 0:
                break
            cost.components.append(component(f"Data processed ({label})", "GB", used,
                                             need(ctx, resource, service, sku, "other")))
            remaining -= used
        return cost
    except MissingRow as exc:
        return unpriced(resource, str(exc))

