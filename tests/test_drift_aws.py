"""Drift monitoring on AWS: the synthesized Model Monitor job definition, schedule, role,
alarms and outputs (checkov too); one-line errors through `terraml synth`; the emulator's
analyzer math; the runtime (baseline -> run -> runs) against an in-process moto server with
terraml's shim; and a real Terraform apply / clean re-plan / destroy with drift on."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from pathlib import Path

import boto3
import pytest
import yaml
from moto.sagemaker.models import sagemaker_backends
from moto.server import ThreadedMotoServer

from adapters.aws.drift import ANALYZER_ACCOUNTS, schedule_expression
from core.cron import parse
from core.outputs import OPT_IN_OUTPUTS, StackOutputs
from stacks.app import build_app, load_environment
from terraml.local import drift_analysis, model_monitor, moto_server
from tests.conftest import ROOT, run_cli
from tests.test_pipeline_aws import by_name, role_policies
from tests.test_synth_aws import one, resources, synth

ACCOUNT, REGION = "123456789012", "us-east-1"
KEY_REF = "${aws_kms_key.key_F64E54E4.arn}"


def drift_spec(**drift) -> dict:
    """examples/aws-mlops.yaml with only the drift layer among the production-ops layers."""
    spec = yaml.safe_load((ROOT / "examples/aws-mlops.yaml").read_text())
    spec.pop("features", None)
    spec.pop("notebooks", None)
    spec["monitoring"]["drift"].update(drift)
    return spec


def write(directory: Path, spec: dict, name: str = "aws-mlops.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> dict:
    return synth(load_environment(write(tmp_path_factory.mktemp("drift"), drift_spec())))


# -- synth -------------------------------------------------------------------------------


def test_job_definition_runs_the_analyzer_on_the_baseline_and_target(stack):
    job = one(stack, "aws_sagemaker_data_quality_job_definition")
    assert job["name"] == "terraml-aws-mlops-drift"
    assert job["data_quality_app_specification"]["image_uri"] == \
        f"{ANALYZER_ACCOUNTS[REGION]}.dkr.ecr.{REGION}.amazonaws.com/" \
        "sagemaker-model-monitor-analyzer"
    baseline = job["data_quality_baseline_config"]
    artifacts = "s3://${aws_s3_bucket.data_bucket-artifacts_1C51BD3E.bucket}"
    assert baseline["constraints_resource"]["s3_uri"] == \
        f"{artifacts}/drift/baseline/constraints.json"
    assert baseline["statistics_resource"]["s3_uri"] == \
        f"{artifacts}/drift/baseline/statistics.json"
    batch = job["data_quality_job_input"]["batch_transform_input"]
    assert "endpoint_input" not in job["data_quality_job_input"]
    assert batch["data_captured_destination_s3_uri"] == \
        "s3://${aws_s3_bucket.data_bucket-raw_91588B8E.bucket}/inference-requests/"
    assert batch["dataset_format"] == {"csv": {"header": True}}
    output = job["data_quality_job_output_config"]
    assert output["kms_key_id"] == KEY_REF
    assert output["monitoring_outputs"]["s3_output"]["s3_uri"] == f"{artifacts}/drift/reports"
    cluster = job["job_resources"]["cluster_config"]
    assert cluster == {"instance_count": 1, "instance_type": "ml.m5.large",
                       "volume_size_in_gb": 20, "volume_kms_key_id": KEY_REF}
    network = job["network_config"]
    assert network["enable_inter_container_traffic_encryption"] is True
    assert network["enable_network_isolation"] is True
    assert len(network["vpc_config"]["subnets"]) == 2
    assert network["vpc_config"]["security_group_ids"] == \
        ["${aws_security_group.network_jobs-sg_FD0FC0B1.id}"]
    assert job["stopping_condition"]["max_runtime_in_seconds"] == 3600
    key, _ = by_name(stack, "aws_iam_role", "terraml-aws-mlops-drift")
    assert job["role_arn"] == f"${{aws_iam_role.{key}.arn}}"
    for rtype in ("aws_sagemaker_data_quality_job_definition",
                  "aws_sagemaker_monitoring_schedule"):
        assert "region" not in one(stack, rtype)  # provider 5.100.0 (the local deploy's)


def test_schedule_is_data_quality_on_the_aws_cron(stack):
    schedule = one(stack, "aws_sagemaker_monitoring_schedule")
    config = schedule["monitoring_schedule_config"]
    assert config["monitoring_type"] == "DataQuality"
    assert config["monitoring_job_definition_name"].startswith(
        "${aws_sagemaker_data_quality_job_definition.")
    assert config["schedule_config"]["schedule_expression"] == "cron(0 6 ? * * *)"


def test_job_definition_publishes_the_metrics_the_alarms_watch(stack):
    spec = one(stack, "aws_sagemaker_data_quality_job_definition")[
        "data_quality_app_specification"]
    assert spec["environment"] == {"publish_cloudwatch_metrics": "Enabled"}


@pytest.mark.parametrize(("cron", "expected"), [
    ("0 * * * *", "cron(0 * ? * * *)"),
    ("0 6 * * *", "cron(0 6 ? * * *)"),
    ("0 */6 * * *", "cron(0 0/6 ? * * *)"),
    ("cron(0 */12 ? * * *)", "cron(0 0/12 ? * * *)"),
])
def test_schedule_is_one_of_model_monitors_documented_forms(tmp_path, cron, expected):
    assert schedule_expression(parse(cron)) == expected
    assert model_monitor.SCHEDULE.match(expected)  # the emulator accepts only those forms
    doc = synth(load_environment(write(tmp_path, drift_spec(schedule=cron))))
    assert one(doc, "aws_sagemaker_monitoring_schedule")["monitoring_schedule_config"][
        "schedule_config"]["schedule_expression"] == expected
    assert not model_monitor.SCHEDULE.match("cron(0 6 * * ? *)")  # EventBridge's form


def test_each_watched_feature_alarms_above_its_threshold(stack):
    topic = "${aws_sns_topic.monitoring_alerts_64E0E839.arn}"
    alarms = {a["metric_name"]: a for a in resources(stack, "aws_cloudwatch_metric_alarm")
              if a["metric_name"].startswith("feature_baseline_drift_")}
    assert {name: a["threshold"] for name, a in alarms.items()} == {
        "feature_baseline_drift_tenure": 0.3, "feature_baseline_drift_monthly_charges": 0.2,
        "feature_baseline_drift_contract": 0.3}
    for alarm in alarms.values():
        assert alarm["namespace"] == "aws/sagemaker/ModelMonitoring/data-metrics"
        assert alarm["dimensions"] == {"MonitoringSchedule": "terraml-aws-mlops-drift"}
        assert alarm["comparison_operator"] == "GreaterThanThreshold"
        assert alarm["alarm_actions"] == [topic]
    rules = {r["name"]: json.loads(r["event_pattern"])
             for r in resources(stack, "aws_cloudwatch_event_rule")}
    scheduled = rules["terraml-aws-mlops-drift-failed"]["detail"]
    assert scheduled["ProcessingJobStatus"] == ["Failed"]
    assert scheduled["MonitoringScheduleArn"][0].startswith("${aws_sagemaker_monitoring_schedule")
    assert rules["terraml-aws-mlops-drift-job-failed"]["detail"]["ProcessingJobName"] == \
        [{"prefix": "terraml-aws-mlops-drift-"}]
    targets = [t for t in resources(stack, "aws_cloudwatch_event_target")
               if "drift" in t["rule"]]
    assert len(targets) == 2 and all(t["arn"] == topic for t in targets)


def test_monitoring_role_is_least_privilege(stack):
    _, role = by_name(stack, "aws_iam_role", "terraml-aws-mlops-drift")
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"]
    statements = {s["Sid"]: s for s in role_policies(stack, "terraml-aws-mlops-drift")}
    assert "ReadEnvironmentData" not in statements  # not every bucket: baseline and target
    assert statements["ReadBaselineAndTarget"]["Resource"] == [
        "${aws_s3_bucket.data_bucket-artifacts_1C51BD3E.arn}/drift/baseline/*",
        "${aws_s3_bucket.data_bucket-raw_91588B8E.arn}/inference-requests/*"]
    assert statements["ListBaselineAndTarget"]["Condition"] == {"StringLike": {"s3:prefix": [
        "drift/baseline", "drift/baseline/*", "inference-requests", "inference-requests/*"]}}
    assert statements["ListBaselineAndTarget"]["Resource"] == [
        "${aws_s3_bucket.data_bucket-artifacts_1C51BD3E.arn}",
        "${aws_s3_bucket.data_bucket-raw_91588B8E.arn}"]
    assert statements["ReadTrainingData"]["Action"] == [  # what `monitor baseline` reads
        "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"]
    assert statements["ReadTrainingData"]["Resource"] == [
        "${aws_s3_bucket.data_bucket-raw_91588B8E.arn}",
        "${aws_s3_bucket.data_bucket-raw_91588B8E.arn}/*",
        "${aws_s3_bucket.data_bucket-features_09E184ED.arn}",
        "${aws_s3_bucket.data_bucket-features_09E184ED.arn}/*"]
    writes = statements["WriteBaselineAndReports"]
    assert writes["Resource"] == [
        "${aws_s3_bucket.data_bucket-artifacts_1C51BD3E.arn}/drift/baseline/*",
        "${aws_s3_bucket.data_bucket-artifacts_1C51BD3E.arn}/drift/reports/*"]
    assert not any(a.startswith("s3:Delete") for s in statements.values()
                   for a in s["Action"])
    assert statements["UseEnvironmentKey"]["Resource"] == [KEY_REF]
    assert statements["WriteJobLogs"]["Resource"][0].endswith(
        ":log-group:/aws/sagemaker/ProcessingJobs")
    for statement in statements.values():
        assert "*" not in statement["Action"]
        if statement["Resource"] == "*":  # actions AWS does not scope to a resource
            assert statement["Sid"] in ("EcrAuthToken", "PublishDriftMetrics",
                                        "RunInPrivateNetwork")


def test_outputs_cover_the_neutral_contract(stack):
    outputs = {name: item["value"] for name, item in stack["output"].items()}
    assert set(OPT_IN_OUTPUTS["drift"]) <= set(outputs)
    assert outputs["drift_thresholds"] == {"default": 0.3, "tenure": 0.3,
                                           "monthly_charges": 0.2, "contract": 0.3}
    assert outputs["drift_features"] == ["tenure", "monthly_charges", "contract"]
    assert outputs["drift_schedule"] == "0 6 * * *"
    assert outputs["drift_monitor"].startswith("${aws_sagemaker_monitoring_schedule.")
    assert outputs["drift_target"].startswith("s3://")
    for extra in ("drift_role", "drift_image", "drift_instance_type", "drift_subnet_ids",
                  "drift_security_group_id", "drift_kms_key"):
        assert extra in outputs, extra


def test_endpoint_target_reads_the_realtime_endpoint(tmp_path):
    spec = drift_spec(target="endpoint", schedule="0 * * * *")
    spec["serving"] = {"mode": "realtime", "size": "small"}
    doc = synth(load_environment(write(tmp_path, spec)))
    job_input = one(doc, "aws_sagemaker_data_quality_job_definition")["data_quality_job_input"]
    assert "batch_transform_input" not in job_input
    assert job_input["endpoint_input"]["endpoint_name"].startswith("${aws_sagemaker_endpoint.")
    alarm = next(a for a in resources(doc, "aws_cloudwatch_metric_alarm")
                 if a["metric_name"] == "feature_baseline_drift_tenure")
    assert alarm["namespace"] == "aws/sagemaker/Endpoints/data-metrics"
    assert set(alarm["dimensions"]) == {"Endpoint", "MonitoringSchedule"}
    assert alarm["period"] == 3600
    assert doc["output"]["drift_target"]["value"].startswith("${aws_sagemaker_endpoint.")
    reads = {s["Sid"]: s for s in role_policies(doc, "terraml-aws-mlops-drift")}[
        "ReadBaselineAndTarget"]["Resource"]
    artifacts = "${aws_s3_bucket.data_bucket-artifacts_1C51BD3E.arn}"
    assert reads[0] == f"{artifacts}/drift/baseline/*"
    assert re.fullmatch(re.escape(f"{artifacts}/data-capture/") +
                        r"\$\{aws_sagemaker_endpoint\.[^}]+\.name\}/\*", reads[1]), reads


def test_checkov_reports_no_unsuppressed_failure(tmp_path: Path):
    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov") or \
        str(ROOT / ".venv-checkov/bin/checkov")
    if not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    env = load_environment(write(tmp_path / "env", drift_spec()))
    build_app([env], outdir=str(tmp_path / "out")).synth()
    failures, _, summary = gate(checkov, tmp_path / "out")
    assert summary.get("parsing_errors") == 0
    assert failures == [], "\n".join(failures)


def _synth_error(tmp_path: Path, spec: dict) -> str:
    write(tmp_path / "envs", spec)
    done = run_cli("synth", "--env-dir", str(tmp_path / "envs"), "--out",
                   str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode != 0
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1]


def test_serverless_endpoint_target_is_one_line_error(tmp_path):
    error = _synth_error(tmp_path, drift_spec(target="endpoint"))
    assert "aws-mlops.yaml:" in error and "monitoring.drift.target" in error
    assert "serverless" in error


def test_baseline_outside_the_data_buckets_is_one_line_error(tmp_path):
    error = _synth_error(tmp_path, drift_spec(baseline="elsewhere/drift/"))
    assert "aws-mlops.yaml:" in error and "monitoring.drift.baseline" in error
    assert "'elsewhere'" in error


def test_region_without_the_analyzer_is_one_line_error(tmp_path):
    spec = drift_spec()
    spec["region"] = "il-central-1"
    error = _synth_error(tmp_path, spec)
    assert "aws-mlops.yaml:" in error and "region" in error and "il-central-1" in error


# -- the analyzer's math ---------------------------------------------------------------------


def _table(text: str) -> drift_analysis.Table:
    return drift_analysis.read_csv([("data.csv", text.encode())])


def test_distances_are_zero_for_the_same_data_and_one_for_disjoint_data():
    base = _table("x,c\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(100)))
    stats = drift_analysis.statistics(base)
    assert drift_analysis.distances(stats, base) == {"x": 0.0, "c": 0.0}
    moved = _table("x,c\n" + "".join(f"{1000 + i},z\n" for i in range(50)))
    assert drift_analysis.distances(stats, moved) == {"x": 1.0, "c": 1.0}
    half = _table("x,c\n" + "".join(f"{i},a\n" for i in range(50)))
    found = drift_analysis.distances(stats, half)
    assert 0.45 <= found["x"] <= 0.55 and found["c"] == 0.5
    with pytest.raises(ValueError, match="expected 2 fields"):
        _table("x,c\n1\n")


# -- the runtime against the emulator ------------------------------------------------------


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
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _baseline_rows() -> str:
    rows = ["tenure,monthly_charges,contract"]
    for i in range(200):
        rows.append(f"{i % 60},{20 + (i % 50)},{['monthly', 'yearly'][i % 2]}")
    return "\n".join(rows) + "\n"


def _drifted_rows() -> str:
    """tenure as before; monthly_charges moved far above the baseline."""
    rows = ["tenure,monthly_charges,contract"]
    for i in range(120):
        rows.append(f"{(i * 7) % 60},{90 + (i % 40)},{['monthly', 'yearly'][i % 2]}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def drift_runtime(tmp_path, moto_url):
    import requests

    from adapters.aws.runtime import AwsRuntime

    requests.post(f"{moto_url}/moto-api/reset", timeout=10)

    def c(service: str):
        return boto3.client(service, endpoint_url=moto_url, region_name=REGION,
                            aws_access_key_id="test", aws_secret_access_key="test")

    s3 = c("s3")
    for bucket in ("mlops-raw", "mlops-artifacts", "mlops-features"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="mlops-features", Key="train/part-0.csv", Body=_baseline_rows())
    s3.put_object(Bucket="mlops-raw", Key="inference-requests/2026/01/a.csv",
                  Body=_drifted_rows())
    image = f"{ANALYZER_ACCOUNTS[REGION]}.dkr.ecr.{REGION}.amazonaws.com/" \
            "sagemaker-model-monitor-analyzer"
    role = "arn:aws:iam::123456789012:role/terraml-aws-mlops-drift"
    sm = c("sagemaker")
    target = "s3://mlops-raw/inference-requests/"
    sm.create_data_quality_job_definition(
        JobDefinitionName="terraml-aws-mlops-drift", RoleArn=role,
        DataQualityAppSpecification={"ImageUri": image},
        DataQualityBaselineConfig={
            "ConstraintsResource": {"S3Uri": "s3://mlops-artifacts/drift/baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": "s3://mlops-artifacts/drift/baseline/statistics.json"}},
        DataQualityJobInput={"BatchTransformInput": {
            "DataCapturedDestinationS3Uri": target, "LocalPath": "/opt/ml/processing/input",
            "DatasetFormat": {"Csv": {"Header": True}}}},
        DataQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {
            "S3Uri": "s3://mlops-artifacts/drift/reports",
            "LocalPath": "/opt/ml/processing/output"}}]},
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                        "VolumeSizeInGB": 20}})
    sm.create_monitoring_schedule(
        MonitoringScheduleName="terraml-aws-mlops-drift",
        MonitoringScheduleConfig={"MonitoringJobDefinitionName": "terraml-aws-mlops-drift",
                                  "MonitoringType": "DataQuality",
                                  "ScheduleConfig": {"ScheduleExpression": "cron(0 6 ? * * *)"}})
    outputs = StackOutputs(values={
        "bucket_raw": "mlops-raw", "bucket_features": "mlops-features",
        "drift_monitor": "terraml-aws-mlops-drift",
        "drift_baseline_uri": "s3://mlops-artifacts/drift/baseline",
        "drift_target": target, "drift_reports_uri": "s3://mlops-artifacts/drift/reports",
        "drift_features": ["tenure", "monthly_charges", "contract"],
        "drift_thresholds": {"default": 0.3, "tenure": 0.3, "monthly_charges": 0.2,
                             "contract": 0.3},
        "drift_schedule": "0 6 * * *", "drift_role": role, "drift_image": image,
        "drift_instance_type": "ml.m5.large", "drift_subnet_ids": ["subnet-1"],
        "drift_security_group_id": "sg-1", "drift_max_runtime_seconds": 3600,
        "drift_kms_key": "arn:aws:kms:us-east-1:123456789012:key/k"},
        source="test outputs", endpoint=moto_url)
    env = load_environment(write(tmp_path, drift_spec()))
    return AwsRuntime(env, outputs, poll_seconds=0.01), c


def test_baseline_then_run_reports_the_drifted_feature(drift_runtime):
    runtime, c = drift_runtime
    messages: list[str] = []
    baseline = runtime.start_drift_baseline("s3://mlops-features/train/", messages.append)
    assert baseline.state == "succeeded", baseline.detail
    assert baseline.uri == "s3://mlops-artifacts/drift/baseline"
    assert baseline.features == ["tenure", "monthly_charges", "contract"]
    assert messages and baseline.job.startswith("terraml-aws-mlops-drift-baseline-")
    job = c("sagemaker").describe_processing_job(ProcessingJobName=baseline.job)
    assert job["AppSpecification"]["ImageUri"].endswith("/sagemaker-model-monitor-analyzer")
    assert job["RoleArn"].endswith("role/terraml-aws-mlops-drift")
    stored = json.loads(c("s3").get_object(Bucket="mlops-artifacts",
                                           Key="drift/baseline/statistics.json")["Body"].read())
    kinds = {f["name"]: f["inferred_type"] for f in stored["features"]}
    assert kinds == {"tenure": "Integral", "monthly_charges": "Integral",
                     "contract": "String"}
    constraints = json.loads(c("s3").get_object(
        Bucket="mlops-artifacts", Key="drift/baseline/constraints.json")["Body"].read())
    assert constraints["monitoring_config"]["distribution_constraints"][
        "comparison_threshold"] == 0.0  # every distance reported; terraml applies thresholds

    run = runtime.start_drift_run()
    assert run.state == "succeeded", run.detail
    assert run.run_id.startswith("terraml-aws-mlops-drift-run-")
    report = json.loads(c("s3").get_object(
        Bucket="mlops-artifacts",
        Key=f"drift/reports/runs/{run.run_id}/constraint_violations.json")["Body"].read())
    assert {v["constraint_check_type"] for v in report["violations"]} == {"baseline_drift_check"}
    model_monitor.execute_schedule(sagemaker_backends[ACCOUNT][REGION],
                                   "terraml-aws-mlops-drift")
    runs = runtime.drift_runs()
    assert len(runs) == 2 and all(r.state == "succeeded" for r in runs)
    assert runs[0].started >= runs[1].started
    for found in runs:
        by_feature = {f.feature: f for f in found.features}
        charges, tenure = by_feature["monthly_charges"], by_feature["tenure"]
        assert charges.drifted and charges.score > 0.5 and charges.threshold == 0.2
        assert not tenure.drifted and tenure.score < tenure.threshold == 0.3
        assert not by_feature["contract"].drifted
        assert [f.feature for f in found.violations] == ["monthly_charges"]


def test_endpoint_target_run_reads_the_data_capture(drift_runtime):
    """`monitor run` on `target: endpoint`: the analyzer reads the capture's JSON lines."""
    runtime, c = drift_runtime
    assert runtime.start_drift_baseline("s3://mlops-features/train/", print).state == \
        "succeeded"
    sm, endpoint = c("sagemaker"), "terraml-aws-mlops-endpoint"
    sm.create_model(ModelName="m", ExecutionRoleArn=runtime.outputs.get("drift_role"),
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m"})
    sm.create_endpoint_config(
        EndpointConfigName="ec", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large"}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100,
                           "DestinationS3Uri": f"s3://mlops-artifacts/data-capture/{endpoint}",
                           "CaptureOptions": [{"CaptureMode": "Input"},
                                              {"CaptureMode": "Output"}]})
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName="ec")
    lines = [json.dumps({"captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                          "data": row, "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                           "data": "0.5", "encoding": "CSV"}},
        "eventMetadata": {"eventId": str(i)}, "eventVersion": "0"})
        for i, row in enumerate(_drifted_rows().splitlines()[1:])]
    c("s3").put_object(Bucket="mlops-artifacts",
                       Key=f"data-capture/{endpoint}/{endpoint}/AllTraffic/2026/01/01/00/a.jsonl",
                       Body="\n".join(lines).encode())
    runtime.outputs.values["drift_target"] = endpoint
    run = runtime.start_drift_run()
    assert run.state == "succeeded", run.detail
    job = sm.describe_processing_job(ProcessingJobName=run.run_id)
    assert json.loads(job["Environment"]["dataset_format"]) == {
        "sagemakerCaptureJson": {"captureIndexNames": ["endpointInput"]}}
    assert job["ProcessingInputs"][0]["S3Input"]["S3Uri"] == \
        f"s3://mlops-artifacts/data-capture/{endpoint}/{endpoint}/"
    assert [f.feature for f in run.violations] == ["monthly_charges"]


