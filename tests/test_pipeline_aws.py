"""Continuous training on AWS: the synthesized pipeline, schedule, new-data trigger, alerts and
MLflow tracking server (arguments, least privilege, outputs, checkov); the pipeline
definition's contract (every reference resolves, unique step names, declared property files,
a JSON Schema of the shapes terraml emits); bad input through the CLI; and the emulator's
pipeline runs, MLflow servers and EventBridge deliveries against an in-process moto server
with terraml's shim."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import boto3
import jsonschema
import pytest
from moto.server import ThreadedMotoServer

from adapters.aws.adapter import AwsAdapter
from adapters.aws.pipeline_definition import STEP_PATHS, DefinitionInputs, definition
from adapters.aws.pipeline_runtime import METRIC_PREFIX  # what `terraml models` reads
from core.pipeline import METRICS_FILE, STEP_VARIABLES
from stacks.app import build_app, load_environment
from terraml.local import moto_server
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import one, resources, synth

EXAMPLE = ROOT / "examples/aws-pipeline.yaml"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/terraml-dev/train:1.0"
ACCOUNT, REGION = "123456789012", "us-east-1"
PIPELINE_REF = "${aws_sagemaker_pipeline.pipeline_ECD41627.arn}"  # stable construct ids
KEY_REF = "${aws_kms_key.key_F64E54E4.arn}"
TRAINING_ROLE_REF = "${aws_iam_role.identity_training-role_976A1CCE.arn}"
SERVER_REF = "${aws_sagemaker_mlflow_tracking_server.tracking_tracking-server_73B5E6A6.arn}"


# -- synth -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> dict:
    return synth(load_environment(EXAMPLE))


def by_name(doc: dict, rtype: str, name: str, key: str = "name") -> tuple[str, dict]:
    found = [(k, v) for k, v in doc["resource"][rtype].items() if v.get(key) == name]
    assert len(found) == 1, f"expected one {rtype} named {name}, found {len(found)}"
    return found[0]


def ref(doc: dict, rtype: str, attribute: str, match: str = "") -> str:
    """`${<type>.<key>.<attribute>}` of the one resource of `rtype` whose key contains
    `match`."""
    (key,) = [k for k in doc["resource"][rtype] if match in k]
    return f"${{{rtype}.{key}.{attribute}}}"


def role_policies(doc: dict, role: str) -> list[dict]:
    """The statements of the inline policies attached to the role named `role`."""
    key, _ = by_name(doc, "aws_iam_role", role)
    return [s for p in resources(doc, "aws_iam_role_policy")
            if p["role"] == f"${{aws_iam_role.{key}.id}}"
            for s in json.loads(p["policy"])["Statement"]]


def pipeline_definition(doc: dict) -> dict:
    return json.loads(one(doc, "aws_sagemaker_pipeline")["pipeline_definition"])


def steps_by_name(document: dict) -> dict[str, dict]:
    found = {}
    for step in document["Steps"]:
        found[step["Name"]] = step
        if step["Type"] == "Condition":
            for inner in step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"]:
                found[inner["Name"]] = inner
    return found


def test_pipeline_runs_as_its_role_with_the_definition(stack):
    pipe = one(stack, "aws_sagemaker_pipeline")
    assert pipe["pipeline_name"] == pipe["pipeline_display_name"] == "terraml-aws-pipeline-training"
    key, _ = by_name(stack, "aws_iam_role", "terraml-aws-pipeline-pipeline")
    assert pipe["role_arn"] == f"${{aws_iam_role.{key}.arn}}"
    assert any("pipeline-role-policy" in d for d in pipe["depends_on"])
    document = pipeline_definition(stack)
    assert document["Version"] == "2020-12-01"
    assert [s["Name"] for s in document["Steps"]] == ["prepare", "train", "evaluate", "gate"]
    # provider 5.100.0 (the local deploy's) rejects 6.x-only arguments
    for rtype in ("aws_sagemaker_pipeline", "aws_scheduler_schedule",
                  "aws_scheduler_schedule_group", "aws_sagemaker_mlflow_tracking_server",
                  "aws_cloudwatch_event_rule",
                  "aws_cloudwatch_event_target", "aws_s3_bucket_notification"):
        for item in resources(stack, rtype):
            assert "region" not in item and "action_after_completion" not in item, rtype


def test_steps_run_on_the_training_settings_in_the_private_network(stack):
    steps = steps_by_name(pipeline_definition(stack))
    train = steps["train"]["Arguments"]
    assert train["TrainingJobName"] == "terraml-aws-pipeline-train"
    assert train["RoleArn"] == TRAINING_ROLE_REF
    assert train["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    assert "VolumeKmsKeyId" not in train["ResourceConfig"]  # local NVMe: SageMaker's own key
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 8 * 3600,
                                          "MaxWaitTimeInSeconds": 16 * 3600}
    assert train["CheckpointConfig"]["S3Uri"]["Std:Join"]["Values"][1] == \
        {"Get": "Execution.PipelineExecutionId"}
    assert train["EnableInterContainerTrafficEncryption"] is True
    assert train["OutputDataConfig"]["KmsKeyId"] == KEY_REF
    assert train["OutputDataConfig"]["S3OutputPath"].endswith("/training-output/")
    assert len(train["VpcConfig"]["Subnets"]) == 2 and train["VpcConfig"]["SecurityGroupIds"]
    assert train["AlgorithmSpecification"]["ContainerEntrypoint"] == ["python"]
    assert train["AlgorithmSpecification"]["ContainerArguments"] == \
        ["-m", "churn.train", "--epochs", "5"]
    assert train["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == \
        {"Get": "Steps.prepare.ProcessingOutputConfig.Outputs['prepared'].S3Output.S3Uri"}
    for name, instance in (("prepare", "ml.m5.xlarge"), ("evaluate", "ml.m5.large")):
        args = steps[name]["Arguments"]
        assert args["ProcessingJobName"] == f"terraml-aws-pipeline-{name}"
        cluster = args["ProcessingResources"]["ClusterConfig"]
        assert cluster["InstanceType"] == instance and cluster["VolumeKmsKeyId"] == KEY_REF
        assert args["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
        assert args["NetworkConfig"]["VpcConfig"] == train["VpcConfig"]
        assert args["ProcessingOutputConfig"]["KmsKeyId"] == KEY_REF
        assert args["RoleArn"] == TRAINING_ROLE_REF


def test_every_step_gets_the_step_variables_and_tracking(stack):
    steps = steps_by_name(pipeline_definition(stack))
    for name, variables in STEP_VARIABLES.items():
        environment = steps[name]["Arguments"]["Environment"]
        assert {v: environment[v] for v in variables} == STEP_PATHS[name]
        assert environment["MLFLOW_TRACKING_URI"] == SERVER_REF
        assert environment["MLFLOW_EXPERIMENT_NAME"] == "churn"
    assert STEP_PATHS["train"]["TERRAML_MODEL_DIR"] == "/opt/ml/model"
    assert STEP_PATHS["evaluate"]["TERRAML_METRICS_FILE"].endswith(f"/evaluation/{METRICS_FILE}")
    evaluate = steps["evaluate"]
    local = evaluate["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["LocalPath"]
    assert STEP_PATHS["evaluate"]["TERRAML_METRICS_FILE"] == f"{local}/{METRICS_FILE}"
    inputs = {i["InputName"]: i["S3Input"]["LocalPath"]
              for i in evaluate["Arguments"]["ProcessingInputs"]}
    assert inputs == {"model": STEP_PATHS["evaluate"]["TERRAML_MODEL_DIR"],
                      "input": STEP_PATHS["evaluate"]["TERRAML_INPUT"]}


def test_the_gate_registers_pending_approval_or_fails(stack):
    steps = steps_by_name(pipeline_definition(stack))
    assert steps["evaluate"]["PropertyFiles"] == [{"PropertyFileName": "EvaluationReport",
                                                   "OutputName": "evaluation",
                                                   "FilePath": METRICS_FILE}]
    gate = steps["gate"]["Arguments"]
    (condition,) = gate["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo" and condition["RightValue"] == 0.8
    assert condition["LeftValue"] == {"Std:JsonGet": {
        "PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.EvaluationReport"}, "Path": "auc"}}
    assert [s["Name"] for s in gate["IfSteps"]] == ["register"]
    assert [(s["Name"], s["Type"]) for s in gate["ElseSteps"]] == [("gate-failed", "Fail")]
    register = steps["register"]["Arguments"]
    assert re.fullmatch(r"\$\{aws_sagemaker_model_package_group\.registry_model-registry_\w+"
                        r"\.model_package_group_name\}", register["ModelPackageGroupName"])
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == \
        {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"}
    assert "metric:auc" in register["CustomerMetadataProperties"]
    assert register["CustomerMetadataProperties"][f"{METRIC_PREFIX}auc"] == {
        "Std:Join": {"On": "", "Values": [condition["LeftValue"]]}}
    assert register["ModelMetrics"]["ModelQuality"]["Statistics"]["ContentType"] == \
        "application/json"


def test_execution_role_is_least_privilege(stack):
    statements = {s["Sid"]: s for s in role_policies(stack, "terraml-aws-pipeline-pipeline")}
    for statement in statements.values():
        actions = statement["Action"]
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement
        assert statement["Resource"] != "*" and "*" not in statement["Resource"], statement
    arn = "arn:${data.aws_partition.partition.partition}:sagemaker:us-east-1:" \
          "${data.aws_caller_identity.caller.account_id}"
    assert statements["RunProcessingJobs"]["Resource"] == \
        [f"{arn}:processing-job/terraml-aws-pipeline-*"]
    assert statements["RunTrainingJobs"]["Resource"] == \
        [f"{arn}:training-job/terraml-aws-pipeline-*"]
    assert set(statements["RunTrainingJobs"]["Action"]) == {
        "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"}
    passing = statements["PassTrainingRole"]
    assert passing["Action"] == ["iam:PassRole"] and passing["Resource"] == [TRAINING_ROLE_REF]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService":
                                                     "sagemaker.amazonaws.com"}}
    register = statements["RegisterModelVersions"]
    assert "sagemaker:CreateModelPackage" in register["Action"]
    assert all("terraml-aws-pipeline-models" in r or "model_package_group" in r
               for r in register["Resource"])
    assert statements["UseEnvironmentKey"]["Resource"] == [KEY_REF]
    assert all(a.startswith(("s3:Get", "s3:List"))
               for a in statements["ReadEnvironmentData"]["Action"])
    _, role = by_name(stack, "aws_iam_role", "terraml-aws-pipeline-pipeline")
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]


def test_schedule_runs_the_converted_cron_in_utc_with_the_key(stack):
    group = one(stack, "aws_scheduler_schedule_group")
    schedule = one(stack, "aws_scheduler_schedule")
    assert group["name"] == "terraml-aws-pipeline"
    assert schedule["name"] == "terraml-aws-pipeline-training"
    assert schedule["schedule_expression"] == "cron(0 3 ? * 2 *)"
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["kms_key_arn"] == KEY_REF
    assert schedule["target"]["arn"] == PIPELINE_REF
    key, role = by_name(stack, "aws_iam_role", "terraml-aws-pipeline-pipeline-scheduler")
    assert schedule["target"]["role_arn"] == f"${{aws_iam_role.{key}.arn}}"
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == \
        {"Service": "scheduler.amazonaws.com"}
    statements = role_policies(stack, "terraml-aws-pipeline-pipeline-scheduler")
    assert {(tuple(s["Action"]), tuple(s["Resource"])) for s in statements} == {
        (("sagemaker:StartPipelineExecution",), (PIPELINE_REF,)),
        (("kms:Decrypt",), (KEY_REF,))}


def test_schedules_in_either_cron_form(write_env):
    for written, expected in (("'*/30 2 1 * *'", "cron(*/30 2 1 * ? *)"),
                              ("'cron(15 4 ? * MON-FRI *)'", "cron(15 4 ? * 2,3,4,5,6 *)")):
        env = load_environment(write_env(
            f"name: dev\ncloud: aws\nregion: us-east-1\npipeline:\n  schedule: {written}\n"
            f"  steps:\n    train: {{image: {IMAGE}, command: python t.py}}\n"))
        doc = synth(env)
        assert one(doc, "aws_scheduler_schedule")["schedule_expression"] == expected


def test_new_data_notification_rule_and_target(stack):
    raw = ref(stack, "aws_s3_bucket", "id", "bucket-raw")
    assert one(stack, "aws_s3_bucket_notification") == {"bucket": raw, "eventbridge": True}
    _, rule = by_name(stack, "aws_cloudwatch_event_rule", "terraml-aws-pipeline-new-data")
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [raw]}, "object": {"key": [{"prefix": "incoming/"}]}}}
    (target,) = [t for t in resources(stack, "aws_cloudwatch_event_target")
                 if t["arn"] == PIPELINE_REF]
    assert target["sagemaker_pipeline_target"]["pipeline_parameter_list"] == [{
        "name": "InputDataUri",
        "value": f"s3://{ref(stack, 'aws_s3_bucket', 'bucket', 'bucket-raw')}/incoming/"}]
    key, role = by_name(stack, "aws_iam_role", "terraml-aws-pipeline-pipeline-trigger")
    assert target["role_arn"] == f"${{aws_iam_role.{key}.arn}}"
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == \
        {"Service": "events.amazonaws.com"}
    (statement,) = role_policies(stack, "terraml-aws-pipeline-pipeline-trigger")
    assert statement["Action"] == ["sagemaker:StartPipelineExecution"]
    assert statement["Resource"] == [PIPELINE_REF]


def test_failed_runs_and_version_changes_alert_the_topic(stack):
    topic = ref(stack, "aws_sns_topic", "arn")
    _, failed = by_name(stack, "aws_cloudwatch_event_rule", "terraml-aws-pipeline-pipeline-failed")
    assert json.loads(failed["event_pattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
        "detail": {"currentPipelineExecutionStatus": ["Failed"], "pipelineArn": [PIPELINE_REF]}}
    _, approval = by_name(stack, "aws_cloudwatch_event_rule", "terraml-aws-pipeline-model-approval")
    pattern = json.loads(approval["event_pattern"])
    assert pattern["detail-type"] == ["SageMaker Model Package State Change"]
    assert pattern["detail"]["ModelPackageGroupName"][0].startswith(
        "${aws_sagemaker_model_package_group.")
    alerts = [t for t in resources(stack, "aws_cloudwatch_event_target") if t["arn"] == topic]
    assert len(alerts) == 3  # failed training jobs (monitoring), failed runs, versions
    assert all(t["input_transformer"]["input_template"].startswith('"terraml: ') for t in alerts)
    # the topic lets EventBridge publish; the key lets EventBridge encrypt for the topic
    policy = json.loads(one(stack, "aws_sns_topic_policy")["policy"])["Statement"][0]
    assert "events.amazonaws.com" in policy["Principal"]["Service"]
    key_policy = json.loads(one(stack, "aws_kms_key")["policy"])["Statement"]
    assert any("events.amazonaws.com" in s.get("Principal", {}).get("Service", [])
               for s in key_policy)


def test_tracking_server_its_role_and_the_jobs_access(stack):
    server = one(stack, "aws_sagemaker_mlflow_tracking_server")
    assert server["tracking_server_name"] == "terraml-aws-pipeline-mlflow"
    assert server["tracking_server_size"] == "Small"
    assert server["artifact_store_uri"] == \
        f"s3://{ref(stack, 'aws_s3_bucket', 'bucket', 'bucket-artifacts')}/mlflow/"
    assert server["weekly_maintenance_window_start"] == "Sun:03:00"
    assert server["automatic_model_registration"] is False
    assert "lifecycle" not in server  # dev: no deletion protection
    key, role = by_name(stack, "aws_iam_role", "terraml-aws-pipeline-mlflow")
    assert server["role_arn"] == f"${{aws_iam_role.{key}.arn}}"
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    statements = {s["Sid"]: s for s in role_policies(stack, "terraml-aws-pipeline-mlflow")}
    artifacts = ref(stack, "aws_s3_bucket", "arn", "bucket-artifacts")
    assert statements["ReadWriteArtifacts"]["Resource"] == [f"{artifacts}/mlflow/*"]
    assert statements["ListArtifactStore"]["Condition"]["StringLike"]["s3:prefix"] == \
        ["mlflow", "mlflow/*"]
    assert statements["UseEnvironmentKey"]["Resource"] == [KEY_REF]
    (report,) = [s for s in role_policies(stack, "terraml-aws-pipeline-training")
                 if s["Sid"] == "ReportToTracking"]
    assert report["Resource"] == [SERVER_REF]
    assert all(a.startswith("sagemaker-mlflow:") and "*" not in a and "Delete" not in a
               for a in report["Action"])


def test_tracking_size_and_protection_outside_dev(write_env):
    env = load_environment(write_env("name: staging\ncloud: aws\nregion: us-east-1\n"
                                     "tracking: {enabled: true, size: large}\n",
                                     name="staging.yaml"))
    doc = synth(env)
    server = one(doc, "aws_sagemaker_mlflow_tracking_server")
    assert server["tracking_server_size"] == "Large"
    assert server["lifecycle"]["prevent_destroy"] is True
    assert doc["output"]["tracking_experiment"]["value"] == "staging"
    assert resources(doc, "aws_sagemaker_pipeline") == []


def test_outputs(stack, write_env):
    out = {k: v["value"] for k, v in stack["output"].items()}
    assert out["pipeline_name"] == \
        "${aws_sagemaker_pipeline.pipeline_ECD41627.pipeline_name}"
    assert out["pipeline_role"].startswith("${aws_iam_role.pipeline_pipeline-role_")
    assert out["pipeline_schedule"] == "0 3 * * MON"
    assert out["pipeline_trigger"] == \
        f"s3://{ref(stack, 'aws_s3_bucket', 'bucket', 'bucket-raw')}/incoming/"
    assert (out["pipeline_approval"], out["pipeline_metric"]) == ("manual", "auc")
    assert out["tracking_uri"] == SERVER_REF
    assert out["tracking_experiment"] == "churn"
    assert out["tracking_server_url"].endswith(".tracking_server_url}")
    bare = synth(load_environment(write_env(
        f"name: dev\ncloud: aws\nregion: us-east-1\npipeline:\n  steps:\n"
        f"    train: {{image: {IMAGE}, command: python t.py}}\n")))
    out = {k: v["value"] for k, v in bare["output"].items()}
    assert (out["pipeline_schedule"], out["pipeline_trigger"], out["pipeline_metric"],
            out["pipeline_approval"]) == ("none", "none", "none", "auto")
    assert "tracking_uri" not in out
    for rtype in ("aws_scheduler_schedule", "aws_s3_bucket_notification",
                  "aws_sagemaker_mlflow_tracking_server"):
        assert resources(bare, rtype) == [], rtype
    document = pipeline_definition(bare)
    assert [s["Name"] for s in document["Steps"]] == ["train", "register"]
    register = document["Steps"][1]["Arguments"]
    assert register["ModelApprovalStatus"] == "Approved" and "ModelMetrics" not in register
    assert "MLFLOW_TRACKING_URI" not in document["Steps"][0]["Arguments"]["Environment"]


def test_environments_without_a_pipeline_have_none():
    doc = synth(load_environment(ROOT / "environments/staging.yaml"))
    for rtype in ("aws_sagemaker_pipeline", "aws_scheduler_schedule",
                  "aws_sagemaker_mlflow_tracking_server", "aws_s3_bucket_notification"):
        assert resources(doc, rtype) == []


def test_checkov_reports_no_unsuppressed_failure(tmp_path: Path):
    import os
    import shutil

    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov") or \
        str(ROOT / ".venv-checkov/bin/checkov")
    if not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    build_app([load_environment(EXAMPLE)], outdir=str(tmp_path)).synth()
    failures, _, summary = gate(checkov, tmp_path)
    assert summary.get("parsing_errors") == 0
    assert failures == [], "\n".join(failures)


# -- the definition's contract -------------------------------------------------------------

EXECUTION_VARIABLES = {"PipelineExecutionId", "PipelineExecutionArn", "PipelineName",
                       "StartDateTime", "CurrentDateTime"}
VALUE: dict = {"$ref": "#/$defs/value"}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["Version", "Metadata", "Parameters", "Steps"],
    "additionalProperties": False,
    "properties": {
        "Version": {"const": "2020-12-01"},
        "Metadata": {"type": "object"},
        "Parameters": {"type": "array", "items": {
            "type": "object", "required": ["Name", "Type"], "additionalProperties": False,
            "properties": {"Name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*$"},
                           "Type": {"enum": ["String", "Integer", "Float", "Boolean"]},
                           "DefaultValue": {}}}},
        "Steps": {"$ref": "#/$defs/steps"},
    },
    "$defs": {
        "get": {"type": "object", "required": ["Get"], "additionalProperties": False,
                "properties": {"Get": {"type": "string",
                                       "pattern": r"^(Parameters|Execution|Steps)\.\S+$"}}},
        "value": {"anyOf": [
            {"type": ["string", "number", "boolean"]},
            {"$ref": "#/$defs/get"},
            {"type": "object", "required": ["Std:Join"], "additionalProperties": False,
             "properties": {"Std:Join": {"type": "object", "required": ["On", "Values"],
                                         "additionalProperties": False,
                                         "properties": {"On": {"type": "string"},
                                                        "Values": {"type": "array",
                                                                   "items": VALUE}}}}},
            {"type": "object", "required": ["Std:JsonGet"], "additionalProperties": False,
             "properties": {"Std:JsonGet": {"type": "object", "required": ["PropertyFile", "Path"],
                                            "additionalProperties": False,
                                            "properties": {"PropertyFile": {"$ref": "#/$defs/get"},
                                                           "Path": {"type": "string"}}}}}]},
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
        "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        "step": {"type": "object", "required": ["Name", "Type", "Arguments"],
                 "additionalProperties": False,
                 "properties": {"Name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                                "Type": {"enum": ["Processing", "Training", "Condition",
                                                  "RegisterModel", "Fail"]},
                                "Arguments": {"type": "object"}, "DependsOn": {"type": "array"},
                                "PropertyFiles": {"type": "array", "items": {
                                    "type": "object", "additionalProperties": False,
                                    "required": ["PropertyFileName", "OutputName", "FilePath"],
                                    "properties": {"PropertyFileName": {"type": "string"},
                                                   "OutputName": {"type": "string"},
                                                   "FilePath": {"type": "string"}}}}},
                 "allOf": [
                     {"if": {"properties": {"Type": {"const": "Processing"}}},
                      "then": {"properties": {"Arguments": {"$ref": "#/$defs/processing"}}}},
                     {"if": {"properties": {"Type": {"const": "Training"}}},
                      "then": {"properties": {"Arguments": {"$ref": "#/$defs/training"}}}},
                     {"if": {"properties": {"Type": {"const": "Condition"}}},
                      "then": {"properties": {"Arguments": {"$ref": "#/$defs/condition"}}}},
                     {"if": {"properties": {"Type": {"const": "RegisterModel"}}},
                      "then": {"properties": {"Arguments": {"$ref": "#/$defs/register"}}}},
                     {"if": {"properties": {"Type": {"const": "Fail"}}},
                      "then": {"properties": {"Arguments": {
                          "type": "object", "required": ["ErrorMessage"],
                          "additionalProperties": False,
                          "properties": {"ErrorMessage": VALUE}}}}}]},
        "network": {"type": "object", "required": ["Subnets", "SecurityGroupIds"],
                    "additionalProperties": False,
                    "properties": {"Subnets": {"type": "array", "minItems": 1},
                                   "SecurityGroupIds": {"type": "array", "minItems": 1}}},
        "processing": {
            "type": "object", "additionalProperties": False,
            "required": ["ProcessingResources", "AppSpecification", "RoleArn",
                         "ProcessingOutputConfig", "StoppingCondition", "NetworkConfig"],
            "properties": {
                "ProcessingJobName": {"type": "string", "maxLength": 50},
                "ProcessingResources": {"type": "object", "required": ["ClusterConfig"]},
                "AppSpecification": {"type": "object", "required": ["ImageUri"],
                                     "additionalProperties": False,
                                     "properties": {"ImageUri": {"type": "string"},
                                                    "ContainerEntrypoint": {"type": "array"},
                                                    "ContainerArguments": {"type": "array"}}},
                "RoleArn": {"type": "string"}, "Environment": {"$ref": "#/$defs/environment"},
                "NetworkConfig": {"type": "object", "properties": {
                    "VpcConfig": {"$ref": "#/$defs/network"}}},
                "ProcessingInputs": {"type": "array", "items": {
                    "type": "object", "required": ["InputName", "S3Input"],
                    "properties": {"S3Input": {"type": "object",
                                               "required": ["S3Uri", "LocalPath", "S3DataType"],
                                               "properties": {"S3Uri": VALUE}}}}},
                "ProcessingOutputConfig": {"type": "object", "required": ["Outputs"],
                                           "properties": {"Outputs": {"type": "array", "items": {
                                               "type": "object",
                                               "required": ["OutputName", "S3Output"]}}}},
                "StoppingCondition": {"type": "object", "required": ["MaxRuntimeInSeconds"]}}},
        "training": {
            "type": "object", "additionalProperties": False,
            "required": ["AlgorithmSpecification", "RoleArn", "OutputDataConfig",
                         "ResourceConfig", "StoppingCondition", "VpcConfig"],
            "properties": {
                "TrainingJobName": {"type": "string", "maxLength": 50},
                "AlgorithmSpecification": {"type": "object",
                                           "required": ["TrainingImage", "TrainingInputMode"]},
                "RoleArn": {"type": "string"},
                "InputDataConfig": {"type": "array"}, "OutputDataConfig": {"type": "object"},
                "ResourceConfig": {"type": "object",
                                   "required": ["InstanceType", "InstanceCount",
                                                "VolumeSizeInGB"]},
                "VpcConfig": {"$ref": "#/$defs/network"},
                "StoppingCondition": {"type": "object", "required": ["MaxRuntimeInSeconds"]},
                "EnableManagedSpotTraining": {"type": "boolean"},
                "EnableInterContainerTrafficEncryption": {"const": True},
                "CheckpointConfig": {"type": "object", "required": ["S3Uri"]},
                "Environment": {"$ref": "#/$defs/environment"}}},
        "condition": {
            "type": "object", "required": ["Conditions", "IfSteps", "ElseSteps"],
            "additionalProperties": False,
            "properties": {
                "Conditions": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["Type", "LeftValue", "RightValue"],
                    "additionalProperties": False,
                    "properties": {"Type": {"enum": ["GreaterThanOrEqualTo",
                                                     "LessThanOrEqualTo"]},
                                   "LeftValue": VALUE, "RightValue": VALUE}}},
                "IfSteps": {"$ref": "#/$defs/steps"}, "ElseSteps": {"$ref": "#/$defs/steps"}}},
        "register": {
            "type": "object", "additionalProperties": False,
            "required": ["ModelPackageGroupName", "ModelApprovalStatus",
                         "InferenceSpecification"],
            "properties": {
                "ModelPackageGroupName": {"type": "string"},
                "ModelApprovalStatus": {"enum": ["PendingManualApproval", "Approved"]},
                "InferenceSpecification": {"type": "object", "required": ["Containers"]},
                "ModelMetrics": {"type": "object"},
                "CustomerMetadataProperties": {"type": "object",
                                               "additionalProperties": VALUE}}},
    },
}


def references(value) -> list[str]:
    if isinstance(value, list):
        return [r for item in value for r in references(item)]
    if not isinstance(value, dict):
        return []
    found = [value["Get"]] if isinstance(value.get("Get"), str) else []
    return found + [r for item in value.values() for r in references(item)]


def run_order(steps: list[dict]) -> list[dict]:
    """Steps in the order they run: a condition's branches right after it."""
    found = []
    for step in steps:
        found.append(step)
        if step["Type"] == "Condition":
            found += run_order(step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"])
    return found


def check_definition(document: dict) -> None:
    """The contract: the schema; unique step names; every `Get` names a declared parameter,
    an execution variable, or a property of a step that runs earlier (outputs, model artifacts
    and property files that exist); declared property files name an output of their step."""
    jsonschema.validate(document, SCHEMA)
    order = run_order(document["Steps"])
    names = [s["Name"] for s in order]
    assert len(names) == len(set(names)), names
    position = {name: i for i, name in enumerate(names)}
    steps = {s["Name"]: s for s in order}
    parameters = {p["Name"] for p in document["Parameters"]}

    def outputs(step: dict) -> set[str]:
        return {o["OutputName"] for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]}

    for step in order:
        for declared in step.get("PropertyFiles", []):
            assert step["Type"] == "Processing" and declared["OutputName"] in outputs(step)
        arguments = {k: v for k, v in step["Arguments"].items()
                     if k not in ("IfSteps", "ElseSteps")}
        for reference in references(arguments):
            root, _, rest = reference.partition(".")
            if root == "Parameters":
                assert rest in parameters, reference
            elif root == "Execution":
                assert rest in EXECUTION_VARIABLES, reference
            else:
                name, _, path = rest.partition(".")
                assert name in steps and position[name] < position[step["Name"]], reference
                source = steps[name]
                if path.startswith("PropertyFiles."):
                    assert path.split(".", 1)[1] in {
                        f["PropertyFileName"] for f in source.get("PropertyFiles", [])}, reference
                elif path.startswith("ProcessingOutputConfig.Outputs"):
                    output = re.fullmatch(r"ProcessingOutputConfig\.Outputs\['([^']+)'\]"
                                          r"\.S3Output\.S3Uri", path)
                    assert output and output.group(1) in outputs(source), reference
                else:
                    assert path == "ModelArtifacts.S3ModelArtifacts", reference
                    assert source["Type"] == "Training", reference


