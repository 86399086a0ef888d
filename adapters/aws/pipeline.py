"""The training pipeline on AWS: a SageMaker pipeline (definition: `pipeline_definition.py`),
the role it runs as, its EventBridge Scheduler schedule, its new-data trigger (S3 -> EventBridge
-> pipeline) and alerts to the environment's topic when a run fails or a model version changes
approval state.

Least privilege: the execution role creates and watches only `<prefix>-*` processing and
training jobs, registers versions only in this environment's model package group, passes only
the training role (to SageMaker), reads only the environment's buckets and uses only its key;
the scheduler and events roles may only start this pipeline. No statement has `*` actions or
resources. Provider 5.x arguments only (no `region`, no `action_after_completion`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
    CloudwatchEventTargetSagemakerPipelineTarget,
    CloudwatchEventTargetSagemakerPipelineTargetPipelineParameterListStruct,
)
from cdktn_provider_aws.sagemaker_pipeline import SagemakerPipeline
from cdktn_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktn_provider_aws.scheduler_schedule_group import SchedulerScheduleGroup
from constructs import Construct

from adapters.aws import policy
from adapters.aws.identity import PULL_IMAGES, READ_OBJECTS, USE_KEY
from adapters.aws.pipeline_definition import INPUT_PARAMETER, DefinitionInputs, definition
from adapters.aws.refs import (
    AwsDataRefs,
    AwsIdentityRefs,
    AwsKeyRefs,
    AwsMonitoringRefs,
    AwsNetworkRefs,
    AwsPipelineRefs,
    AwsRegistryRefs,
    AwsTrackingRefs,
)
from adapters.aws.roles import service_role
from adapters.aws.storage import send_events_to_eventbridge
from core.props import PipelineProps, Site

START = ["sagemaker:StartPipelineExecution"]
PIPELINE_FAILED = "SageMaker Model Building Pipeline Execution Status Change"
PACKAGE_CHANGED = "SageMaker Model Package State Change"


@dataclass(frozen=True)
class PipelineNeeds:
    """The layers the pipeline builds on (`tracking` is None when tracking is off)."""

    key: AwsKeyRefs
    network: AwsNetworkRefs
    data: AwsDataRefs
    registry: AwsRegistryRefs
    identity: AwsIdentityRefs
    monitoring: AwsMonitoringRefs
    tracking: AwsTrackingRefs | None


def pipeline(scope: Construct, props: PipelineProps, machines: Mapping[str, str],
             needs: PipelineNeeds, account: str, partition: str) -> AwsPipelineRefs:
    """`machines`: each step's instance type (prepare/evaluate: the CPU size; train: the
    adapter's `train_step_machine`)."""
    site, spec, training = props.site, props.pipeline, props.training
    name = f"{site.prefix}-training"
    group = needs.registry.model_group.model_package_group_name
    role, access = _execution_role(scope, site, needs, account, partition)
    max_run = int(training.max_runtime_hours * 3600)
    tracking = needs.tracking
    document = definition(DefinitionInputs(
        spec=spec, pipeline_name=name, job_prefix=site.prefix, job_role=needs.identity.training.arn,
        key=needs.key.key.arn, subnets=[s.id for s in needs.network.subnets],
        security_group=needs.network.security_group.id,
        buckets={n: b.bucket for n, b in needs.data.buckets.items()}, machines=machines,
        spot=training.spot, max_runtime_seconds=max_run, model_group=group,
        approval=spec.registration.approval or "manual",
        tracking=(tracking.server.arn, tracking.experiment) if tracking else None))
    pipe = SagemakerPipeline(
        scope, "pipeline", pipeline_name=name, pipeline_display_name=name,
        pipeline_description=f"terraml {site.name}: prepare, train, evaluate, register",
        role_arn=role.arn, pipeline_definition=json.dumps(document),
        depends_on=[access])  # runs start as soon as the schedule or trigger exists
    cron = spec.cron()
    if cron is not None:
        _schedule(scope, site, name, cron.aws(), pipe, needs.key, account)
    trigger = "none"
    if spec.on_new_data:
        bucket = send_events_to_eventbridge(scope, "pipeline-trigger-notification", needs.data,
                                            spec.trigger_bucket())
        trigger = f"s3://{bucket.bucket}/{spec.trigger_prefix()}"
        _new_data_trigger(scope, site, spec.trigger_prefix(), bucket.id, trigger, pipe, account)
    _alerts(scope, site, pipe, group, needs.monitoring)
    evaluate = spec.steps.evaluate
    return AwsPipelineRefs(outputs={
        "pipeline_name": pipe.pipeline_name,
        "pipeline_role": role.arn,
        "pipeline_schedule": cron.unix() if cron is not None else "none",
        "pipeline_trigger": trigger,
        "pipeline_approval": spec.registration.approval,
        "pipeline_metric": evaluate.metric if evaluate and evaluate.metric else "none",
    }, pipeline=pipe, role=role)


