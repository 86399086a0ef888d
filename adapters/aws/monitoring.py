"""SNS alerts topic (KMS) with email subscriptions; endpoint latency and 5xx alarms;
an EventBridge rule that reports this environment's failed training jobs."""

from __future__ import annotations

import json

from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
)
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktn_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from adapters.aws import policy
from adapters.aws.refs import AwsKeyRefs, AwsMonitoringRefs, AwsServingRefs
from core.props import MonitoringProps, Site
from core.spec import Monitoring

PUBLISHERS = ("events.amazonaws.com", "cloudwatch.amazonaws.com", "budgets.amazonaws.com")


def monitoring(scope: Construct, props: MonitoringProps, key: AwsKeyRefs,
               serving: AwsServingRefs | None, account: str) -> AwsMonitoringRefs:
    site, spec = props.site, props.monitoring
    topic = SnsTopic(scope, "alerts", name=f"{site.prefix}-alerts",
                     display_name=f"terraml {site.name} alerts", kms_master_key_id=key.key.arn)
    SnsTopicPolicy(scope, "alerts-policy", arn=topic.arn, policy=policy.document(
        policy.service_principal("AwsServicesPublishAlerts", list(PUBLISHERS), ["sns:Publish"],
                                 topic.arn, {"StringEquals": {"aws:SourceAccount": account}}),
    ))
    for i, email in enumerate(spec.emails):
        SnsTopicSubscription(scope, f"alerts-email-{i}", topic_arn=topic.arn, protocol="email",
                             endpoint=email)
    if serving is not None:
        _endpoint_alarms(scope, site.prefix, spec, serving, topic.arn)
    _failed_training_rule(scope, site, topic.arn)
    return AwsMonitoringRefs(outputs={"alerts_topic": topic.arn}, topic=topic)


def _endpoint_alarms(scope: Construct, prefix: str, spec: Monitoring, serving: AwsServingRefs,
                     topic_arn: str) -> None:
    dimensions = {"EndpointName": serving.endpoint.name, "VariantName": serving.variant}
    common = {"namespace": "AWS/SageMaker", "dimensions": dimensions, "period": 300,
                  "evaluation_periods": 2, "datapoints_to_alarm": 2, "treat_missing_data": "notBreaching",
                  "comparison_operator": "GreaterThanThreshold",
                  "alarm_actions": [topic_arn], "ok_actions": [topic_arn]}
    CloudwatchMetricAlarm(
        scope, "endpoint-latency", alarm_name=f"{prefix}-endpoint-latency-p99",
        alarm_description=f"p99 model latency above {spec.latency_ms} ms",
        metric_name="ModelLatency", extended_statistic="p99",
        threshold=spec.latency_ms * 1000,  # SageMaker reports microseconds
        **common)
    CloudwatchMetricAlarm(
        scope, "endpoint-5xx", alarm_name=f"{prefix}-endpoint-5xx",
        alarm_description=f"more than {spec.errors_5xx} 5xx errors in 5 minutes",
        metric_name="Invocation5XXErrors", statistic="Sum",
        threshold=spec.errors_5xx, **common)


def _failed_training_rule(scope: Construct, site: Site, topic_arn: str) -> None:
    rule = CloudwatchEventRule(
        scope, "training-failed", name=f"{site.prefix}-training-failed",
        description=f"terraml {site.name}: a training job failed",
        event_pattern=json.dumps({
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Training Job State Change"],
            "detail": {"TrainingJobStatus": ["Failed"],
                       "TrainingJobName": [{"prefix": f"{site.prefix}-"}]},
        }),
    )
    CloudwatchEventTarget(
        scope, "training-failed-alert", rule=rule.name, arn=topic_arn, target_id="alerts",
        input_transformer=CloudwatchEventTargetInputTransformer(
            input_paths={"job": "$.detail.TrainingJobName", "reason": "$.detail.FailureReason"},
            input_template='"terraml: training job <job> failed: <reason>"'),
    )
