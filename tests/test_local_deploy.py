"""End to end: real Terraform applies the dev stack (plus continuous training: a pipeline with a
schedule and a new-data trigger, and an MLflow tracking server) to a moto server, re-plans,
runs the pipeline in the emulator, then the README's loop through the CLI: train, pipeline
deploy / run (a version registered pending approval), models, approve, deploy-model
--latest-approved, status and stop-idle; then destroy.
Staging and prod (real-time GPU/CPU endpoints with autoscaling, NAT, deletion
protection) apply side by side, re-plan clean, and are discarded (`down` refuses them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from terraml.local.terraform import find_mirror, mirror_versions
from tests.conftest import ROOT, run_cli


def _skip_reason() -> str | None:
    if not shutil.which("terraform"):
        return "terraform is not installed"
    mirror = find_mirror()
    if mirror is None or not mirror_versions(mirror):
        return "no filesystem mirror with hashicorp/aws (set TERRAML_PROVIDER_MIRROR)"
    return None


TRAIN_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/terraml-dev-train:demo"
SERVE_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/terraml-dev-serve:demo"


def _with_pipeline(work: Path) -> None:
    """The shipped dev environment plus continuous training (in the test's copy only)."""
    path = work / "environments/dev.yaml"
    spec = yaml.safe_load(path.read_text())
    step = {"image": TRAIN_IMAGE}
    spec["pipeline"] = {
        "schedule": "0 3 * * MON", "on_new_data": "raw/incoming/",
        "register": {"approval": "manual"},
        "steps": {"prepare": {**step, "command": "python prepare.py"},
                  "train": {**step, "command": "python train.py --epochs 3", "hours": 2},
                  "evaluate": {**step, "command": "python evaluate.py", "metric": "accuracy",
                               "min": 0.8}}}
    spec["tracking"] = {"enabled": True}
    spec.setdefault("guardrails", {})["suppressions"] = [{
        "rule": "always_on_in_dev", "resource": "*",
        "reason": "the local deploy test exercises the tracking server"}]
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


def _pipeline_flow(work: Path) -> None:
    """The pipeline, schedule, trigger and tracking server exist in the emulator as deployed;
    runs walk the definition: above the gate a version waits for approval, below it the run
    fails at the condition, and new data under the trigger prefix starts a run."""
    import boto3

    port = json.loads((work / ".terraml/local/dev.json").read_text())["port"]
    state = json.loads((work / ".terraml/local/ml-dev.tfstate").read_text())
    out = {name: item["value"] for name, item in state["outputs"].items()}
    types = {r["type"] for r in state["resources"]}
    assert {"aws_sagemaker_pipeline", "aws_scheduler_schedule", "aws_scheduler_schedule_group",
            "aws_s3_bucket_notification", "aws_sagemaker_mlflow_tracking_server"} <= types

    def c(service: str):
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}",
                            region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test")

    sm, s3 = c("sagemaker"), c("s3")
    assert out["pipeline_name"] == "terraml-dev-training"
    pipeline = sm.describe_pipeline(PipelineName=out["pipeline_name"])
    assert pipeline["RoleArn"] == out["pipeline_role"]
    schedule = c("scheduler").get_schedule(Name="terraml-dev-training", GroupName="terraml-dev")
    assert schedule["ScheduleExpression"] == "cron(0 3 ? * 2 *)"
    assert schedule["KmsKeyArn"] == out["kms_key"]
    assert schedule["Target"]["Arn"] == pipeline["PipelineArn"]
    assert c("events").list_rule_names_by_target(TargetArn=pipeline["PipelineArn"])[
        "RuleNames"] == ["terraml-dev-new-data"]
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(
        Bucket=out["bucket_raw"])
    server = sm.describe_mlflow_tracking_server(TrackingServerName="terraml-dev-mlflow")
    assert server["TrackingServerArn"] == out["tracking_uri"]
    assert server["ArtifactStoreUri"] == f"s3://{out['bucket_artifacts']}/mlflow/"
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=out["tracking_uri"])["Tags"]}
    assert tags["env"] == "dev" and tags["cost-center"]

    def run(report: dict | None) -> tuple[dict, dict]:
        if report is not None:  # what the evaluate container would write (see pipeline_runs)
            s3.put_object(Bucket=out["bucket_artifacts"],
                          Key="pipelines/terraml-dev-training/emulator/evaluate/evaluation.json",
                          Body=json.dumps(report).encode())
        arn = sm.start_pipeline_execution(PipelineName=out["pipeline_name"],
                                          ClientRequestToken="r" * 32)["PipelineExecutionArn"]
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"]
        return (sm.describe_pipeline_execution(PipelineExecutionArn=arn),
                {s["StepName"]: s for s in steps})

    done, steps = run({"accuracy": 0.92})
    assert done["PipelineExecutionStatus"] == "Succeeded", done.get("FailureReason")
    package = sm.describe_model_package(
        ModelPackageName=steps["register"]["Metadata"]["RegisterModel"]["Arn"])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["ModelPackageGroupName"] == out["model_registry"]
    assert package["CustomerMetadataProperties"]["metric:accuracy"] == "0.92"
    train = sm.describe_training_job(TrainingJobName=steps["train"]["Metadata"]["TrainingJob"][
        "Arn"].rsplit("/", 1)[1])
    assert train["RoleArn"] == out["training_role"]
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == \
        train["ModelArtifacts"]["S3ModelArtifacts"]
    failed, steps = run({"accuracy": 0.42})
    assert failed["PipelineExecutionStatus"] == "Failed"
    assert steps["gate"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert "accuracy = 0.42 is outside the gate (>= 0.8)" in failed["FailureReason"]
    assert "register" not in steps
    before = len(sm.list_pipeline_executions(PipelineName=out["pipeline_name"])[
        "PipelineExecutionSummaries"])
    s3.put_object(Bucket=out["bucket_raw"], Key="incoming/batch-1.csv", Body=b"a,b\n1,2\n")
    runs = sm.list_pipeline_executions(PipelineName=out["pipeline_name"])[
        "PipelineExecutionSummaries"]
    assert len(runs) == before + 1
    assert sm.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=runs[0]["PipelineExecutionArn"])["PipelineParameters"] == [
        {"Name": "InputDataUri", "Value": out["pipeline_trigger"]}]


