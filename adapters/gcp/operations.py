"""Vertex AI endpoint (CMEK, autoscaling recorded for deploy time), email notification
channels + latency/error alert policies, and the billing budget."""

from __future__ import annotations

import zlib

from cdktn_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAllUpdatesRule,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktn_provider_google.monitoring_alert_policy import (
    MonitoringAlertPolicy,
    MonitoringAlertPolicyConditions,
    MonitoringAlertPolicyConditionsConditionThreshold,
    MonitoringAlertPolicyConditionsConditionThresholdAggregations,
)
from cdktn_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
from cdktn_provider_google.vertex_ai_endpoint import (
    VertexAiEndpoint,
    VertexAiEndpointEncryptionSpec,
)
from constructs import Construct

from adapters.base import AcceleratorChoice
from adapters.gcp.labels import clean
from adapters.gcp.refs import (
    GcpBudgetRefs,
    GcpKeyRefs,
    GcpMonitoringRefs,
    GcpNetworkRefs,
    GcpServingRefs,
)
from adapters.gcp.settings import GcpIds
from core.errors import UserError
from core.props import Site
from core.spec import Budget, Monitoring, Serving


def endpoint_id(prefix: str) -> str:
    """Vertex endpoint names are numeric (no leading zero, <= 10 digits): a stable hash."""
    return str(1_000_000_000 + zlib.crc32(prefix.encode()) % 8_999_999_999)


def serving(scope: Construct, site: Site[GcpIds], spec: Serving,
            machine: AcceleratorChoice | None, key: GcpKeyRefs, network: GcpNetworkRefs,
            project_number: str) -> GcpServingRefs:
    """The private, CMEK-encrypted Vertex AI endpoint; replicas are set at deploy time."""
    scale_to_zero = spec.mode == "serverless"
    endpoint = VertexAiEndpoint(
        scope, "endpoint", name=endpoint_id(site.prefix), display_name=f"{site.prefix}-endpoint",
        location=site.region, region=site.region,
        description=f"terraml {site.name} model endpoint (private, over VPC peering)",
        network=f"projects/{project_number}/global/networks/{site.prefix}",
        encryption_spec=VertexAiEndpointEncryptionSpec(kms_key_name=key.key.id),
        depends_on=[*key.key_grants, network.peering])
    outputs = {
        "endpoint_name": endpoint.name, "serving_mode": spec.mode,
        "serving_instance_type": machine.instance_type if machine else "e2-standard-4",
        "serving_accelerator_type": (machine.accelerator_type or "") if machine else "",
        # Vertex applies autoscaling per deployed model, at deploy time (terraml deploy-model).
        "serving_min_replicas": 0 if scale_to_zero else spec.min_instances,
        "serving_max_replicas": spec.max_instances,
        "serving_target_cpu_percent": 60,
    }
    return GcpServingRefs(outputs=outputs, endpoint=endpoint)


def monitoring(scope: Construct, site: Site[GcpIds], spec: Monitoring,
               serving: GcpServingRefs | None) -> GcpMonitoringRefs:
    """Email channels, and latency/error alert policies on the endpoint when there is one."""
    channels = [MonitoringNotificationChannel(scope, f"alerts-email-{i}", type="email",
                                              display_name=f"terraml {site.name} {email}",
                                              labels={"email_address": email})
                for i, email in enumerate(spec.emails)]
    names = [c.name for c in channels]
    if serving is not None:
        endpoint = f'resource.labels.endpoint_id = "{serving.endpoint.name}"'
        base = f'resource.type = "aiplatform.googleapis.com/Endpoint" AND {endpoint}'
        _policy(scope, site, "endpoint-latency", f"p99 latency above {spec.latency_ms} ms",
                f'{base} AND metric.type = '
                '"aiplatform.googleapis.com/prediction/online/prediction_latencies"',
                "ALIGN_PERCENTILE_99", spec.latency_ms, names)
        _policy(scope, site, "endpoint-errors",
                f"more than {spec.errors_5xx} errors in 5 minutes",
                f'{base} AND metric.type = '
                '"aiplatform.googleapis.com/prediction/online/error_count"',
                "ALIGN_SUM", spec.errors_5xx, names)
    return GcpMonitoringRefs(outputs={"alerts_topic": names[0] if names else ""},
                             channels=channels)


def _policy(scope: Construct, site: Site[GcpIds], cid: str, title: str, metric_filter: str,
            aligner: str, threshold: float, channels: list[str]) -> None:
    MonitoringAlertPolicy(
        scope, cid, display_name=f"{site.prefix} {title}", combiner="OR",
        notification_channels=channels,
        conditions=[MonitoringAlertPolicyConditions(
            display_name=title,
            condition_threshold=MonitoringAlertPolicyConditionsConditionThreshold(
                filter=metric_filter, comparison="COMPARISON_GT", threshold_value=threshold,
                duration="300s",
                aggregations=[MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                    alignment_period="300s", per_series_aligner=aligner)]))])


def budget(scope: Construct, site: Site[GcpIds], spec: Budget, monitoring: GcpMonitoringRefs,
           project_number: str) -> GcpBudgetRefs:
    """The monthly billing budget on this project and environment label, notifying the alert
    channels at each threshold."""
    if not site.ids.billing_account:
        raise UserError(site.where("billing_account", "gcp budgets need the billing account id "
                                   "(XXXXXX-XXXXXX-XXXXXX): expected a value"))
    item = BillingBudget(
        scope, "budget", billing_account=site.ids.billing_account,
        display_name=f"{site.prefix}-monthly",
        amount=BillingBudgetAmount(specified_amount=BillingBudgetAmountSpecifiedAmount(
            currency_code="USD", units=str(int(spec.monthly_usd)))),
        budget_filter=BillingBudgetBudgetFilter(
            projects=[f"projects/{project_number}"], labels={"env": clean(site.name)},
            calendar_period="MONTH"),
        threshold_rules=[BillingBudgetThresholdRules(threshold_percent=p / 100)
                         for p in spec.thresholds_percent],
        all_updates_rule=BillingBudgetAllUpdatesRule(
            monitoring_notification_channels=[c.name for c in monitoring.channels][:5],
            disable_default_iam_recipients=False))
    return GcpBudgetRefs(outputs={"budget_name": item.display_name}, budget=item)
