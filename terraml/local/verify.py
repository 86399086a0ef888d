"""Check with boto3, against the emulator, that the stack's main resources exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class Check:
    what: str
    name: str
    ok: bool
    detail: str = ""


def client(service: str, endpoint: str, region: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 2}))


def verify(outputs: dict, endpoint: str, region: str) -> list[Check]:
    """One `Check` per main resource named in the stack outputs."""
    def c(service: str):
        return client(service, endpoint, region)

    probes: list[tuple[str, str, Callable[[], object]]] = []
    for name, value in sorted(outputs.items()):
        if name.startswith("bucket_") or name == "access_log_bucket":
            probes.append(("s3 bucket", value, lambda v=value: c("s3").head_bucket(Bucket=v)))
        elif name.startswith("repository_") and name.endswith("_url"):
            repo = value.split("/", 1)[1]
            probes.append(("ecr repository", repo, lambda r=repo: c("ecr").describe_repositories(
                repositoryNames=[r])))
    key = outputs.get("kms_key")
    if key:
        probes.append(("kms key", key, lambda: c("kms").describe_key(KeyId=key)))
    for role_output in ("training_role", "serving_role"):
        if outputs.get(role_output):
            role = outputs[role_output].rsplit("/", 1)[-1]
            probes.append(("iam role", role, lambda r=role: c("iam").get_role(RoleName=r)))
    if outputs.get("model_registry"):
        registry = outputs["model_registry"]
        probes.append(("model package group", registry, lambda: c("sagemaker")
                       .describe_model_package_group(ModelPackageGroupName=registry)))
    if outputs.get("endpoint_name"):
        endpoint_name = outputs["endpoint_name"]
        probes.append(("sagemaker endpoint", endpoint_name, lambda: c("sagemaker")
                       .describe_endpoint(EndpointName=endpoint_name)))
        probes.append(("endpoint alarms", endpoint_name, lambda: _alarms(c("cloudwatch"),
                                                                       endpoint_name)))
    if outputs.get("alerts_topic"):
        topic = outputs["alerts_topic"]
        probes.append(("sns topic", topic, lambda: c("sns").get_topic_attributes(TopicArn=topic)))
    if outputs.get("batch_queue"):
        queue = outputs["batch_queue"]
        probes.append(("batch job queue", queue, lambda: _queue(c("batch"), queue)))
    if outputs.get("network_id"):
        vpc = outputs["network_id"]
        probes.append(("vpc", vpc, lambda: c("ec2").describe_vpcs(VpcIds=[vpc])))
    if outputs.get("pipeline_name"):
        pipeline = outputs["pipeline_name"]
        probes.append(("sagemaker pipeline", pipeline, lambda: c("sagemaker").describe_pipeline(
            PipelineName=pipeline)))
        if outputs.get("pipeline_schedule", "none") != "none":
            probes.append(("pipeline schedule", pipeline, lambda: _schedule(c("scheduler"),
                                                                           pipeline)))
        if outputs.get("pipeline_trigger", "none") != "none":
            probes.append(("new-data rule", outputs["pipeline_trigger"], lambda: _trigger(
                c("sagemaker"), c("events"), pipeline)))
    if outputs.get("tracking_uri"):
        server = outputs["tracking_uri"].rsplit("/", 1)[-1]
        probes.append(("tracking server", server, lambda: c("sagemaker")
                       .describe_mlflow_tracking_server(TrackingServerName=server)))
    if outputs.get("drift_monitor"):
        monitor = outputs["drift_monitor"]
        probes.append(("drift schedule", monitor, lambda: _drift(c("sagemaker"), monitor)))
    for feature_group in sorted((outputs.get("feature_groups") or {}).values()):
        probes.append(("feature group", feature_group, lambda g=feature_group: _feature_group(
            c("sagemaker"), c("glue"), g)))
    for notebook in sorted((outputs.get("notebooks") or {}).values()):
        probes.append(("notebook instance", notebook, lambda n=notebook: _notebook(
            c("sagemaker"), n)))
    if outputs.get("notebook_stopper"):
        stopper = outputs["notebook_stopper"]
        probes.append(("notebook stopper", stopper.rsplit(":", 1)[-1],
                       lambda: c("stepfunctions").describe_state_machine(
                           stateMachineArn=stopper)))
    if outputs.get("budget_name"):
        budget = outputs["budget_name"]
        account = c("sts").get_caller_identity()["Account"]
        probes.append(("budget", budget, lambda: c("budgets").describe_budget(
            AccountId=account, BudgetName=budget)))
    return [_probe(what, str(name), call) for what, name, call in probes]


def _drift(sagemaker, monitor: str) -> None:
    """The monitoring schedule is scheduled and runs a data-quality job definition."""
    schedule = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=monitor)
    if schedule["MonitoringScheduleStatus"] != "Scheduled":
        raise LookupError(f"schedule is {schedule['MonitoringScheduleStatus']}")
    config = schedule["MonitoringScheduleConfig"]
    sagemaker.describe_data_quality_job_definition(
        JobDefinitionName=config["MonitoringJobDefinitionName"])


def _alarms(cloudwatch, endpoint_name: str) -> None:
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    mine = [a for a in alarms if any(d["Value"] == endpoint_name for d in a.get("Dimensions", []))]
    if len(mine) < 2:
        raise LookupError(f"expected latency and 5xx alarms, found {len(mine)}")


def _schedule(scheduler, pipeline: str) -> None:
    """The pipeline's schedule is named after it (in the environment's schedule group)."""
    if not scheduler.list_schedules(NamePrefix=pipeline)["Schedules"]:
        raise LookupError("no schedule")


def _trigger(sagemaker, events, pipeline: str) -> None:
    arn = sagemaker.describe_pipeline(PipelineName=pipeline)["PipelineArn"]
    if not events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]:
        raise LookupError("no rule targets the pipeline")


def _feature_group(sagemaker, glue, name: str) -> None:
    """The group exists and its offline store's Glue table is registered."""
    catalog = sagemaker.describe_feature_group(FeatureGroupName=name).get(
        "OfflineStoreConfig", {}).get("DataCatalogConfig")
    if catalog:
        glue.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])


def _notebook(sagemaker, name: str) -> None:
    """The instance exists, private, with its idle-stop lifecycle configuration."""
    found = sagemaker.describe_notebook_instance(NotebookInstanceName=name)
    if found.get("DirectInternetAccess") != "Disabled":
        raise LookupError("direct internet access is on")
    config = found.get("NotebookInstanceLifecycleConfigName")
    if not config:
        raise LookupError("no lifecycle configuration (idle stop)")
    sagemaker.describe_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=config)


def _queue(batch, name: str) -> None:
    if not batch.describe_job_queues(jobQueues=[name])["jobQueues"]:
        raise LookupError("not found")


def _probe(what: str, name: str, call: Callable[[], object]) -> Check:
    try:
        call()
    except (ClientError, BotoCoreError, LookupError) as exc:
        return Check(what, name, False, str(exc).splitlines()[0])
    return Check(what, name, True)