def _runtime_flow(work: Path) -> None:
    """The README's flow on the deployed stack: train, deploy a model, status, stop-idle."""
    import boto3

    train = run_cli("train", "--env", "dev", "--image", TRAIN_IMAGE, "--entry", "python train.py",
                    "--name", "terraml-dev-e2e", "--wait", cwd=work)
    assert train.returncode == 0, train.stderr
    assert "status: succeeded" in train.stdout
    # the README's loop: pipeline run -> version pending approval -> approve -> deploy it
    deployed = run_cli("pipeline", "deploy", "--env", "dev", cwd=work)
    assert deployed.returncode == 0, deployed.stderr
    assert "is in place (Terraform)" in deployed.stdout
    staged = run_cli("pipeline", "stage-report", "--env", "dev", "--metric", "accuracy=0.93",
                     cwd=work)
    assert staged.returncode == 0, staged.stderr
    ran = run_cli("pipeline", "run", "--env", "dev", "--poll", "1", cwd=work)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "status: succeeded" in ran.stdout
    assert all(step in ran.stdout for step in ("prepare", "train", "evaluate", "gate",
                                               "register"))
    listed = run_cli("models", "--env", "dev", cwd=work)
    assert listed.returncode == 0, listed.stderr
    assert "pending" in listed.stdout and "accuracy=0.93" in listed.stdout, listed.stdout
    port = json.loads((work / ".terraml/local/dev.json").read_text())["port"]
    registry = boto3.client("sagemaker", endpoint_url=f"http://127.0.0.1:{port}",
                            region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test")
    newest = registry.list_model_packages(
        ModelPackageGroupName="terraml-dev-models", SortBy="CreationTime",
        SortOrder="Descending")["ModelPackageSummaryList"][0]
    assert newest["ModelApprovalStatus"] == "PendingManualApproval"
    version = newest["ModelPackageArn"].rsplit("/", 1)[1]
    approved = run_cli("approve", "--env", "dev", "--version", version, "--reason",
                       "accuracy 0.93 on the holdout set", cwd=work)
    assert approved.returncode == 0 and "approved" in approved.stdout, approved.stderr
    deploy = run_cli("deploy-model", "--env", "dev", "--latest-approved",
                     "--image", SERVE_IMAGE, "--version", "v1", cwd=work)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "status: healthy" in deploy.stdout
    status_runs = run_cli("pipeline", "status", "--env", "dev", cwd=work)
    assert status_runs.returncode == 0 and "succeeded" in status_runs.stdout
    status = run_cli("status", "--env", "dev", cwd=work)
    assert status.returncode == 0, status.stderr
    assert "serverless" in status.stdout
    idle = run_cli("stop-idle", "--env", "dev", cwd=work)
    assert idle.returncode == 0, idle.stderr
    assert "nothing runs while idle" in idle.stdout
    endpoint = json.loads((work / ".terraml/local/dev.json").read_text())
    sm = boto3.client("sagemaker", endpoint_url=f"http://127.0.0.1:{endpoint['port']}",
                      region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    job = sm.describe_training_job(TrainingJobName="terraml-dev-e2e")
    assert job["RoleArn"].endswith("terraml-dev-training")
    assert sm.describe_endpoint(EndpointName="terraml-dev-endpoint")[
        "EndpointConfigName"] == "terraml-dev-m-v1"


def _idle_check_stops_the_notebook(work: Path, port: int, out: dict) -> None:
    """What the notebook's idle check writes (a stop request through the S3 gateway) goes
    S3 -> EventBridge rule -> the deployed state machine -> SageMaker StopNotebookInstance;
    twice, as after a restart: every request starts its own execution."""
    import boto3

    client = {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1",
              "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    bucket, prefix = out["notebook_stop_requests"].removeprefix("s3://").split("/", 1)
    s3, sm = boto3.client("s3", **client), boto3.client("sagemaker", **client)
    for attempt in (1, 2):
        if attempt == 2:
            sm.start_notebook_instance(NotebookInstanceName="terraml-dev-alice")
        s3.put_object(Bucket=bucket, Key=f"{prefix}terraml-dev-alice",
                      Body=json.dumps({"instance": "terraml-dev-alice"}).encode())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = sm.describe_notebook_instance(
                NotebookInstanceName="terraml-dev-alice")["NotebookInstanceStatus"]
            if status == "Stopped":
                break
            time.sleep(0.5)
        assert status == "Stopped", attempt
    runs = boto3.client("stepfunctions", **client).list_executions(
        stateMachineArn=out["notebook_stopper"])["executions"]
    assert [r["status"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"], runs


def _drift_and_notebook_flow(work: Path) -> None:
    """Issue 12 on the shipped dev stack: the deployed drift schedule, the baseline from the
    training data, a drift run on the requests the serving code wrote (monthly_charges moved),
    status with the HTML chart, and stop-idle stopping the notebook."""
    import boto3

    port = json.loads((work / ".terraml/local/dev.json").read_text())["port"]
    sm = boto3.client("sagemaker", endpoint_url=f"http://127.0.0.1:{port}",
                      region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    out = {name: item["value"] for name, item in json.loads(
        (work / ".terraml/local/ml-dev.tfstate").read_text())["outputs"].items()}
    schedule = sm.describe_monitoring_schedule(MonitoringScheduleName=out["drift_monitor"])
    assert schedule["MonitoringScheduleConfig"]["ScheduleConfig"][
        "ScheduleExpression"] == "cron(0 6 ? * * *)"
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(
        ResourceArn=schedule["MonitoringScheduleArn"])["Tags"]}
    assert tags["env"] == "dev"
    definition = sm.describe_data_quality_job_definition(
        JobDefinitionName=schedule["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"])
    assert definition["RoleArn"] == out["drift_role"]
    assert out["drift_thresholds"] == {"default": 0.3, "tenure": 0.3, "contract": 0.3,
                                       "monthly_charges": 0.2}
    data = ROOT / "examples/data"
    for name, target in (("churn-baseline.csv", "raw/training/"),
                         ("churn-requests.csv", "raw/inference-requests/")):
        staged = run_cli("monitor", "stage-data", "--env", "dev", str(data / name), "--to",
                         target, cwd=work)
        assert staged.returncode == 0, staged.stderr
    raw = out["bucket_raw"]
    baseline = run_cli("monitor", "baseline", "--env", "dev", "--poll", "1", "--data",
                       f"s3://{raw}/training/churn-baseline.csv", cwd=work)
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    assert "features: tenure, monthly_charges, contract (3)" in baseline.stdout
    ran = run_cli("monitor", "run", "--env", "dev", "--poll", "1", cwd=work)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 of 3 features drifted" in ran.stdout, ran.stdout
    assert re.search(r"monthly_charges\s*│\s*0\.\d+\s*│\s*0\.2\s*│\s*DRIFTED", ran.stdout)
    report = work / "drift.html"
    status = run_cli("monitor", "status", "--env", "dev", "--json", "--html", str(report),
                     cwd=work)
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    latest = document["runs"][0]
    assert latest["violations"] == 1 and latest["worst"]["feature"] == "monthly_charges", latest
    assert report.read_text().count("<polyline") == 3
    listed = run_cli("status", "--env", "dev", cwd=work)
    assert "terraml-dev-alice" in listed.stdout and "running" in listed.stdout, listed.stdout
    _idle_check_stops_the_notebook(work, port, out)
    sm.start_notebook_instance(NotebookInstanceName="terraml-dev-alice")
    idle = run_cli("stop-idle", "--env", "dev", "--idle-hours", "0.0005", cwd=work)
    assert idle.returncode == 0, idle.stderr
    assert "notebook stopped" in idle.stdout, idle.stdout
    after = run_cli("status", "--env", "dev", cwd=work)
    assert "Stopped" in after.stdout, after.stdout


@pytest.mark.deploy
@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_dev_stack_applies_replans_clean_and_destroys(shipped_project: Path):
    work = shipped_project
    _with_pipeline(work)
    up = run_cli("up", "--env", "dev", "--local", cwd=work)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "second plan: no changes" in up.stdout
        assert "apply: 0/" in up.stderr, up.stderr  # progress: resources done / total
        assert re.search(r"apply: \d+/\d+ resources \(\d+%\)", up.stderr), up.stderr
        assert "missing" not in up.stdout
        for expected in ("s3 bucket", "sagemaker endpoint", "budget", "batch job queue",
                         "model package group", "endpoint alarms", "sagemaker pipeline",
                         "pipeline schedule", "new-data rule", "tracking server",
                         "drift schedule", "feature group", "notebook instance", "notebook stopper"):
            assert expected in up.stdout, expected
        assert (work / ".terraml/local/ml-dev.tfstate").is_file()
        _pipeline_flow(work)
        _runtime_flow(work)
        _drift_and_notebook_flow(work)
    finally:
        down = run_cli("down", "--env", "dev", "--local", cwd=work)
    assert down.returncode == 0, down.stderr[-3000:]
    assert "destroyed, emulator stopped" in down.stdout
    assert not (work / ".terraml/local/dev.json").exists()


def _up(work: Path, env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "terraml", "up", "--env", env, "--local"],
                            cwd=work, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=os.environ.copy())


@pytest.mark.deploy
@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_staging_and_prod_apply_replan_clean_and_refuse_plain_down(shipped_project: Path):
    work = shipped_project
    running = {env: _up(work, env) for env in ("staging", "prod")}  # side by side: 2 cores
    try:
        for env, process in running.items():
            stdout, stderr = process.communicate(timeout=900)
            assert process.returncode == 0, f"{env}: " + stdout[-3000:] + stderr[-3000:]
            assert "second plan: no changes" in stdout, env
            assert "missing" not in stdout, env
            for expected in ("sagemaker endpoint", "endpoint alarms", "vpc", "budget"):
                assert expected in stdout, (env, expected)
        prod = json.loads((work / ".terraml/local/ml-prod.tfstate").read_text())
        types = {r["type"] for r in prod["resources"]}
        assert {"aws_nat_gateway", "aws_eip", "aws_appautoscaling_target",
                "aws_appautoscaling_policy", "aws_sagemaker_endpoint"} <= types
        config = next(r for r in prod["resources"]
                      if r["type"] == "aws_sagemaker_endpoint_configuration")
        variant = config["instances"][0]["attributes"]["production_variants"][0]
        assert variant["instance_type"].startswith("ml.g")  # a GPU family
        for env in running:
            down = run_cli("down", "--env", env, "--local", cwd=work)
            assert down.returncode == 2, down.stdout + down.stderr
            assert len(down.stderr.strip().splitlines()) == 1, down.stderr
            assert "deletion protection" in down.stderr and "--discard" in down.stderr
            assert (work / f".terraml/local/ml-{env}.tfstate").is_file()  # nothing destroyed
    finally:
        for env, process in running.items():
            if process.poll() is None:
                process.kill()
            discard = run_cli("down", "--env", env, "--local", "--discard", cwd=work)
            assert discard.returncode == 0, discard.stderr
    for env in running:
        assert not (work / f".terraml/local/{env}.json").exists()
        assert not (work / f".terraml/local/ml-{env}.tfstate").exists()
