"""Azure pricers. VM rates come from the catalog's pay-as-you-go, spot and low-priority rows."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import PricingContext, component, free, pricer, unpriced

free("azurerm_resource_group", "azurerm_machine_learning_workspace",
     "azurerm_storage_container", "azurerm_role_assignment", "azurerm_virtual_network",
     "azurerm_subnet", "azurerm_network_security_group", "azurerm_monitor_action_group",
     "azurerm_monitor_metric_alert", "azurerm_consumption_budget_resource_group",
     "azurerm_management_lock", "azurerm_user_assigned_identity", "azurerm_key_vault_key",
     "azurerm_storage_management_policy", "azurerm_monitor_diagnostic_setting")


ACR_SKU = {"Basic": "Basic (includes 10 GB)", "Standard": "Standard (includes 100 GB)",
           "Premium": "Premium (includes 500 GB)"}



def _first(value):
    return value[0] if isinstance(value, list) and value else (value or {})


@pricer("azurerm_machine_learning_compute_cluster")
def compute_cluster(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Minimum nodes run all month; burst node-hours come from usage `monthly_node_hours`."""
    size = resource.values.get("vm_size", "")
    low = resource.values.get("vm_priority") == "LowPriority"
    scale = _first(resource.values.get("scale_settings"))
    minimum = int(scale.get("min_node_count", 0) or 0)
    price, note = None, ""
    if low:
        price = ctx.price(resource, "virtual-machines", f"{size} (low-priority)", "spot")
        if price is None:
            price = ctx.price(resource, "virtual-machines", size, "spot")
            note = "no low-priority figure: spot rate used"
    else:
        price = ctx.price(resource, "virtual-machines", size)
    if price is None:
        return unpriced(resource, f"no VM price for {size}")
    label = "low-priority" if low else "dedicated"
    cost = ResourceCost(resource.address, resource.type)
    cost.components.append(component(f"Always-on nodes ({size} x{minimum}, {label})", "hours",
                                     HOURS_PER_MONTH * minimum, price,
                                     note or ("scales to zero" if minimum == 0 else "")))
    burst = ctx.usage(resource, "monthly_node_hours")
    cost.components.append(component(f"Job node-hours ({size}, {label})", "hours", burst, price,
                                     "" if burst is not None else
                                     "usage-based: set monthly_node_hours"))
    return cost


@pricer("azurerm_machine_learning_compute_instance")
def compute_instance(resource: Resource, ctx: PricingContext) -> ResourceCost:
    size = resource.values.get("virtual_machine_size", "")
    price = ctx.price(resource, "virtual-machines", size)
    if price is None:
        return unpriced(resource, f"no VM price for {size}")
    hours = ctx.usage(resource, "monthly_hours", HOURS_PER_MONTH)
    return ResourceCost(resource.address, resource.type,
                        [component(f"Compute instance ({size})", "hours", hours, price)])


@pricer("azurerm_storage_account")
def storage_account(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "blob-storage", "Hot LRS capacity", "storage")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("storage_gb_per_bucket"))
    return ResourceCost(resource.address, resource.type, [component(
        "Blob capacity (hot LRS)", "GB", gb, price,
        "" if gb is not None else "usage-based: set storage_gb")])


@pricer("azurerm_container_registry")
def container_registry(resource: Resource, ctx: PricingContext) -> ResourceCost:
    sku = resource.values.get("sku", "Basic")
    price = ctx.price(resource, "container-registry", ACR_SKU.get(sku, sku), "other")
    if price is None:
        return unpriced(resource, f"no Container Registry price for {sku}")
    return ResourceCost(resource.address, resource.type,
                        [component(f"Registry ({sku})", "days", 30, price)])


@pricer("azurerm_key_vault")
def key_vault(resource: Resource, ctx: PricingContext) -> ResourceCost:
    operations = ctx.usage(resource, "monthly_operations")
    price = ctx.price(resource, "key-vault", "secrets operations (standard/premium)", "request")
    return ResourceCost(resource.address, resource.type, [component(
        "Secrets operations", "10k operations",
        None if operations is None else operations / 10_000, price,
        "" if operations is not None else "usage-based: set monthly_operations")])


@pricer("azurerm_log_analytics_workspace", "azurerm_application_insights")
def log_ingestion(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "log-analytics", "Analytics Logs data ingestion (PerGB2018)",
                      "other")
    note = ""
    if price is None or price.fallback:
        alternative = ctx.price(resource, "application-insights",
                                "data ingested (workspace-based / Log Analytics Analytics Logs)",
                                "other")
        if alternative is not None:
            price, note = alternative, "Application Insights ingestion rate (same meter)"
    if price is None:
        return unpriced(resource, "no log ingestion price")
    gb = ctx.usage(resource, "monthly_ingested_gb")
    return ResourceCost(resource.address, resource.type, [component(
        "Data ingestion", "GB", gb, price,
        note or ("" if gb is not None else "usage-based: set monthly_ingested_gb"))])
