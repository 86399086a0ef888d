"""Azure pricers: NAT gateways and public IPs."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    PricingContext,
    component,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)


@pricer("azurerm_nat_gateway")
def nat_gateway(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Standard NAT gateway hours plus data processed (usage `monthly_data_processed_gb`)."""
    sku = literal_text(resource.values.get("sku_name"), "?") if "sku_name" in resource.values \
        else "Standard"
    if sku != "Standard":
        return unpriced(resource, f"sku_name {sku!r} is not Standard")
    hourly = ctx.price(resource, "nat-gateway", "Standard gateway hour")
    data = ctx.price(resource, "nat-gateway", "data processed", "other")
    if hourly is None or data is None:
        return unpriced(resource, f"no NAT gateway price in {ctx.region(resource)}")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    return ResourceCost(resource.address, resource.type, [
        component("NAT gateway", "hours", HOURS_PER_MONTH, hourly),
        component("Data processed", "GB", gb, data, usage_note(gb, "monthly_data_processed_gb")),
    ])


@pricer("azurerm_public_ip")
def public_ip(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Standard static IPv4 addresses, regional or global tier, per hour."""
    values = resource.values
    sku = literal_text(values.get("sku"), "?") if "sku" in values else "Standard"
    allocation = literal_text(values.get("allocation_method"), "?")
    tier = literal_text(values.get("sku_tier"), "?") if "sku_tier" in values else "Regional"
    version = literal_text(values.get("ip_version"), "?") if "ip_version" in values else "IPv4"
    if sku != "Standard" or allocation != "Static" or version != "IPv4":
        return unpriced(resource, f"only Standard static IPv4 addresses are priced (sku {sku}, "
                                  f"allocation_method {allocation}, ip_version {version})")
    if tier not in ("Regional", "Global"):
        return unpriced(resource, f"sku_tier {tier!r} is not Regional or Global")
    price = ctx.price(resource, "public-ip", f"Standard static IPv4 ({tier.lower()}) hour")
    if price is None:
        return unpriced(resource, f"no {tier.lower()} public IP price in {ctx.region(resource)}")
    return ResourceCost(resource.address, resource.type, [component(
        f"IP address (Standard static, {tier.lower()})", "hours", HOURS_PER_MONTH, price)])