def test_runs_are_listed_within_aws_limits_and_read_the_baseline_once(drift_runtime,
                                                                       monkeypatch):
    runtime, _ = drift_runtime
    assert runtime.start_drift_baseline("s3://mlops-features/train/", print).state == \
        "succeeded"
    for _ in range(2):
        assert runtime.start_drift_run().state == "succeeded"
    calls: list[tuple[str, dict]] = []
    reads: list[str] = []
    sm, s3_json = runtime.sm, runtime._s3_json
    monkeypatch.setattr(runtime, "sm", lambda op, **kw: calls.append((op, kw)) or sm(op, **kw))
    monkeypatch.setattr(runtime, "_s3_json", lambda uri: reads.append(uri) or s3_json(uri))
    runs = runtime.drift_runs(limit=500)
    assert len(runs) == 2 and all(r.features for r in runs)
    limits = [kw["MaxResults"] for op, kw in calls if op.startswith("List")]
    assert limits == [100, 100]
    assert reads.count("s3://mlops-artifacts/drift/baseline/constraints.json") == 1


def test_missing_or_mistyped_watched_feature_is_drifted(drift_runtime, monkeypatch):
    """A violation other than a distance marks the declared feature drifted, whatever its
    distance; a declared feature the run did not see is drifted too."""
    runtime, _ = drift_runtime
    documents = {
        "s3://out/constraint_violations.json": {"violations": [
            {"feature_name": "contract", "constraint_check_type": "baseline_drift_check",
             "description": "Baseline drift distance: 0.050000 exceeds threshold: 0.0"},
            {"feature_name": "contract", "constraint_check_type": "data_type_check",
             "description": "Data type match requirement is not met."},
            {"feature_name": "tenure", "constraint_check_type": "missing_column_check",
             "description": "There are missing columns: tenure"}]},
        "s3://out/statistics.json": {"features": [{"name": "monthly_charges"},
                                                  {"name": "contract"}]},
    }
    monkeypatch.setattr(runtime, "_s3_json", lambda uri: documents.get(uri))
    found = {f.feature: f for f in runtime._features("s3://out", 0.0)}
    assert list(found) == ["tenure", "monthly_charges", "contract"]  # the declared features
    assert found["tenure"].drifted and found["tenure"].score is None
    assert found["contract"].drifted and found["contract"].score == 0.05
    assert not found["monthly_charges"].drifted and found["monthly_charges"].score == 0.0


def test_unreadable_target_fails_the_run_with_the_reason(drift_runtime):
    runtime, c = drift_runtime
    assert runtime.start_drift_baseline("s3://mlops-features/train/", print).state == \
        "succeeded"
    c("s3").put_object(Bucket="mlops-raw", Key="inference-requests/2026/01/b.csv",
                       Body=b"only,two\n1,2\n")
    run = runtime.start_drift_run()
    assert run.state == "failed" and "header" in run.detail


def test_runtime_errors_are_one_line(drift_runtime, tmp_path):
    from adapters.aws.runtime import AwsRuntime
    from core.errors import UserError

    runtime, _ = drift_runtime
    with pytest.raises(UserError, match="expected the s3:// URI"):
        runtime.start_drift_baseline("/data/train.csv", print)
    bare = AwsRuntime(runtime.env, StackOutputs(values={}, source="outputs.json"))
    with pytest.raises(UserError, match="without drift monitoring") as caught:
        bare.drift_runs()
    assert "\n" not in str(caught.value)

# The real Terraform deploy (apply, clean re-plan, the CLI flow, destroy) is the shipped dev
# environment's, which has drift on: tests/test_local_deploy.py.
