"""Monthly AWS Budgets cost budget filtered by the environment's cost-allocation tag."""

from __future__ import annotations

from cdktn_provider_aws.budgets_budget import (
    BudgetsBudget,
    BudgetsBudgetCostFilter,
    BudgetsBudgetNotification,
)
from constructs import Construct

from adapters.aws.refs import AwsMonitoringRefs
from adapters.base import Refs
from core.props import BudgetProps


def budget(scope: Construct, props: BudgetProps, monitoring: AwsMonitoringRefs) -> Refs:
    site, spec = props.site, props.budget
    notifications = [
        BudgetsBudgetNotification(
            comparison_operator="GREATER_THAN", threshold=percent,
            threshold_type="PERCENTAGE", notification_type="ACTUAL",
            subscriber_sns_topic_arns=[monitoring.topic.arn],
            subscriber_email_addresses=spec.emails or None)
        for percent in spec.thresholds_percent
    ]
    notifications.append(BudgetsBudgetNotification(
        comparison_operator="GREATER_THAN", threshold=100, threshold_type="PERCENTAGE",
        notification_type="FORECASTED", subscriber_sns_topic_arns=[monitoring.topic.arn],
        subscriber_email_addresses=spec.emails or None))
    item = BudgetsBudget(
        scope, "budget", name=f"{site.prefix}-monthly", budget_type="COST",
        limit_amount=f"{spec.monthly_usd:.2f}", limit_unit="USD", time_unit="MONTHLY",
        cost_filter=[BudgetsBudgetCostFilter(name="TagKeyValue",
                                             values=[f"user:env${site.name}"])],
        notification=notifications,
    )
    return Refs(outputs={"budget_name": item.name})
