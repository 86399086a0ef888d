"""Monitoring (notifications, endpoint alarms, failed-job events) and budget layers."""

from __future__ import annotations

from core.props import BudgetProps, MonitoringProps
from modules.base import PlatformModule
from modules.layers import layer


@layer("monitoring", props=MonitoringProps, setting="monitoring", needs=("key",), uses=("serving",))
class Monitoring(PlatformModule):
    """Alerts channel with email recipients; latency/error alarms when an endpoint exists.
    Outputs: `alerts_topic`."""


@layer("budget", props=BudgetProps, setting="budget", needs=("monitoring",))
class Budget(PlatformModule):
    """Monthly budget, filtered to this environment, notifying at each threshold.
    Outputs: `budget_name`."""
