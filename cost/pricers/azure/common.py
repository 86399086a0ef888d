"""Shared by the Azure pricers: the known-free types and small quantity helpers."""

from __future__ import annotations

from cost.pricers import (
    free,
)

free("azurerm_resource_group", "azurerm_machine_learning_workspace",
     "azurerm_storage_container", "azurerm_role_assignment", "azurerm_role_definition",
     "azurerm_virtual_network",
     "azurerm_subnet", "azurerm_network_security_group", "azurerm_subnet_nat_gateway_association",
     "azurerm_subnet_network_security_group_association",
     "azurerm_nat_gateway_public_ip_association", "azurerm_consumption_budget_resource_group",
     "azurerm_management_lock", "azurerm_user_assigned_identity",
     "azurerm_storage_management_policy", "azurerm_monitor_diagnostic_setting",
     # Azure Monitor: "features enabled by default incur no charge: this includes activity log
     # collection and alerting" (Microsoft's Azure Monitor cost and usage article).
     "azurerm_monitor_activity_log_alert")

DAYS_PER_MONTH = 30  # registry and commitment-tier days, as Infracost counts them


def join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def per(quantity: float | None, unit: float) -> float | None:
    return None if quantity is None else quantity / unit

