"""Drift monitoring on AWS: SageMaker Model Monitor (data quality).

A data-quality job definition runs AWS's analyzer image (`sagemaker-model-monitor-analyzer`)
against the baseline at `drift_baseline_uri` (`statistics.json`, `constraints.json`, written
by `terraml monitor baseline`) over the endpoint's captured requests (`target: endpoint`) or
the CSV files under a data-lake prefix; a monitoring schedule runs it on the environment's
cron. Each feature's drift distance is published to CloudWatch as
`feature_baseline_drift_<feature>`; an alarm per watched feature fires above the feature's
threshold, and an EventBridge rule reports failed monitoring runs, both to the alerts topic.

Least privilege: the monitoring role reads only the baseline, the target (the data-lake
prefix, or the endpoint's data capture) and the raw and features buckets (the training data a
baseline is made from), writes only under the baseline and report prefixes,
uses only the environment key, writes only processing-job logs and publishes only Model
Monitor's metric namespaces. Provider 5.x arguments only (no `region`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
)
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.sagemaker_data_quality_job_definition import (
    SagemakerDataQualityJobDefinition,
    SagemakerDataQualityJobDefinitionDataQualityAppSpecification,
    SagemakerDataQualityJobDefinitionDataQualityBaselineConfig,
    SagemakerDataQualityJobDefinitionDataQualityBaselineConfigConstraintsResource,
    SagemakerDataQualityJobDefinitionDataQualityBaselineConfigStatisticsResource,
    SagemakerDataQualityJobDefinitionDataQualityJobInput,
    SagemakerDataQualityJobDefinitionDataQualityJobInputBatchTransformInput,
    SagemakerDataQualityJobDefinitionDataQualityJobInputBatchTransformInputDatasetFormat,
    SagemakerDataQualityJobDefinitionDataQualityJobInputBatchTransformInputDatasetFormatCsv,
    SagemakerDataQualityJobDefinitionDataQualityJobInputEndpointInput,
    SagemakerDataQualityJobDefinitionDataQualityJobOutputConfig,
    SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputs,
    SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3Output,
    SagemakerDataQualityJobDefinitionJobResources,
    SagemakerDataQualityJobDefinitionJobResourcesClusterConfig,
    SagemakerDataQualityJobDefinitionNetworkConfig,
    SagemakerDataQualityJobDefinitionNetworkConfigVpcConfig,
    SagemakerDataQualityJobDefinitionStoppingCondition,
)
from cdktn_provider_aws.sagemaker_monitoring_schedule import (
    SagemakerMonitoringSchedule,
    SagemakerMonitoringScheduleMonitoringScheduleConfig,
    SagemakerMonitoringScheduleMonitoringScheduleConfigScheduleConfig,
)
from constructs import Construct

from adapters.aws import policy
from adapters.aws.adapter import AwsAdapter
from adapters.aws.drift_runtime import TRAINING_DATA_BUCKETS
from adapters.aws.identity import USE_KEY, VPC_ACCESS, WRITE_OBJECTS
from adapters.aws.refs import (
    AwsDataRefs,
    AwsIdentityRefs,
    AwsKeyRefs,
    AwsMonitoringRefs,
    AwsNetworkRefs,
    AwsServingRefs,
)
from adapters.aws.roles import service_role
from adapters.base import Refs
from core.cron import Cron, parse
from core.drift import Drift
from core.errors import UserError
from core.props import DriftProps, Site

# AWS's published registries of the Model Monitor analyzer image, by region (the SageMaker
# Python SDK's image_uri_config/model-monitor.json).
ANALYZER_ACCOUNTS: dict[str, str] = {
    "us-east-1": "156813124566", "us-east-2": "777275614652", "us-west-1": "890145073186",
    "us-west-2": "159807026194", "ca-central-1": "536280801234", "sa-east-1": "539772159869",
    "eu-west-1": "468650794304", "eu-west-2": "749857270468", "eu-west-3": "680080141114",
    "eu-central-1": "048819808253", "eu-north-1": "895015795356", "me-south-1": "607024016150",
    "ap-south-1": "126357580389", "ap-east-1": "001633400207", "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524", "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158", "cn-north-1": "453000072557",
    "cn-northwest-1": "453252182341",
}
ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"
REPORTS_PREFIX = "drift/reports"
MAX_RUNTIME_SECONDS = 3600  # SageMaker's ceiling for an hourly schedule
VOLUME_GB = 20
METRIC_PREFIX = "feature_baseline_drift_"
ENDPOINT_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
BATCH_NAMESPACE = "aws/sagemaker/ModelMonitoring/data-metrics"
EXECUTION_FAILED = "SageMaker Processing Job State Change"
CAPTURE_PREFIX = "data-capture"  # where serving.py's data capture writes, per endpoint


@dataclass(kw_only=True)
class AwsDriftRefs(Refs):
    job_definition: SagemakerDataQualityJobDefinition
    schedule: SagemakerMonitoringSchedule
    role: IamRole  # the monitoring role (scheduled runs, baselining, one-off runs)



def analyzer_image(site: Site) -> str:
    """The Model Monitor analyzer image in `site.region`; a one-line UserError naming
    `region` where AWS publishes none."""
    account = ANALYZER_ACCOUNTS.get(site.region)
    if account is None:
        raise UserError(site.where("region", f"SageMaker Model Monitor (monitoring.drift) has "
                                   f"no analyzer image in {site.region}; expected one of "
                                   f"{', '.join(sorted(ANALYZER_ACCOUNTS))}"))
    domain = "amazonaws.com.cn" if site.region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{site.region}.{domain}/{ANALYZER_REPOSITORY}"


@AwsAdapter.implementation("drift")
def drift(adapter: AwsAdapter, scope: Construct, props: DriftProps, *, key: AwsKeyRefs,
          network: AwsNetworkRefs, data: AwsDataRefs, identity: AwsIdentityRefs,
          monitoring: AwsMonitoringRefs, serving: AwsServingRefs | None) -> AwsDriftRefs:
    site, spec = props.site, props.monitoring.drift
    assert spec is not None  # the layer is on only when it is set
    image = analyzer_image(site)
    account, partition = adapter.account, adapter.partition
    buckets = data.buckets
    baseline_bucket = buckets[spec.baseline_bucket()]
    baseline_prefix = spec.baseline_prefix().strip("/")
    baseline_uri = _join(f"s3://{baseline_bucket.bucket}", baseline_prefix)
    reports_uri = f"s3://{buckets['artifacts'].bucket}/{REPORTS_PREFIX}"
    name = f"{site.prefix}-drift"
    endpoint = spec.watches_endpoint() and serving is not None
    reads = [(spec.baseline_bucket(), baseline_prefix)]
    if endpoint:
        reads.append(("artifacts", f"{CAPTURE_PREFIX}/{serving.endpoint.name}"))
    else:
        reads.append((spec.target_bucket(), spec.target_prefix().strip("/")))
    role, access = _role(scope, site, spec, data, key, image, account, partition, reads)
    if endpoint:
        job_input = SagemakerDataQualityJobDefinitionDataQualityJobInput(
            endpoint_input=SagemakerDataQualityJobDefinitionDataQualityJobInputEndpointInput(
                endpoint_name=serving.endpoint.name, local_path="/opt/ml/processing/input",
                s3_data_distribution_type="FullyReplicated", s3_input_mode="File"))
        target = serving.endpoint.name
    else:
        target = _join(f"s3://{buckets[spec.target_bucket()].bucket}",
                       spec.target_prefix().strip("/")) + "/"
        job_input = SagemakerDataQualityJobDefinitionDataQualityJobInput(
            batch_transform_input=(
                SagemakerDataQualityJobDefinitionDataQualityJobInputBatchTransformInput(
                    data_captured_destination_s3_uri=target,
                    dataset_format=(
                        SagemakerDataQualityJobDefinitionDataQualityJobInputBatchTransformInputDatasetFormat(
                            csv=SagemakerDataQualityJobDefinitionDataQualityJobInputBatchTransformInputDatasetFormatCsv(
                                header=True))),
                    local_path="/opt/ml/processing/input",
                    s3_data_distribution_type="FullyReplicated", s3_input_mode="File")))
    instance_type = adapter.cpu_machine(spec.size)
    subnets = [s.id for s in network.subnets]
    definition = SagemakerDataQualityJobDefinition(
        scope, "drift-job", name=name, role_arn=role.arn,
        data_quality_app_specification=(
            SagemakerDataQualityJobDefinitionDataQualityAppSpecification(
                image_uri=image,  # the per-feature metrics the alarms watch
                environment={"publish_cloudwatch_metrics": "Enabled"})),
        data_quality_baseline_config=SagemakerDataQualityJobDefinitionDataQualityBaselineConfig(
            constraints_resource=(
                SagemakerDataQualityJobDefinitionDataQualityBaselineConfigConstraintsResource(
                    s3_uri=f"{baseline_uri}/constraints.json")),
            statistics_resource=(
                SagemakerDataQualityJobDefinitionDataQualityBaselineConfigStatisticsResource(
                    s3_uri=f"{baseline_uri}/statistics.json"))),
        data_quality_job_input=job_input,
        data_quality_job_output_config=SagemakerDataQualityJobDefinitionDataQualityJobOutputConfig(
            kms_key_id=key.key.arn,
            monitoring_outputs=SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputs(
                s3_output=SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3Output(
                    s3_uri=reports_uri, local_path="/opt/ml/processing/output",
                    s3_upload_mode="EndOfJob"))),
        job_resources=SagemakerDataQualityJobDefinitionJobResources(
            cluster_config=SagemakerDataQualityJobDefinitionJobResourcesClusterConfig(
                instance_count=1, instance_type=instance_type, volume_size_in_gb=VOLUME_GB,
                volume_kms_key_id=key.key.arn)),
        network_config=SagemakerDataQualityJobDefinitionNetworkConfig(
            enable_inter_container_traffic_encryption=True, enable_network_isolation=True,
            vpc_config=SagemakerDataQualityJobDefinitionNetworkConfigVpcConfig(
                subnets=subnets, security_group_ids=[network.security_group.id])),
        stopping_condition=SagemakerDataQualityJobDefinitionStoppingCondition(
            max_runtime_in_seconds=MAX_RUNTIME_SECONDS),
        depends_on=[access])  # SageMaker checks the role when the definition is created
    expression = schedule_expression(_cron(spec))
    schedule = SagemakerMonitoringSchedule(
        scope, "drift-schedule", name=name,
        monitoring_schedule_config=SagemakerMonitoringScheduleMonitoringScheduleConfig(
            monitoring_type="DataQuality",
            monitoring_job_definition_name=definition.name,
            schedule_config=SagemakerMonitoringScheduleMonitoringScheduleConfigScheduleConfig(
                schedule_expression=expression)))
    limits = spec.thresholds()
    _alarms(scope, site, spec, limits, name, serving.endpoint.name if endpoint else None,
            monitoring)
    _failed_runs(scope, site, schedule, monitoring)
    return AwsDriftRefs(outputs={
        "drift_monitor": schedule.name,
        "drift_baseline_uri": baseline_uri,
        "drift_target": target,
        "drift_reports_uri": reports_uri,
        "drift_features": list(spec.features),
        "drift_thresholds": limits,
        "drift_schedule": _cron(spec).unix(),
        "drift_role": role.arn,
        "drift_image": image,
        "drift_instance_type": instance_type,
        "drift_max_runtime_seconds": MAX_RUNTIME_SECONDS,
        "drift_subnet_ids": subnets,
        "drift_security_group_id": network.security_group.id,
        "drift_kms_key": key.key.arn,
    }, job_definition=definition, schedule=schedule, role=role)


def _cron(spec: Drift) -> Cron:
    return parse(spec.schedule)


def schedule_expression(cron: Cron) -> str:
    """Model Monitor's form of the neutral schedule (core allows minute 0, hour `*`, `H` or
    `*/N`, the other fields `*`): `cron(0 * ? * * *)` hourly, `cron(0 H ? * * *)` daily at H,
    `cron(0 0/N ? * * *)` every N hours from midnight."""
    hour = cron.fields[1]
    if hour.startswith("*/"):
        hour = f"0/{hour[2:]}"
    return f"cron(0 {hour} ? * * *)"


def _join(root: str, prefix: str) -> str:
    return f"{root}/{prefix}" if prefix else root


def _prefix_objects(bucket_arn: str, prefix: str) -> str:
    return f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"


def _role(scope: Construct, site: Site, spec: Drift, data: AwsDataRefs, key: AwsKeyRefs,
          image: str, account: str, partition: str, reads: list[tuple[str, str]]):
    """The monitoring role; `reads` the (bucket, prefix) of the baseline and the target."""
    buckets = data.buckets
    baseline = buckets[spec.baseline_bucket()]
    artifacts = buckets["artifacts"]
    region = site.region
    logs = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/ProcessingJobs"
    registry, _, _ = image.partition(".")
    analyzer = f"arn:{partition}:ecr:{region}:{registry}:repository/{ANALYZER_REPOSITORY}"
    arns = {name: buckets[name].arn for name, _ in reads}
    return service_role(scope, "drift-role", f"{site.prefix}-drift",
                        f"terraml {site.name}: SageMaker Model Monitor (drift) runs",
                        "sagemaker.amazonaws.com", account, [
        policy.allow("ReadBaselineAndTarget", ["s3:GetObject", "s3:GetObjectVersion"],
                     [_prefix_objects(arns[name], prefix) for name, prefix in reads]),
        policy.allow("ListBaselineAndTarget", ["s3:ListBucket"], list(arns.values()),
                     {"StringLike": {"s3:prefix": [
                         item for _, prefix in reads
                         for item in ((prefix, f"{prefix}/*") if prefix else ("*",))]}}),
        policy.allow("LocateBaselineAndTarget", ["s3:GetBucketLocation"], list(arns.values())),
        # `terraml monitor baseline --data` reads the training data where training jobs do
        policy.allow("ReadTrainingData", ["s3:GetObject", "s3:GetObjectVersion",
                                          "s3:ListBucket", "s3:GetBucketLocation"],
                     [arn for name in TRAINING_DATA_BUCKETS
                      for arn in (buckets[name].arn, f"{buckets[name].arn}/*")]),
        policy.allow("WriteBaselineAndReports", WRITE_OBJECTS,
                     [_prefix_objects(baseline.arn, spec.baseline_prefix().strip("/")),
                      f"{artifacts.arn}/{REPORTS_PREFIX}/*"]),
        policy.allow("UseEnvironmentKey", USE_KEY, [key.key.arn]),
        policy.allow("WriteJobLogs", ["logs:CreateLogGroup", "logs:CreateLogStream",
                                      "logs:PutLogEvents", "logs:DescribeLogStreams"],
                     [logs, f"{logs}:*"]),
        policy.allow("PullAnalyzerImage", ["ecr:BatchCheckLayerAvailability",
                                           "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                     [analyzer]),
        policy.allow("EcrAuthToken", ["ecr:GetAuthorizationToken"], "*"),
        policy.allow("PublishDriftMetrics", ["cloudwatch:PutMetricData"], "*",
                     {"StringEquals": {"cloudwatch:namespace": [ENDPOINT_NAMESPACE,
                                                                BATCH_NAMESPACE]}}),
        policy.allow("RunInPrivateNetwork", VPC_ACCESS, "*",
                     {"StringEquals": {"aws:RequestedRegion": region}}),
    ])


def _alarms(scope: Construct, site: Site, spec: Drift, limits: dict[str, float],
            schedule: str, endpoint: str | None, monitoring: AwsMonitoringRefs) -> None:
    """One alarm per watched feature on Model Monitor's `feature_baseline_drift_<feature>`."""
    if endpoint is not None:
        namespace = ENDPOINT_NAMESPACE
        dimensions = {"Endpoint": endpoint, "MonitoringSchedule": schedule}
    else:
        namespace, dimensions = BATCH_NAMESPACE, {"MonitoringSchedule": schedule}
    period = 3600 if _cron(spec).runs_per_month() > 31 * 2 else 86400
    topic = monitoring.topic.arn
    for feature in spec.features:
        CloudwatchMetricAlarm(
            scope, f"drift-{feature}", alarm_name=f"{site.prefix}-drift-{feature}",
            alarm_description=f"terraml {site.name}: drift of {feature} above "
                              f"{limits[feature]}",
            namespace=namespace, dimensions=dimensions,
            metric_name=f"{METRIC_PREFIX}{feature}", statistic="Maximum", period=period,
            evaluation_periods=1, datapoints_to_alarm=1, threshold=limits[feature],
            comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
            alarm_actions=[topic], ok_actions=[topic])