def literal_inputs(env, **changes) -> DefinitionInputs:
    """The definition's inputs with literal names (as the emulator tests deploy it)."""
    adapter, steps = AwsAdapter(), env.pipeline.steps
    machines = {n: adapter.cpu_machine(s.size) for n, s in (("prepare", steps.prepare),
                                                          ("evaluate", steps.evaluate)) if s}
    machines["train"] = adapter.train_step_machine(steps.train, env.training).instance_type
    server = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/{env.prefix}-mlflow"
    values = {
        "spec": env.pipeline, "pipeline_name": f"{env.prefix}-training",
        "job_prefix": env.prefix, "job_role": f"arn:aws:iam::{ACCOUNT}:role/{env.prefix}-training",
        "key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/local", "subnets": ["subnet-1", "subnet-2"],
        "security_group": "sg-1", "buckets": {n: f"{env.prefix}-{n}" for n in env.data.buckets},
        "machines": machines, "spot": env.training.spot,
        "max_runtime_seconds": int(env.training.max_runtime_hours * 3600),
        "model_group": f"{env.prefix}-models", "approval": env.pipeline.registration.approval,
        "tracking": (server, env.tracking.experiment or env.name) if env.tracking.enabled
        else None}
    values.update(changes)
    return DefinitionInputs(**values)