def _objects(arns: list[str]) -> list[str]:
    return [*arns, *[f"{arn}/*" for arn in arns]]


def _execution_role(scope: Construct, site: Site, needs: PipelineNeeds, account: str,
                    partition: str):
    sagemaker = f"arn:{partition}:sagemaker:{site.region}:{account}"
    processing = f"{sagemaker}:processing-job/{site.prefix}-*"
    training = f"{sagemaker}:training-job/{site.prefix}-*"
    group = needs.registry.model_group
    versions = f"{sagemaker}:model-package/{group.model_package_group_name}/*"
    logs = f"arn:{partition}:logs:{site.region}:{account}:log-group:/aws/sagemaker/*"
    return service_role(scope, "pipeline-role", f"{site.prefix}-pipeline",
                        f"terraml {site.name}: SageMaker pipeline execution role",
                        "sagemaker.amazonaws.com", account, [
        policy.allow("RunProcessingJobs", ["sagemaker:CreateProcessingJob",
                                           "sagemaker:DescribeProcessingJob",
                                           "sagemaker:StopProcessingJob"], [processing]),
        policy.allow("RunTrainingJobs", ["sagemaker:CreateTrainingJob",
                                         "sagemaker:DescribeTrainingJob",
                                         "sagemaker:StopTrainingJob"], [training]),
        policy.allow("TagJobsAndVersions", ["sagemaker:AddTags"],
                     [processing, training, versions]),
        policy.allow("RegisterModelVersions", ["sagemaker:CreateModelPackage",
                                               "sagemaker:DescribeModelPackage"],
                     [group.arn, versions]),
        policy.allow("PassTrainingRole", ["iam:PassRole"], [needs.identity.training.arn],
                     {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
        policy.allow("ReadEnvironmentData", READ_OBJECTS,
                     _objects([b.arn for b in needs.data.buckets.values()])),
        policy.allow("UseEnvironmentKey", USE_KEY, [needs.key.key.arn]),
        policy.allow("PullEnvironmentImages", PULL_IMAGES,
                     [r.arn for r in needs.registry.repositories.values()]),
        policy.allow("WriteJobLogs", ["logs:CreateLogGroup", "logs:CreateLogStream",
                                      "logs:PutLogEvents", "logs:DescribeLogStreams"],
                     [logs, f"{logs}:*"]),
    ])


def _schedule(scope: Construct, site: Site, name: str, expression: str,
              pipe: SagemakerPipeline, key: AwsKeyRefs, account: str) -> None:
    group = SchedulerScheduleGroup(scope, "pipeline-schedule-group", name=site.prefix)
    role, access = service_role(scope, "pipeline-scheduler-role",
                                f"{site.prefix}-pipeline-scheduler",
                                f"terraml {site.name}: starts the training pipeline on schedule",
                                "scheduler.amazonaws.com", account, [
        policy.allow("StartThisPipeline", START, [pipe.arn]),
        # Scheduler encrypts the target input with the environment key.
        policy.allow("DecryptScheduleInput", ["kms:Decrypt"], [key.key.arn]),
    ])
    SchedulerSchedule(
        scope, "pipeline-schedule", name=name, group_name=group.name,
        description=f"terraml {site.name}: run the training pipeline",
        schedule_expression=expression, schedule_expression_timezone="UTC",
        flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
        kms_key_arn=key.key.arn, state="ENABLED",
        target=SchedulerScheduleTarget(
            arn=pipe.arn, role_arn=role.arn,
            retry_policy=SchedulerScheduleTargetRetryPolicy(
                maximum_event_age_in_seconds=3600, maximum_retry_attempts=3)),
        depends_on=[access],
    )


def _new_data_trigger(scope: Construct, site: Site, prefix: str, bucket_id: str, location: str,
                      pipe: SagemakerPipeline, account: str) -> None:
    detail: dict = {"bucket": {"name": [bucket_id]}}
    if prefix:
        detail["object"] = {"key": [{"prefix": prefix}]}
    rule = CloudwatchEventRule(
        scope, "pipeline-trigger", name=f"{site.prefix}-new-data",
        description=f"terraml {site.name}: new objects under {prefix or 'the bucket'} start "
                    "the training pipeline",
        event_pattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                                  "detail": detail}))
    role, access = service_role(scope, "pipeline-trigger-role", f"{site.prefix}-pipeline-trigger",
                                f"terraml {site.name}: starts the training pipeline on new data",
                                "events.amazonaws.com", account, [
        policy.allow("StartThisPipeline", START, [pipe.arn]),
    ])
    CloudwatchEventTarget(
        scope, "pipeline-trigger-target", rule=rule.name, arn=pipe.arn, role_arn=role.arn,
        target_id="pipeline", depends_on=[access],
        sagemaker_pipeline_target=CloudwatchEventTargetSagemakerPipelineTarget(
            pipeline_parameter_list=[
                CloudwatchEventTargetSagemakerPipelineTargetPipelineParameterListStruct(
                    name=INPUT_PARAMETER, value=location)]))