def _failed_runs(scope: Construct, site: Site, schedule: SagemakerMonitoringSchedule,
                 monitoring: AwsMonitoringRefs) -> None:
    """Failed runs to the topic: the schedule's (their processing jobs carry its ARN) and
    those terraml starts (`<prefix>-drift-...`: baselines and one-off runs)."""
    for cid, match, what in (
            ("drift-failed", {"MonitoringScheduleArn": [schedule.arn]}, "scheduled"),
            ("drift-job-failed", {"ProcessingJobName": [{"prefix": f"{site.prefix}-drift-"}]},
             "baseline or one-off")):
        rule = CloudwatchEventRule(
            scope, cid, name=f"{site.prefix}-{cid}",
            description=f"terraml {site.name}: a {what} drift monitoring run failed",
            event_pattern=json.dumps({
                "source": ["aws.sagemaker"], "detail-type": [EXECUTION_FAILED],
                "detail": {"ProcessingJobStatus": ["Failed"], **match}}))
        CloudwatchEventTarget(
            scope, f"{cid}-alert", rule=rule.name, arn=monitoring.topic.arn,
            target_id="alerts",
            input_transformer=CloudwatchEventTargetInputTransformer(
                input_paths={"job": "$.detail.ProcessingJobName",
                             "reason": "$.detail.FailureReason"},
                input_template='"terraml: drift monitoring run <job> failed: <reason>"'))