VARIANTS = {
    "train only": "    train: {image: I, command: python t.py}\n",
    "prepare and train": "    prepare: {image: I, command: p}\n    train: {image: I, command: t}\n",
    "evaluate without a gate": "    train: {image: I, command: t}\n"
                               "    evaluate: {image: I, command: e}\n",
    "max only": "    train: {image: I, command: t}\n"
                "    evaluate: {image: I, command: e, metric: loss, max: 0.3}\n",
    "min and max": "    prepare: {image: I, command: p}\n    train: {image: I, command: t}\n"
                   "    evaluate: {image: I, command: e, metric: f1, min: 0.5, max: 0.99}\n",
    "own machine": "    train: {image: I, command: t, accelerator: A10G, count: 4}\n"
                   "    evaluate: {image: I, command: e, metric: auc, min: 0.7, size: large}\n",
}


def test_the_example_definition_meets_the_contract(stack):
    check_definition(pipeline_definition(stack))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_shape_meets_the_contract(variant, write_env):
    env = load_environment(write_env(
        "name: dev\ncloud: aws\nregion: us-east-1\ntracking: {enabled: true}\n"
        "pipeline:\n  on_new_data: features/new/\n  steps:\n"
        + VARIANTS[variant].replace("image: I", f"image: {IMAGE}")))
    document = definition(literal_inputs(env))
    check_definition(document)
    assert json.loads(json.dumps(document)) == document
    names = [s["Name"] for s in run_order(document["Steps"])]
    gated = env.pipeline.steps.evaluate is not None and env.pipeline.steps.evaluate.metric
    assert ("gate" in names) == bool(gated) and "register" in names
    assert document["Parameters"][0]["DefaultValue"] == "s3://terraml-dev-features/new/"
    if variant == "max only":
        (condition,) = steps_by_name(document)["gate"]["Arguments"]["Conditions"]
        assert condition["Type"] == "LessThanOrEqualTo" and condition["RightValue"] == 0.3
    if variant == "min and max":
        kinds = [c["Type"] for c in steps_by_name(document)["gate"]["Arguments"]["Conditions"]]
        assert kinds == ["GreaterThanOrEqualTo", "LessThanOrEqualTo"]
    if variant == "own machine":
        train = steps_by_name(document)["train"]["Arguments"]["ResourceConfig"]
        assert train["InstanceType"] == "ml.g5.12xlarge"


