"""Azure pricers: Azure ML compute clusters and compute instances (VM rates)."""

from __future__ import annotations

from cost.catalog import Price
from cost.inputs import Resource
from cost.machine_rates import NoRate, machine_rate
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    PricingContext,
    block,
    component,
    literal_number,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)
from cost.pricers.notebooks import disk_note, running_hours


def _vm_price(resource: Resource, ctx: PricingContext, size: str, purpose: str,
              low_priority: bool = False) -> Price:
    """The VM size's rate through the shared machine rates (raises `NoRate`)."""
    (part,) = machine_rate(ctx.catalog, "azure", purpose, size, ctx.region(resource),
                           spot=low_priority)
    return part.price


@pricer("azurerm_machine_learning_compute_cluster")
def compute_cluster(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Minimum nodes run all month at the VM rate (dedicated pay-as-you-go or low-priority);
    job node-hours come from usage `monthly_node_hours`."""
    size = literal_text(resource.values.get("vm_size"))
    if not size:
        return unpriced(resource, "vm_size is not a literal VM size")
    priority = literal_text(resource.values.get("vm_priority"), "?")
    if priority not in ("Dedicated", "LowPriority"):
        return unpriced(resource, f"vm_priority {priority!r} is not Dedicated or LowPriority")
    low = priority == "LowPriority"
    label = "low-priority" if low else "dedicated"
    try:
        price = _vm_price(resource, ctx, size, "training", low)
    except NoRate as missing:
        return unpriced(resource, f"{missing} in {ctx.region(resource)}")
    raw = block(resource.values, "scale_settings").get("min_node_count")
    minimum = literal_number(0 if raw is None else raw)
    note = "scales to zero"
    if minimum is None:
        minimum, note = 0, f"min_node_count is an expression ({raw}): priced as 0 always-on nodes"
    minimum = int(minimum)
    if minimum:
        note = ""
    cost = ResourceCost(resource.address, resource.type)
    cost.components.append(component(f"Always-on nodes ({size} x{minimum}, {label})", "hours",
                                     HOURS_PER_MONTH * minimum, price, note))
    burst = ctx.usage(resource, "monthly_node_hours")
    cost.components.append(component(f"Job node-hours ({size}, {label})", "hours", burst, price,
                                     usage_note(burst, "monthly_node_hours")))
    return cost


OS_DISK = "P10 LRS"  # every compute instance's OS disk: Azure ML fixes its type


@pricer("azurerm_machine_learning_compute_instance")
def compute_instance(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """The instance's VM at the pay-as-you-go rate for its running hours (usage `monthly_hours`,
    else the stack's notebooks.hours_per_month, else 730)."""
    size = literal_text(resource.values.get("virtual_machine_size"))
    if not size:
        return unpriced(resource, "virtual_machine_size is not a literal VM size")
    return instance_cost(resource, ctx, size)


def instance_cost(resource: Resource, ctx: PricingContext, size: str) -> ResourceCost:
    """A compute instance of VM `size`: its running hours at the VM rate, and the P10 OS disk
    every compute instance carries (Azure offers no other), billed all month, also while the
    instance is stopped; named as not priced where the catalog has no P10 figure."""
    try:
        price = _vm_price(resource, ctx, size, "notebook")
    except NoRate as missing:
        return unpriced(resource, f"{missing} in {ctx.region(resource)}")
    hours, source = running_hours(resource, ctx)
    disk = ctx.price(resource, "managed-disks", OS_DISK, "storage")
    missing = "" if disk is not None else disk_note(
        f"the compute instance's {OS_DISK} OS disk",
        f"no sourced {OS_DISK} managed disk price for {ctx.region(resource)}")
    lines = [component(f"Compute instance ({size})", "hours", hours, price,
                       "; ".join(n for n in (source, missing) if n))]
    if disk is not None:
        lines.append(component(f"OS disk ({OS_DISK}, 128 GiB premium SSD)", "disk-months", 1,
                               disk, "billed all month, also while the instance is stopped; "
                               "Azure fixes this disk, so notebooks.disk_gb does not apply"))
    return ResourceCost(resource.address, resource.type, lines)