def _alerts(scope: Construct, site: Site, pipe: SagemakerPipeline, group: str,
            monitoring: AwsMonitoringRefs) -> None:
    """Failed runs and model version state changes (new pending versions, approvals) to the
    alerts topic (its policy lets EventBridge publish, its key lets EventBridge encrypt)."""
    failed = CloudwatchEventRule(
        scope, "pipeline-failed", name=f"{site.prefix}-pipeline-failed",
        description=f"terraml {site.name}: a training pipeline run failed",
        event_pattern=json.dumps({"source": ["aws.sagemaker"], "detail-type": [PIPELINE_FAILED],
                                  "detail": {"currentPipelineExecutionStatus": ["Failed"],
                                             "pipelineArn": [pipe.arn]}}))
    CloudwatchEventTarget(
        scope, "pipeline-failed-alert", rule=failed.name, arn=monitoring.topic.arn,
        target_id="alerts",
        input_transformer=CloudwatchEventTargetInputTransformer(
            input_paths={"run": "$.detail.pipelineExecutionArn"},
            input_template='"terraml: training pipeline run <run> failed"'))
    versions = CloudwatchEventRule(
        scope, "model-approval", name=f"{site.prefix}-model-approval",
        description=f"terraml {site.name}: a model version was registered, approved or rejected",
        event_pattern=json.dumps({"source": ["aws.sagemaker"], "detail-type": [PACKAGE_CHANGED],
                                  "detail": {"ModelPackageGroupName": [group]}}))
    CloudwatchEventTarget(
        scope, "model-approval-alert", rule=versions.name, arn=monitoring.topic.arn,
        target_id="alerts",
        input_transformer=CloudwatchEventTargetInputTransformer(
            input_paths={"version": "$.detail.ModelPackageArn",
                         "status": "$.detail.ModelApprovalStatus"},
            input_template='"terraml: model version <version> is <status>"'))