def test_the_contract_check_catches_broken_definitions(write_env):
    env = load_environment(EXAMPLE)
    good = definition(literal_inputs(env))
    broken = json.loads(json.dumps(good).replace("Steps.prepare.", "Steps.nope."))
    with pytest.raises(AssertionError, match="Steps.nope"):
        check_definition(broken)
    broken = json.loads(json.dumps(good).replace("PropertyFiles.EvaluationReport",
                                                 "PropertyFiles.Missing"))
    with pytest.raises(AssertionError, match="Missing"):
        check_definition(broken)
    broken = json.loads(json.dumps(good).replace('"gate-failed"', '"train"'))
    with pytest.raises(AssertionError):
        check_definition(broken)
    broken = json.loads(json.dumps(good).replace('"GreaterThanOrEqualTo"', '"Between"'))
    with pytest.raises(jsonschema.ValidationError):
        check_definition(broken)


# -- bad input through the CLI -----------------------------------------------------------


TRAIN = "    train: {image: I, command: t}\n"
BAD = {  # (the file's pipeline lines after `steps:`, the line named, the message)
    "unknown step": (TRAIN + "    deploy: {image: I, command: d}\n", 8,
                     "pipeline.steps.deploy: unknown setting"),
    "bad cron": (TRAIN + "  schedule: '0 25 * * *'\n", 8,
                 "pipeline.schedule: hour: expected 0-23, found '25'"),
    "gate without a metric": (TRAIN + "    evaluate: {image: I, command: e, min: 0.8}\n", 8,
                              "pipeline.steps.evaluate: a gate (min/max) needs the metric"),
    "bucket not in data.buckets": (TRAIN + "  on_new_data: logs/incoming/\n", 8,
                                   "pipeline.on_new_data: expected one of the data buckets "
                                   + "(raw, features, models, artifacts), found 'logs'"),
    "train hours over the limit": ("    train: {image: I, command: t, hours: 9}\n", 7,
                                   "pipeline.steps.train.hours: expected at most "
                                   + "training.max_runtime_hours (8), found 9"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_pipeline_input_is_one_line_exit_2(case, tmp_path: Path):
    text, line, message = BAD[case]
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "dev.yaml").write_text(
        "name: dev\ncloud: aws\nregion: us-east-1\n"
        "training: {accelerator: T4, max_runtime_hours: 8}\npipeline:\n  steps:\n"
        + text.replace("image: I", f"image: {IMAGE}"))
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"{envs / 'dev.yaml'}:{line}: {message}" in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


# -- the emulator: pipeline runs, MLflow, EventBridge ----------------------------------------


@pytest.fixture(scope="module")
def emulator():
    moto_server.install()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(emulator):
    import requests

    requests.post(f"{emulator}/moto-api/reset", timeout=10)
    return lambda service: boto3.client(service, endpoint_url=emulator, region_name=REGION,
                                        aws_access_key_id="test", aws_secret_access_key="test")


def deploy(aws, env, **changes) -> str:
    """What the stack makes for the pipeline, by hand: buckets (TLS-only, as the stack's),
    the model package group and the pipeline with the definition terraml synthesizes."""
    inputs = literal_inputs(env, **changes)
    for bucket in inputs.buckets.values():
        aws("s3").create_bucket(Bucket=bucket)
        arn = f"arn:aws:s3:::{bucket}"
        aws("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"},
                "Action": "s3:*", "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    aws("sagemaker").create_model_package_group(ModelPackageGroupName=inputs.model_group)
    aws("sagemaker").create_pipeline(
        PipelineName=inputs.pipeline_name, PipelineDisplayName=inputs.pipeline_name,
        PipelineDefinition=json.dumps(definition(inputs)), ClientRequestToken="t" * 32,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{env.prefix}-pipeline")
    return inputs.pipeline_name


def stage_report(aws, env, report: dict | str) -> str:
    """Put the evaluate step's report where the emulator takes it from (see pipeline_runs)."""
    key = f"pipelines/{env.prefix}-training/emulator/evaluate/{METRICS_FILE}"
    body = report if isinstance(report, str) else json.dumps(report)
    aws("s3").put_object(Bucket=f"{env.prefix}-artifacts", Key=key, Body=body.encode())
    return f"s3://{env.prefix}-artifacts/{key}"


def start(aws, pipeline: str, **parameters) -> tuple[dict, dict[str, dict]]:
    sm = aws("sagemaker")
    arn = sm.start_pipeline_execution(
        PipelineName=pipeline, ClientRequestToken="s" * 32,
        PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()])[
        "PipelineExecutionArn"]
    run = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn,
                                             SortOrder="Ascending")["PipelineExecutionSteps"]
    return run, {s["StepName"]: s for s in steps}


