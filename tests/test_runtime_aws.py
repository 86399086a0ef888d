"""AWS runtime through the CLI against an in-process moto server (with terraml's shim):
train -> model package -> endpoint config -> endpoint -> update; rollback; status burn
rate; stop-idle driven by CloudWatch metrics put into moto; retries and one-line errors."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from moto.core.exceptions import JsonRESTError
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer

from terraml.local import moto_server
from tests.aws_stack import REGION, FakeAwsStack
from tests.conftest import ROOT, run_cli

RT_ENV = """name: rt
cloud: aws
region: us-east-1
tier: staging
training: {accelerator: T4, spot: true, max_runtime_hours: 12}
serving: {mode: realtime, size: medium, min_instances: 2, max_instances: 4}
guardrails:
  allowed_accelerators: [T4, A10G]
  max_gpus: 4
  # These tests roll artifacts out (--model); the approval gate has its own tests
  # (tests/test_approval_aws.py).
  actions: {model_approval: "off"}
"""
FAST = {"TERRAML_RETRY_BASE_SECONDS": "0.01", "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test"}
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/terraml-rt-train:1.0"
SERVE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/terraml-rt-serve:1.0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url():
    moto_server.install()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}", port
    server.stop()


@pytest.fixture
def project(tmp_path: Path, moto_url):
    import requests

    requests.post(f"{moto_url[0]}/moto-api/reset", timeout=10)
    work = tmp_path / "project"
    (work / "environments").mkdir(parents=True)
    (work / "environments" / "rt.yaml").write_text(RT_ENV)
    (work / "environments" / "dev.yaml").write_text((ROOT / "environments/dev.yaml").read_text())
    return work


def _stack(project: Path, moto_url, env: str = "rt", **options) -> FakeAwsStack:
    return FakeAwsStack.create(project, moto_url[0], moto_url[1], env, **options)


def _backend():
    return sagemaker_backends["123456789012"][REGION]


def cli(project: Path, *args: str):
    return run_cli(*args, cwd=project, env=FAST)


def test_train_uses_the_stacks_role_buckets_network_and_key(project, moto_url):
    stack = _stack(project, moto_url)
    done = cli(project, "train", "--env", "rt", "--image", IMAGE, "--entry",
               "python train.py --epochs 3", "--name", "terraml-rt-job1", "--wait",
               "--env-var", "SEED=7")
    assert done.returncode == 0, done.stderr
    assert "job: terraml-rt-job1" in done.stdout
    assert "status: succeeded" in done.stdout
    job = stack.c("sagemaker").describe_training_job(TrainingJobName="terraml-rt-job1")
    out = stack.outputs
    assert job["RoleArn"] == out["training_role"]
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert job["AlgorithmSpecification"]["ContainerEntrypoint"] == ["python"]
    assert job["AlgorithmSpecification"]["ContainerArguments"] == ["train.py", "--epochs", "3"]
    assert job["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    assert "VolumeKmsKeyId" not in job["ResourceConfig"]  # g4dn has local NVMe
    assert job["OutputDataConfig"] == {"S3OutputPath": out["training_output_uri"],
                                       "KmsKeyId": out["kms_key"]}
    assert job["VpcConfig"] == {"Subnets": out["training_subnet_ids"],
                                "SecurityGroupIds": [out["training_security_group_id"]]}
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 12 * 3600,
                                        "MaxWaitTimeInSeconds": 24 * 3600}
    assert job["CheckpointConfig"]["S3Uri"].endswith("/checkpoints/terraml-rt-job1/")
    assert job["EnableInterContainerTrafficEncryption"] is True
    tags = {t["Key"]: t["Value"] for t in stack.c("sagemaker").list_tags(
        ResourceArn=job["TrainingJobArn"])["Tags"]}
    assert tags["env"] == "rt" and tags["cost-center"] == "ml-platform"


def test_cpu_training_gets_a_kms_volume_key(project, moto_url):
    stack = _stack(project, moto_url)
    done = cli(project, "train", "--env", "rt", "--image", IMAGE, "--entry", "python t.py",
               "--instance-type", "ml.m5.xlarge", "--no-spot", "--name", "terraml-rt-cpu")
    assert done.returncode == 0, done.stderr
    job = stack.c("sagemaker").describe_training_job(TrainingJobName="terraml-rt-cpu")
    assert job["ResourceConfig"]["VolumeKmsKeyId"] == stack.outputs["kms_key"]
    assert job["EnableManagedSpotTraining"] is False
    assert "CheckpointConfig" not in job


def test_guardrails_refuse_before_any_api_call(project, moto_url):
    stack = _stack(project, moto_url, "dev", serverless=True)
    cases = [
        (["--no-spot"], "guardrail spot_training"),
        (["--accelerator", "A100", "--count", "8"], "guardrail allowed_accelerators"),
        (["--max-hours", "9"], "guardrail max_runtime_hours"),
        (["--accelerator", "L4", "--count", "8"], "guardrail max_gpus"),
    ]
    for extra, rule in cases:
        done = cli(project, "train", "--env", "dev", "--image", IMAGE, "--entry", "python t.py",
                   *extra)
        assert done.returncode == 1, (extra, done.stderr)
        assert done.stderr.startswith("blocked: " + rule), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert stack.c("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


def test_deploy_registers_then_blue_green_updates_and_retires_the_previous(project, moto_url):
    stack = _stack(project, moto_url)
    sm = stack.c("sagemaker")
    first = cli(project, "deploy-model", "--env", "rt", "--model", "s3://models/m1.tar.gz",
                "--image", SERVE, "--version", "v1")
    assert first.returncode == 0, first.stderr
    assert "status: healthy" in first.stdout
    endpoint = sm.describe_endpoint(EndpointName=stack.outputs["endpoint_name"])
    assert endpoint["EndpointConfigName"] == "terraml-rt-m-v1"
    config = sm.describe_endpoint_config(EndpointConfigName="terraml-rt-m-v1")
    variant = config["ProductionVariants"][0]
    assert (variant["VariantName"], variant["InstanceType"], variant["ModelName"]) == \
        ("primary", "ml.m5.xlarge", "terraml-rt-m-v1")
    model = sm.describe_model(ModelName="terraml-rt-m-v1")
    packages = sm.list_model_packages(ModelPackageGroupName="terraml-rt-models")
    package = packages["ModelPackageSummaryList"][0]
    assert model["PrimaryContainer"]["ModelPackageName"] == package["ModelPackageArn"]
    assert model["ExecutionRoleArn"] == stack.outputs["serving_role"]
    assert model["VpcConfig"]["Subnets"] == stack.outputs["training_subnet_ids"]
    assert package["ModelApprovalStatus"] == "Approved"
    described = sm.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    container = described["InferenceSpecification"]["Containers"][0]
    assert container == {"Image": SERVE, "ModelDataUrl": "s3://models/m1.tar.gz"} | \
        {k: v for k, v in container.items() if k not in ("Image", "ModelDataUrl")}

    second = cli(project, "deploy-model", "--env", "rt", "--model", "s3://models/m2.tar.gz",
                 "--image", SERVE, "--version", "v2")
    assert second.returncode == 0, second.stderr
    assert sm.describe_endpoint(EndpointName=stack.outputs["endpoint_name"])[
        "EndpointConfigName"] == "terraml-rt-m-v2"
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]}
    assert configs == {"terraml-rt-placeholder", "terraml-rt-m-v2"}  # v1 retired, placeholder kept
    models = {m["ModelName"] for m in sm.list_models()["Models"]}
    assert models == {"terraml-rt-placeholder", "terraml-rt-m-v2"}


def test_failed_rollout_rolls_back_and_leaves_nothing_half_created(project, moto_url,
                                                                   monkeypatch):
    stack = _stack(project, moto_url)
    sm = stack.c("sagemaker")

    def failing_update(self):  # SageMaker's auto-rollback: old config stays, reason is set
        endpoint = self.sagemaker_backend.endpoints[self._get_param("EndpointName")]
        endpoint.failure_reason = "Alarm terraml-rt-Invocation5XXErrors fired during canary"
        from moto.core.responses import ActionResult

        return ActionResult({"EndpointArn": endpoint.arn})

    monkeypatch.setattr(SageMakerResponse, "update_endpoint", failing_update)
    done = cli(project, "deploy-model", "--env", "rt", "--model", "s3://models/bad.tar.gz",
               "--image", SERVE, "--version", "bad")
    assert done.returncode == 3, done.stderr  # ran and failed: rolled back
    assert "status: FAILED - rolled back: Alarm terraml-rt-Invocation5XXErrors" in done.stdout
    assert sm.describe_endpoint(EndpointName=stack.outputs["endpoint_name"])[
        "EndpointConfigName"] == "terraml-rt-placeholder"
    assert {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]} == \
        {"terraml-rt-placeholder"}
    assert {m["ModelName"] for m in sm.list_models()["Models"]} == {"terraml-rt-placeholder"}
    package = sm.list_model_packages(ModelPackageGroupName="terraml-rt-models")[
        "ModelPackageSummaryList"][0]
    assert package["ModelApprovalStatus"] == "Rejected"


def test_quota_error_is_one_line_exit_2_and_cleans_up(project, moto_url, monkeypatch):
    stack = _stack(project, moto_url)
    sm = stack.c("sagemaker")

    def quota(self):
        raise JsonRESTError("ResourceLimitExceeded",
                            "The account-level service limit 'ml.m5.xlarge for endpoint "
                            "usage' is 0 Instances")

    monkeypatch.setattr(SageMakerResponse, "create_endpoint_config", quota)
    done = cli(project, "deploy-model", "--env", "rt", "--model", "s3://models/m.tar.gz",
               "--image", SERVE, "--version", "q1")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        ("error: CreateEndpointConfig: ResourceLimitExceeded: The account-level service limit "
        "'ml.m5.xlarge for endpoint usage' is 0 Instances")]
    assert {m["ModelName"] for m in sm.list_models()["Models"]} == {"terraml-rt-placeholder"}


def test_throttling_is_retried_with_backoff(project, moto_url, monkeypatch):
    _stack(project, moto_url)
    original = SageMakerResponse.create_training_job
    calls = {"n": 0}

    def throttled(self):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise JsonRESTError("ThrottlingException", "Rate exceeded")
        return original(self)

    monkeypatch.setattr(SageMakerResponse, "create_training_job", throttled)
    done = cli(project, "train", "--env", "rt", "--image", IMAGE, "--entry", "python t.py",
               "--name", "terraml-rt-retry")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("retrying CreateTrainingJob") == 2
    assert calls["n"] == 3


def test_status_prices_running_jobs_and_endpoint_instances(project, moto_url):
    stack = _stack(project, moto_url)
    assert cli(project, "train", "--env", "rt", "--image", IMAGE, "--entry", "python t.py",
               "--instance-type", "ml.m5.xlarge", "--no-spot",
               "--name", "terraml-rt-long").returncode == 0
    _backend().training_jobs["terraml-rt-long"].training_job_status = "InProgress"
    done = cli(project, "status", "--env", "rt")
    assert done.returncode == 0, done.stderr
    assert "terraml-rt-long" in done.stdout
    assert stack.outputs["endpoint_name"] in done.stdout
    # catalog: ml.m5.xlarge hosting 0.23/h x2 instances; ml.m5.xlarge training 0.23/h x1
    assert "0.4600" in done.stdout and "0.2300" in done.stdout
    assert "burn rate: $0.69/hour" in done.stdout


def _age(stack: FakeAwsStack, hours: float) -> None:
    endpoint = _backend().endpoints[stack.outputs["endpoint_name"]]
    endpoint.creation_time = endpoint.last_modified_time = \
        datetime.now(timezone.utc) - timedelta(hours=hours)


def test_stop_idle_keeps_busy_endpoints_and_scales_down_idle_ones(project, moto_url):
    stack = _stack(project, moto_url)
    _age(stack, 30)
    cloudwatch = stack.c("cloudwatch")
    cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{
        "MetricName": "Invocations", "Value": 42, "Unit": "None",
        "Timestamp": datetime.now(timezone.utc) - timedelta(hours=1),
        "Dimensions": [{"Name": "EndpointName", "Value": stack.outputs["endpoint_name"]},
                       {"Name": "VariantName", "Value": "primary"}]}])
    busy = cli(project, "stop-idle", "--env", "rt", "--idle-hours", "4")
    assert busy.returncode == 0, busy.stderr
    assert "42 invocations" in busy.stdout and "in use" in busy.stdout
    # invocations 6 h ago are outside a 4 h window on a second endpoint check
    quiet = cli(project, "stop-idle", "--env", "rt", "--idle-hours", "0.5", "--dry-run")
    assert quiet.returncode == 0, quiet.stderr
    assert "dry run: would scale_down" in quiet.stdout
    variant = stack.c("sagemaker").describe_endpoint(
        EndpointName=stack.outputs["endpoint_name"])["ProductionVariants"][0]
    assert variant["CurrentInstanceCount"] == 2  # dry run changed nothing
    acted = cli(project, "stop-idle", "--env", "rt", "--idle-hours", "0.5")
    assert acted.returncode == 0, acted.stderr
    assert "scaled primary to 1 instance" in acted.stdout
    variant = stack.c("sagemaker").describe_endpoint(
        EndpointName=stack.outputs["endpoint_name"])["ProductionVariants"][0]
    assert variant["DesiredInstanceCount"] == 1


def test_stop_idle_deletes_idle_dev_endpoints_and_stops_notebooks(project, moto_url):
    stack = _stack(project, moto_url, "dev", instances=1)
    _age(stack, 5)
    sm = stack.c("sagemaker")
    sm.create_notebook_instance(NotebookInstanceName="terraml-dev-alice",
                                InstanceType="ml.t3.medium", RoleArn=stack.outputs["serving_role"])
    notebook = _backend().notebook_instances["terraml-dev-alice"]
    notebook.last_modified_time = notebook.creation_time = \
        datetime.now(timezone.utc) - timedelta(hours=5)
    done = cli(project, "stop-idle", "--env", "dev")  # dev policy: 2 h, delete, stop
    assert done.returncode == 0, done.stderr
    assert "0 invocations in 2 h" in done.stdout
    assert "endpoint deleted" in done.stdout and "notebook stopped" in done.stdout
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.describe_notebook_instance(NotebookInstanceName="terraml-dev-alice")[
        "NotebookInstanceStatus"] == "Stopped"
    # a realtime endpoint breaks dev's scale-to-zero rule: deploy-model refuses it
    refused = cli(project, "deploy-model", "--env", "dev", "--model", "s3://m/m.tar.gz",
                  "--image", SERVE, "--version", "v3")
    assert refused.returncode == 1
    assert refused.stderr.startswith("blocked: guardrail scale_to_zero_serving")
    assert sm.list_model_packages(ModelPackageGroupName="terraml-dev-models")[
        "ModelPackageSummaryList"] == []


def test_deploy_model_recreates_a_deleted_serverless_endpoint(project, moto_url):
    stack = _stack(project, moto_url, "dev", serverless=True)
    sm = stack.c("sagemaker")
    assert "nothing runs while idle" in cli(project, "stop-idle", "--env", "dev").stdout
    sm.delete_endpoint(EndpointName=stack.outputs["endpoint_name"])
    sm.delete_endpoint_config(EndpointConfigName="terraml-dev-placeholder")
    back = cli(project, "deploy-model", "--env", "dev", "--model", "s3://m/m.tar.gz", "--image",
               SERVE, "--version", "v3")
    assert back.returncode == 0, back.stderr
    assert sm.describe_endpoint(EndpointName=stack.outputs["endpoint_name"])[
        "EndpointConfigName"] == "terraml-dev-m-v3"
    config = sm.describe_endpoint_config(EndpointConfigName="terraml-dev-m-v3")
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 2048,
                                                                   "MaxConcurrency": 5}
    assert "VpcConfig" not in sm.describe_model(ModelName="terraml-dev-m-v3")


@pytest.mark.parametrize(("args", "expected"), [
    (["train", "--env", "nope", "--image", IMAGE, "--entry", "x"],
     "error: --env: unknown environment 'nope'"),
    (["train", "--env", "rt", "--image", "not an image", "--entry", "x"],
     "error: --image: expected a container image"),
    (["train", "--env", "rt", "--image", IMAGE, "--entry", "x", "--accelerator", "V100"],
     "error: --accelerator: expected one of T4, A10G, L4, A100, H100, found 'V100'"),
    (["train", "--env", "rt", "--image", IMAGE, "--entry", "x", "--accelerator", "T4",
      "--count", "3"], "error: accelerator T4 x3 has no single aws machine; valid counts: 1, 4"),
    (["deploy-model", "--env", "rt", "--model", "gs://x/m", "--image", SERVE],
     "error: --model: expected a model artifact URI starting with s3://"),
    (["stop-idle", "--env", "rt", "--idle-hours", "0"],
     "error: --idle-hours: expected a positive number of hours, found 0"),
])
def test_bad_input_is_one_line_exit_2(project, moto_url, args, expected):
    _stack(project, moto_url)
    done = cli(project, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(expected), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_or_foreign_outputs_are_one_line_errors(project, moto_url, tmp_path):
    done = cli(project, "status", "--env", "rt")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ml-rt: no deployed stack outputs found")
    partial = tmp_path / "outputs.json"
    partial.write_text('{"environment": {"value": "rt"}, "cloud": {"value": "aws"}}')
    done = cli(project, "deploy-model", "--env", "rt", "--outputs", str(partial), "--model",
               "s3://m/m.tar.gz", "--image", SERVE)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: {partial}: stack output 'serving_mode' is missing: "
                                   "redeploy the stack with this terraml version")
    partial.write_text('{"environment": {"value": "prod"}}')
    done = cli(project, "status", "--env", "rt", "--outputs", str(partial))
    assert "output 'environment' is 'prod', expected 'rt'" in done.stderr
    partial.write_text("{not json")
    done = cli(project, "status", "--env", "rt", "--outputs", str(partial))
    assert done.returncode == 2 and "expected JSON" in done.stderr