@pytest.fixture(scope="module")
def example():
    return load_environment(EXAMPLE)


def test_a_run_above_the_gate_registers_a_version_pending_approval(aws, example):
    pipeline = deploy(aws, example)
    report = stage_report(aws, example, {"auc": 0.91})
    run, steps = start(aws, pipeline)
    assert run["PipelineExecutionStatus"] == "Succeeded" and "FailureReason" not in run
    assert list(steps) == ["prepare", "train", "evaluate", "gate", "register"]
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    assert steps["gate"]["Metadata"]["Condition"]["Outcome"] == "True"
    sm = aws("sagemaker")
    job = sm.describe_training_job(
        TrainingJobName=steps["train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1])
    assert job["TrainingJobName"].startswith("terraml-aws-pipeline-train-")
    assert job["EnableManagedSpotTraining"] is True
    assert job["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    package = sm.describe_model_package(
        ModelPackageName=steps["register"]["Metadata"]["RegisterModel"]["Arn"])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["ModelPackageGroupName"] == "terraml-aws-pipeline-models"
    assert sm.list_tags(ResourceArn=package["ModelPackageArn"])["Tags"] == []  # moto: a 500
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == \
        job["ModelArtifacts"]["S3ModelArtifacts"]
    assert package["CustomerMetadataProperties"] == {
        "metric:auc": "0.91", "pipeline_execution": run["PipelineExecutionArn"]}
    copied = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    run_id = run["PipelineExecutionArn"].rsplit("/", 1)[1]
    assert copied == report.replace("/emulator/", f"/{run_id}/")
    bucket, key = copied.removeprefix("s3://").split("/", 1)
    assert json.loads(aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()) == \
        {"auc": 0.91}
    # approving keeps the metadata the run recorded (moto alone would clear it)
    sm.update_model_package(ModelPackageArn=package["ModelPackageArn"],
                            ModelApprovalStatus="Approved")
    approved = sm.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    assert approved["ModelApprovalStatus"] == "Approved"
    assert approved["CustomerMetadataProperties"]["metric:auc"] == "0.91"


def test_a_run_below_the_gate_fails_at_the_condition(aws, example):
    pipeline = deploy(aws, example)
    stage_report(aws, example, {"auc": 0.5})
    run, steps = start(aws, pipeline)
    assert run["PipelineExecutionStatus"] == "Failed"
    assert run["FailureReason"] == ("step gate-failed failed: auc = 0.5 is outside the gate "
                                    "(>= 0.8); model not registered")
    assert steps["gate"]["StepStatus"] == "Succeeded"
    assert steps["gate"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert steps["gate-failed"]["StepStatus"] == "Failed"
    assert "register" not in steps
    assert aws("sagemaker").list_model_packages(
        ModelPackageGroupName="terraml-aws-pipeline-models")["ModelPackageSummaryList"] == []
    listed = aws("sagemaker").list_pipeline_executions(PipelineName=pipeline)[
        "PipelineExecutionSummaries"]
    assert listed[0]["PipelineExecutionFailureReason"] == run["FailureReason"]


def test_without_a_report_the_evaluate_step_says_where_to_put_one(aws, example):
    pipeline = deploy(aws, example)
    run, steps = start(aws, pipeline)
    assert run["PipelineExecutionStatus"] == "Failed"
    reason = steps["evaluate"]["FailureReason"]
    assert "containers do not run in the emulator" in reason
    assert "s3://terraml-aws-pipeline-artifacts/pipelines/terraml-aws-pipeline-training/" \
           f"emulator/evaluate/{METRICS_FILE}" in reason
    assert [s["StepStatus"] for s in steps.values()] == ["Succeeded", "Succeeded", "Failed"]
    stage_report(aws, example, "not json")
    run, steps = start(aws, pipeline)
    assert "is not JSON" in steps["evaluate"]["FailureReason"]
    stage_report(aws, example, {"accuracy": 0.99})
    run, steps = start(aws, pipeline)
    run_id = run["PipelineExecutionArn"].rsplit("/", 1)[1]
    assert steps["gate"]["FailureReason"] == (
        "'auc' is not in the report s3://terraml-aws-pipeline-artifacts/pipelines/"
        f"terraml-aws-pipeline-training/{run_id}/evaluate/{METRICS_FILE}")


def test_parameters_and_auto_approval_without_a_gate(aws, write_env):
    env = load_environment(write_env(
        "name: dev\ncloud: aws\nregion: us-east-1\npipeline:\n  steps:\n"
        f"    prepare: {{image: {IMAGE}, command: p}}\n"
        f"    train: {{image: {IMAGE}, command: t}}\n"))
    pipeline = deploy(aws, env)
    run, steps = start(aws, pipeline, InputDataUri="s3://terraml-dev-raw/2026-11/")
    assert run["PipelineExecutionStatus"] == "Succeeded"
    assert list(steps) == ["prepare", "train", "register"]
    sm = aws("sagemaker")
    job = sm.describe_processing_job(ProcessingJobName=steps["prepare"]["Metadata"][
        "ProcessingJob"]["Arn"].rsplit("/", 1)[1])
    assert job["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://terraml-dev-raw/2026-11/"
    package = sm.describe_model_package(
        ModelPackageName=steps["register"]["Metadata"]["RegisterModel"]["Arn"])
    assert package["ModelApprovalStatus"] == "Approved"
    with pytest.raises(sm.exceptions.ClientError, match="already Succeeded"):
        sm.stop_pipeline_execution(PipelineExecutionArn=run["PipelineExecutionArn"],
                                   ClientRequestToken="x" * 32)


def test_new_data_starts_the_pipeline_and_failures_reach_the_topic(aws, example):
    """The stack's notification, rules and targets, made by hand: an object under the prefix
    starts a run; a failed run and a new version are published to the alerts topic."""
    pipeline = deploy(aws, example)
    sm, events, s3 = aws("sagemaker"), aws("events"), aws("s3")
    pipeline_arn = sm.describe_pipeline(PipelineName=pipeline)["PipelineArn"]
    raw = f"{example.prefix}-raw"
    s3.put_bucket_notification_configuration(
        Bucket=raw, NotificationConfiguration={"EventBridgeConfiguration": {}})
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=raw)
    events.put_rule(Name="new-data", EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [raw]}, "object": {"key": [{"prefix": "incoming/"}]}}}))
    events.put_targets(Rule="new-data", Targets=[{
        "Id": "pipeline", "Arn": pipeline_arn, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
        "SageMakerPipelineParameters": {"PipelineParameterList": [
            {"Name": "InputDataUri", "Value": f"s3://{raw}/incoming/"}]}}])
    topic = aws("sns").create_topic(Name="alerts")["TopicArn"]
    queue = aws("sqs").create_queue(QueueName="alerts-copy")["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    aws("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    for name, detail_type, detail, transformer in (
            ("failed", "SageMaker Model Building Pipeline Execution Status Change",
             {"currentPipelineExecutionStatus": ["Failed"], "pipelineArn": [pipeline_arn]},
             ({"run": "$.detail.pipelineExecutionArn"}, '"run <run> failed"')),
            ("versions", "SageMaker Model Package State Change",
             {"ModelPackageGroupName": ["terraml-aws-pipeline-models"]},
             ({"status": "$.detail.ModelApprovalStatus"}, '"version <status>"'))):
        events.put_rule(Name=name, EventPattern=json.dumps({
            "source": ["aws.sagemaker"], "detail-type": [detail_type], "detail": detail}))
        events.put_targets(Rule=name, Targets=[{"Id": "alerts", "Arn": topic, "InputTransformer": {
            "InputPathsMap": transformer[0], "InputTemplate": transformer[1]}}])

    s3.put_object(Bucket=raw, Key="elsewhere/a.csv", Body=b"x")
    assert sm.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"] == []
    s3.put_object(Bucket=raw, Key="incoming/a.csv", Body=b"x")  # no report yet: fails
    (first,) = sm.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    assert first["PipelineExecutionStatus"] == "Failed"
    assert sm.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=first["PipelineExecutionArn"])["PipelineParameters"] == [
        {"Name": "InputDataUri", "Value": f"s3://{raw}/incoming/"}]
    stage_report(aws, example, {"auc": 0.95})
    s3.put_object(Bucket=raw, Key="incoming/b.csv", Body=b"x")
    latest = sm.list_pipeline_executions(PipelineName=pipeline, SortOrder="Descending")[
        "PipelineExecutionSummaries"][0]
    assert latest["PipelineExecutionStatus"] == "Succeeded"
    messages = [json.loads(m["Body"])["Message"] for m in aws("sqs").receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(messages) == sorted([f"run {first['PipelineExecutionArn']} failed",
                                       "version PendingManualApproval"])


def test_mlflow_tracking_servers_and_their_tags(aws):
    sm = aws("sagemaker")
    arn = sm.create_mlflow_tracking_server(
        TrackingServerName="t-mlflow", ArtifactStoreUri="s3://b/mlflow/",
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/m", TrackingServerSize="Medium",
        WeeklyMaintenanceWindowStart="Sun:03:00", Tags=[{"Key": "env", "Value": "dev"}])[
        "TrackingServerArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/t-mlflow"
    found = sm.describe_mlflow_tracking_server(TrackingServerName="t-mlflow")
    assert (found["TrackingServerStatus"], found["TrackingServerSize"],
            found["WeeklyMaintenanceWindowStart"]) == ("Created", "Medium", "Sun:03:00")
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ml"}])
    assert {t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]} == {"env", "team"}
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert [t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]] == ["env"]
    sm.update_mlflow_tracking_server(TrackingServerName="t-mlflow", TrackingServerSize="Large")
    found = sm.describe_mlflow_tracking_server(TrackingServerName="t-mlflow")
    assert (found["TrackingServerStatus"], found["TrackingServerSize"]) == ("Updated", "Large")
    assert sm.list_mlflow_tracking_servers()["TrackingServerSummaries"][0][
        "TrackingServerName"] == "t-mlflow"
    assert sm.create_presigned_mlflow_tracking_server_url(
        TrackingServerName="t-mlflow")["AuthorizedUrl"].startswith("https://")
    sm.delete_mlflow_tracking_server(TrackingServerName="t-mlflow")
    with pytest.raises(sm.exceptions.ClientError) as gone:
        sm.describe_mlflow_tracking_server(TrackingServerName="t-mlflow")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFound"
