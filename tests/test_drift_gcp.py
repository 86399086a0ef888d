"""Drift monitoring on GCP: the synthesized grants, endpoint logging, alert channels and `drift_*`
outputs (plus checkov), and the Vertex AI Model Monitoring v2 / GCS REST calls of
`terraml monitor baseline|run|status`, answered by `responses`."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from core.errors import UserError
from stacks.app import load_environment
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import resources, synth

EXAMPLE = ROOT / "examples/gcp-mlops.yaml"
AGENT = "service-${data.google_project.project.number}@gcp-sa-aiplatform.iam.gserviceaccount.com"


def drift_only(text: str, name: str) -> str:
    """The example with only its drift layer on (features and notebooks cut off: other
    layers, tested on their own)."""
    text = re.split(r"^(?:features|notebooks):", text, flags=re.MULTILINE)[0]
    return text.replace("name: gcp-mlops", f"name: {name}")


def write_env(tmp_path: Path, name: str, **replace: str) -> Path:
    text = drift_only(EXAMPLE.read_text(), name)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


# -- synth ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> dict:
    return synth(load_environment(write_env(tmp_path_factory.mktemp("lake"), "gcp-drift")))


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory) -> dict:
    path = write_env(tmp_path_factory.mktemp("ep"), "gcp-ep", **{
        "mode: serverless": "mode: realtime",
        "target: raw/inference-requests/": "target: endpoint",
        '"0 6 * * *"': '"0 */6 * * *"'})
    return synth(load_environment(path))


def outputs_of(doc: dict) -> dict:
    return {k: v["value"] for k, v in doc["output"].items() if k.startswith("drift_")}


def test_outputs_cover_the_neutral_names_and_the_runtime_extras(lake):
    from core.outputs import OPT_IN_OUTPUTS

    out = outputs_of(lake)
    assert set(OPT_IN_OUTPUTS["drift"]) <= set(out)
    artifacts = "${google_storage_bucket.data_bucket-artifacts_1C51BD3E.name}"
    assert out["drift_monitor"] == "terraml-gcp-drift-drift"
    assert out["drift_baseline_uri"] == f"gs://{artifacts}/drift/baseline/"
    assert out["drift_reports_uri"] == f"gs://{artifacts}/drift/reports/"
    assert out["drift_target"] == \
        "gs://${google_storage_bucket.data_bucket-raw_91588B8E.name}/inference-requests/"
    assert out["drift_features"] == ["tenure", "monthly_charges", "contract"]
    assert out["drift_thresholds"] == {"default": 0.3, "tenure": 0.3, "monthly_charges": 0.2,
                                       "contract": 0.3}
    assert out["drift_schedule"] == "0 6 * * *"
    assert out["drift_model"] == \
        "projects/terraml-dev-123/locations/us-central1/models/terraml-gcp-drift-model"
    assert out["drift_kms_key"] == "${google_kms_crypto_key.key_F64E54E4.id}"
    assert out["drift_channels"] == [
        "${google_monitoring_notification_channel.monitoring_alerts-email-0_5F8C64FD.name}"]
    assert out["drift_window"] == ""  # a data-lake target is read whole


def test_the_service_agent_reads_and_writes_only_the_drift_prefixes(lake):
    grants = {r["condition"]["title"]: r for r in resources(lake, "google_storage_bucket_iam_member")
              if "condition" in r}
    assert set(grants) == {"drift-baseline-read", "drift-reports-write", "drift-target-read"}
    expected = {"drift-baseline-read": ("artifacts", "drift/baseline/", "objectViewer"),
                "drift-reports-write": ("artifacts", "drift/reports/", "objectAdmin"),
                "drift-target-read": ("raw", "inference-requests/", "objectViewer")}
    for title, (bucket, prefix, role) in expected.items():
        grant = grants[title]
        assert grant["member"] == f"serviceAccount:{AGENT}"
        assert grant["role"] == f"roles/storage.{role}"
        assert f"data_bucket-{bucket}_" in grant["bucket"]
        assert f'/objects/{prefix}")' in grant["condition"]["expression"]
    # no project-wide storage or BigQuery role for the agent
    assert not [m for m in resources(lake, "google_project_iam_member") if AGENT in m["member"]]
    assert resources(lake, "google_bigquery_dataset_iam_member") == []
    (ep,) = resources(lake, "google_vertex_ai_endpoint")
    assert "predict_request_response_logging_config" not in ep  # a lake target needs none


def test_anomalies_alert_the_stack_channels_through_the_monitor_alone(lake):
    # The monitor notifies the channels itself (`monitor baseline` sets them, asserted in the
    # runtime tests below); a log-match policy would alert twice and bill a condition a month.
    (channel,) = lake["output"]["drift_channels"]["value"]
    assert channel.startswith("${google_monitoring_notification_channel.monitoring_alerts-email")
    assert not [p for p in resources(lake, "google_monitoring_alert_policy")
                if "condition_matched_log" in p["conditions"][0]]


def test_endpoint_target_logs_requests_into_the_cmek_dataset(endpoint):
    out = outputs_of(endpoint)
    assert out["drift_target"] == ("projects/terraml-dev-123/locations/us-central1/endpoints/"
                                   "${google_vertex_ai_endpoint.serving_endpoint_0F5E91F2.name}")
    assert out["drift_window"] == "6h"  # four runs a day: each reads six hours of requests
    (ep,) = resources(endpoint, "google_vertex_ai_endpoint")
    logging = ep["predict_request_response_logging_config"]
    assert logging["enabled"] is True and logging["sampling_rate"] == 1
    assert logging["bigquery_destination"]["output_uri"] == \
        "bq://terraml-dev-123.${google_bigquery_dataset.data_catalog_8AEB9D60.dataset_id}." \
        "endpoint_requests"
    (writer,) = resources(endpoint, "google_bigquery_dataset_iam_member")
    assert writer["role"] == "roles/bigquery.dataEditor"
    assert writer["member"] == f"serviceAccount:{AGENT}"
    assert writer["dataset_id"] == "${google_bigquery_dataset.data_catalog_8AEB9D60.dataset_id}"
    assert "google_bigquery_dataset_iam_member.drift_drift-requests-writer_9D548572" in \
        ep["depends_on"]
    (dataset,) = resources(endpoint, "google_bigquery_dataset")
    assert dataset["default_encryption_configuration"]["kms_key_name"] == \
        "${google_kms_crypto_key.key_F64E54E4.id}"
    titles = {r["condition"]["title"] for r in resources(endpoint,
                                                         "google_storage_bucket_iam_member")
              if "condition" in r}
    assert titles == {"drift-baseline-read", "drift-reports-write"}


def test_a_target_without_its_slash_covers_that_prefix_only(tmp_path):
    """`raw/inference-requests` must not grant (or read) `raw/inference-requests-old/...`."""
    doc = synth(load_environment(write_env(tmp_path, "gcp-slash", **{
        "target: raw/inference-requests/": "target: raw/inference-requests"})))
    assert outputs_of(doc)["drift_target"] == \
        "gs://${google_storage_bucket.data_bucket-raw_91588B8E.name}/inference-requests/"
    (grant,) = [r for r in resources(doc, "google_storage_bucket_iam_member")
                if r.get("condition", {}).get("title") == "drift-target-read"]
    assert '/objects/inference-requests/")' in grant["condition"]["expression"]


@pytest.mark.parametrize(("target", "how"), [("artifacts/drift/", "contains"),
                                             ("artifacts/drift/baseline/prod", "lies under"),
                                             ("artifacts/", "contains")])
def test_a_target_overlapping_the_baseline_is_one_line(tmp_path, target, how):
    path = write_env(tmp_path, "gcp-overlap", **{
        "target: raw/inference-requests/": f"target: {target}"})
    with pytest.raises(UserError) as caught:
        synth(load_environment(path))
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(r"gcp-overlap\.yaml:\d+: monitoring\.drift\.target: ", message), message
    assert f"found {target}, which {how} it" in message


def test_no_drift_builds_nothing(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text((ROOT / "examples/gcp-dev.yaml").read_text())
    doc = synth(load_environment(path))
    assert not [k for k in doc["output"] if k.startswith("drift_")]
    assert not [p for p in resources(doc, "google_monitoring_alert_policy")
                if "drift" in p["display_name"]]


def test_reports_sit_beside_the_baseline():
    from adapters.gcp.drift import reports_prefix

    assert reports_prefix("drift/baseline/") == "drift/reports/"
    assert reports_prefix("baseline") == "reports/"
    assert reports_prefix("") == "drift-reports/"
    assert reports_prefix("reports/") == "reports/reports/"  # never the baseline's own prefix


def test_checkov_passes_the_drift_resources(tmp_path):
    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov") or \
        str(ROOT / ".venv-checkov/bin/checkov")
    if not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    envs = tmp_path / "envs"
    envs.mkdir()
    write_env(envs, "gcp-drift")
    write_env(envs, "gcp-ep", **{"mode: serverless": "mode: realtime",
                                 "target: raw/inference-requests/": "target: endpoint"})
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    failures, _suppressed, summary = gate(checkov, tmp_path / "out")
    assert failures == [], failures
    assert summary.get("parsing_errors") == 0 and summary.get("passed", 0) > 100


# -- the runtime: Vertex AI Model Monitoring v2 and GCS REST ---------------------------------

RES = "projects/terraml-dev-123/locations/us-central1"
BETA = "https://us-central1-aiplatform.googleapis.com/v1beta1"
GCS = "https://storage.googleapis.com/storage/v1"
MONITOR = f"{RES}/modelMonitors/terraml-gd-drift"
MODEL = f"{RES}/models/terraml-gd-model"
KEY = f"{RES}/keyRings/terraml-gd/cryptoKeys/terraml-gd-data"
CHANNEL = "projects/terraml-dev-123/notificationChannels/555"
OUTPUTS = {
    "environment": "gd", "cloud": "gcp", "region": "us-central1",
    "drift_monitor": "terraml-gd-drift",
    "drift_baseline_uri": "gs://terraml-gd-artifacts-b/drift/baseline/",
    "drift_reports_uri": "gs://terraml-gd-artifacts-b/drift/reports/",
    "drift_target": "gs://terraml-gd-raw-b/inference-requests/",
    "drift_features": ["tenure", "monthly_charges", "contract"],
    "drift_thresholds": {"default": 0.3, "tenure": 0.3, "monthly_charges": 0.2,
                         "contract": 0.3},
    "drift_schedule": "0 6 * * *", "drift_model": MODEL, "drift_kms_key": KEY,
    "drift_channels": [CHANNEL], "drift_window": "",
}
TRAIN = "gs://train-b/churn/train.csv"
TRAIN_URL = f"{GCS}/b/train-b/o/churn%2Ftrain.csv"
CSV = ("customer_id,tenure,monthly_charges,contract,churned\n"
       "c1,12,70.5,monthly,0\nc2,40,20,yearly,1\nc3,3,99.95,monthly,0\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    from google.auth.credentials import AnonymousCredentials

    (tmp_path / "environments").mkdir()
    write_env(tmp_path / "environments", "gd")
    (tmp_path / "outputs.json").write_text(json.dumps({k: {"value": v}
                                                       for k, v in OUTPUTS.items()}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("adapters.gcp.runtime.credentials", AnonymousCredentials)
    monkeypatch.setattr("adapters.retry.BASE_SECONDS", 0.01)
    return tmp_path


def runtime_for(project: Path, **changes):
    from adapters.gcp.runtime import GcpRuntime
    from core.outputs import StackOutputs

    values = {k: v for k, v in {**OUTPUTS, **changes}.items() if v is not None}
    return GcpRuntime(load_environment(project / "environments/gd.yaml"),
                      StackOutputs(values, "outputs.json"))


def sent(method: str, path: str) -> list:
    return [c for c in responses.calls if c.request.method == method
            and urlparse(c.request.url).path == urlparse(path).path]


def body(call) -> dict:
    return json.loads(call.request.body)


def query(call) -> dict[str, list[str]]:
    return parse_qs(urlparse(call.request.url).query)


def answer_baseline(monitor_exists: bool) -> None:
    responses.get(TRAIN_URL, body=CSV, status=206)
    responses.post(f"{TRAIN_URL}/rewriteTo/b/terraml-gd-artifacts-b/o/"
                   "drift%2Fbaseline%2Ftraining.csv", json={"done": True})
    responses.get(f"{BETA}/{MODEL}:listVersions", json={"models": [
        {"versionId": "1"}, {"versionId": "3"}, {"versionId": "2"}]})
    if monitor_exists:
        responses.get(f"{BETA}/{MONITOR}", json={"name": MONITOR})
        responses.patch(f"{BETA}/{MONITOR}", json={"name": f"{MONITOR}/operations/2",
                                                   "done": True})
    else:
        responses.get(f"{BETA}/{MONITOR}", status=404, json={"error": {
            "code": 404, "status": "NOT_FOUND", "message": "not found"}})
        responses.post(f"{BETA}/{RES}/modelMonitors", json={"name": f"{RES}/operations/1",
                                                            "done": False})
        responses.get(f"{BETA}/{RES}/operations/1", json={"name": f"{RES}/operations/1",
                                                          "done": True,
                                                          "response": {"name": MONITOR}})
    responses.get(f"{BETA}/{RES}/schedules", json={"schedules": [
        {"name": f"{RES}/schedules/7", "displayName": "terraml-gd-drift", "state": "ACTIVE"}]})
    responses.post(f"{BETA}/{RES}/schedules", json={"name": f"{RES}/schedules/8"})
    responses.delete(f"{BETA}/{RES}/schedules/7", json={"name": f"{RES}/operations/3"})


@responses.activate
def test_baseline_creates_the_monitor_and_replaces_the_schedule(project, monkeypatch):
    monkeypatch.setattr("adapters.gcp.drift_runtime.POLL_SECONDS", 0)
    answer_baseline(monitor_exists=False)
    said: list[str] = []
    started = runtime_for(project).start_drift_baseline(TRAIN, said.append)
    assert started.state == "succeeded" and started.job == MONITOR
    assert started.uri == "gs://terraml-gd-artifacts-b/drift/baseline/"
    assert started.features == ["tenure", "monthly_charges", "contract"]
    assert "schedule 8" in started.detail and f"{MODEL}@3" in started.detail

    (read,) = sent("GET", TRAIN_URL)
    assert read.request.headers["Range"] == "bytes=0-1048575"
    assert query(read)["alt"] == ["media"]
    (copy,) = [c for c in responses.calls if "/rewriteTo/" in c.request.url]
    assert urlparse(copy.request.url).path.endswith(
        "/b/train-b/o/churn%2Ftrain.csv/rewriteTo/b/terraml-gd-artifacts-b/o/"
        "drift%2Fbaseline%2Ftraining.csv")
    assert query(copy)["destinationKmsKeyName"] == [KEY]

    (create,) = sent("POST", f"{BETA}/{RES}/modelMonitors")
    assert query(create)["modelMonitorId"] == ["terraml-gd-drift"]
    monitor = body(create)
    assert monitor["displayName"] == "terraml-gd-drift"
    assert monitor["modelMonitoringTarget"] == {"vertexModel": {"model": MODEL,
                                                                "modelVersionId": "3"}}
    baseline = {"columnizedDataset": {"gcsSource": {
        "gcsUri": "gs://terraml-gd-artifacts-b/drift/baseline/training.csv", "format": "CSV"}}}
    assert monitor["trainingDataset"] == baseline
    assert monitor["modelMonitoringSchema"] == {"featureFields": [
        {"name": "tenure", "dataType": "integer"},
        {"name": "monthly_charges", "dataType": "float"},
        {"name": "contract", "dataType": "categorical"}]}
    spec = monitor["tabularObjective"]["featureDriftSpec"]
    assert spec["features"] == ["tenure", "monthly_charges", "contract"]
    assert spec["numericMetricType"] == "jensen_shannon_divergence"
    assert spec["categoricalMetricType"] == "l_infinity"
    assert spec["defaultNumericAlertCondition"] == {"threshold": 0.3}
    assert spec["defaultCategoricalAlertCondition"] == {"threshold": 0.3}
    assert spec["featureAlertConditions"] == {"tenure": {"threshold": 0.3},
                                              "monthly_charges": {"threshold": 0.2},
                                              "contract": {"threshold": 0.3}}
    assert monitor["notificationSpec"] == {
        "enableCloudLogging": True, "notificationChannelConfigs": [
            {"notificationChannel": CHANNEL}]}
    assert monitor["outputSpec"] == {"gcsBaseDirectory": {
        "outputUriPrefix": "gs://terraml-gd-artifacts-b/drift/reports/"}}
    assert monitor["encryptionSpec"] == {"kmsKeyName": KEY}
    assert len(sent("GET", f"{BETA}/{RES}/operations/1")) == 1  # waited for the monitor

    (schedule,) = sent("POST", f"{BETA}/{RES}/schedules")
    schedule = body(schedule)
    assert schedule["displayName"] == "terraml-gd-drift"
    assert schedule["cron"] == "TZ=UTC 0 6 * * *"
    assert schedule["maxConcurrentRunCount"] == 1
    request = schedule["createModelMonitoringJobRequest"]
    assert request["parent"] == MONITOR
    job = request["modelMonitoringJob"]["modelMonitoringSpec"]
    assert job["objectiveSpec"]["baselineDataset"] == baseline
    assert job["objectiveSpec"]["targetDataset"] == {"columnizedDataset": {"gcsSource": {
        "gcsUri": "gs://terraml-gd-raw-b/inference-requests/**.csv", "format": "CSV"}}}
    assert job["objectiveSpec"]["tabularObjective"] == monitor["tabularObjective"]
    assert job["notificationSpec"] == monitor["notificationSpec"]
    assert job["outputSpec"] == monitor["outputSpec"]
    (listed,) = sent("GET", f"{BETA}/{RES}/schedules")
    assert query(listed)["filter"] == ['display_name="terraml-gd-drift"']
    assert len(sent("DELETE", f"{BETA}/{RES}/schedules/7")) == 1
    # the old schedule goes only after the new one exists
    methods = [c.request.method for c in responses.calls if "/schedules" in c.request.url]
    assert methods == ["GET", "POST", "DELETE"]
    assert any("creating the model monitor" in line for line in said)


@responses.activate
def test_runs_read_the_csvs_under_the_target_folder_only(project):
    """A target output without its trailing slash still reads `<prefix>/**.csv`, never
    `<prefix>-old/...` beside it."""
    answer_baseline(monitor_exists=True)
    runtime_for(project, drift_target="gs://terraml-gd-raw-b/inference-requests") \
        .start_drift_baseline(TRAIN, lambda _: None)
    (schedule,) = sent("POST", f"{BETA}/{RES}/schedules")
    spec = body(schedule)["createModelMonitoringJobRequest"]["modelMonitoringJob"][
        "modelMonitoringSpec"]
    assert spec["objectiveSpec"]["targetDataset"]["columnizedDataset"]["gcsSource"][
        "gcsUri"] == "gs://terraml-gd-raw-b/inference-requests/**.csv"


@responses.activate
def test_baseline_updates_an_existing_monitor(project):
    answer_baseline(monitor_exists=True)
    runtime_for(project).start_drift_baseline(TRAIN, lambda _: None)
    assert sent("POST", f"{BETA}/{RES}/modelMonitors") == []
    (patch,) = sent("PATCH", f"{BETA}/{MONITOR}")
    mask = query(patch)["updateMask"][0].split(",")
    assert {"modelMonitoringTarget", "trainingDataset", "tabularObjective",
            "notificationSpec", "outputSpec", "modelMonitoringSchema"} <= set(mask)
    assert body(patch)["modelMonitoringTarget"]["vertexModel"]["modelVersionId"] == "3"


@responses.activate
def test_an_endpoint_target_monitors_the_version_the_endpoint_serves(project):
    """Not the newest registered version (4, a candidate at 10% traffic) but the one taking
    most of the endpoint's traffic (2); the registry is not even asked."""
    endpoint = f"{RES}/endpoints/4242"
    answer_baseline(monitor_exists=True)
    responses.get(f"{BETA}/{endpoint}", json={"name": endpoint, "deployedModels": [
        {"id": "111", "model": MODEL, "modelVersionId": "4"},
        {"id": "222", "model": f"{MODEL}@2", "modelVersionId": "2"}],
        "trafficSplit": {"111": 10, "222": 90}})
    started = runtime_for(project, drift_target=endpoint, drift_window="24h") \
        .start_drift_baseline(TRAIN, lambda _: None)
    (patch,) = sent("PATCH", f"{BETA}/{MONITOR}")
    assert body(patch)["modelMonitoringTarget"] == {"vertexModel": {"model": MODEL,
                                                                    "modelVersionId": "2"}}
    assert f"{MODEL}@2" in started.detail
    assert sent("GET", f"{BETA}/{MODEL}:listVersions") == []


@responses.activate
def test_an_endpoint_target_with_nothing_deployed_is_one_line(project):
    endpoint = f"{RES}/endpoints/4242"
    answer_baseline(monitor_exists=True)
    responses.get(f"{BETA}/{endpoint}", json={"name": endpoint})
    with pytest.raises(UserError) as caught:
        runtime_for(project, drift_target=endpoint).start_drift_baseline(TRAIN, lambda _: None)
    assert "\n" not in str(caught.value) and "no model deployed on the endpoint" in \
        str(caught.value)
    assert sent("PATCH", f"{BETA}/{MONITOR}") == []


@responses.activate
def test_baseline_state_reads_the_monitor_and_its_schedule(project):
    responses.get(f"{BETA}/{MONITOR}", json={
        "name": MONITOR, "displayName": "terraml-gd-drift",
        "tabularObjective": {"featureDriftSpec": {"features": ["tenure", "contract"]}}})
    responses.get(f"{BETA}/{RES}/schedules", json={"schedules": [
        {"name": f"{RES}/schedules/8", "state": "ACTIVE"}]})
    found = runtime_for(project).drift_baseline(MONITOR)
    assert (found.state, found.features) == ("succeeded", ["tenure", "contract"])


@responses.activate
def test_a_run_now_is_a_monitoring_job_on_the_endpoint_logs(project):
    endpoint = f"{RES}/endpoints/4242"
    monitor = {"name": MONITOR, "trainingDataset": {"columnizedDataset": {}},
               "tabularObjective": {"featureDriftSpec": {"features": ["tenure"]}},
               "notificationSpec": {"enableCloudLogging": True},
               "outputSpec": {"gcsBaseDirectory": {"outputUriPrefix": "gs://r/"}}}
    responses.get(f"{BETA}/{MONITOR}", json=monitor)
    responses.post(f"{BETA}/{MONITOR}/modelMonitoringJobs", json={
        "name": f"{MONITOR}/modelMonitoringJobs/91", "state": "JOB_STATE_PENDING",
        "createTime": "2026-03-02T06:00:00Z"})
    run = runtime_for(project, drift_target=endpoint, drift_window="24h").start_drift_run()
    assert run.run_id == f"{MONITOR}/modelMonitoringJobs/91" and run.state == "pending"
    (created,) = sent("POST", f"{BETA}/{MONITOR}/modelMonitoringJobs")
    spec = body(created)["modelMonitoringSpec"]
    assert body(created)["displayName"].startswith("terraml-gd-drift-")
    assert spec["objectiveSpec"]["targetDataset"] == {
        "vertexEndpointLogs": {"endpoints": [endpoint]}, "timeOffset": {"window": "24h"}}
    assert spec["objectiveSpec"]["baselineDataset"] == monitor["trainingDataset"]
    assert spec["objectiveSpec"]["tabularObjective"] == monitor["tabularObjective"]


def point(job: str, score: float, threshold: float, anomaly: bool) -> dict:
    return {"currentStats": {"distributionValue": {"distributionDeviation": score}},
            "thresholdValue": threshold, "hasAnomaly": anomaly,
            "modelMonitoringJob": f"{MONITOR}/modelMonitoringJobs/{job}",
            "algorithm": "jensen_shannon_divergence"}


@responses.activate
def test_runs_newest_first_with_scores_and_violations(project):
    jobs = f"{MONITOR}/modelMonitoringJobs"
    responses.get(f"{BETA}/{jobs}", json={"modelMonitoringJobs": [
        {"name": f"{jobs}/1", "state": "JOB_STATE_SUCCEEDED",
         "createTime": "2026-03-01T06:00:00Z"},
        {"name": f"{jobs}/3", "state": "JOB_STATE_RUNNING", "createTime": "2026-03-03T06:00:00Z"},
        {"name": f"{jobs}/2", "state": "JOB_STATE_FAILED", "createTime": "2026-03-02T06:00:00Z",
         "jobExecutionDetail": {"error": {"message": "no target data"}}}]})
    responses.post(f"{BETA}/{MONITOR}:searchModelMonitoringStats", json={"monitoringStats": [
        {"tabularStats": {"statsName": "monthly_charges", "objectiveType": "raw-feature-drift",
                          "dataPoints": [point("1", 0.45, 0.2, True)]}},
        {"tabularStats": {"statsName": "tenure", "objectiveType": "raw-feature-drift",
                          "dataPoints": [point("1", 0.1, 0.3, False)]}}]})
    responses.post(f"{BETA}/{MONITOR}:searchModelMonitoringAlerts", json={
        "modelMonitoringAlerts": [{"statsName": "contract", "objectiveType": "raw-feature-drift",
                                   "anomaly": {"modelMonitoringJob": f"{jobs}/1"}}]})
    runs = runtime_for(project).drift_runs(limit=5)
    assert [r.run_id.rsplit("/", 1)[-1] for r in runs] == ["3", "2", "1"]
    assert [r.state for r in runs] == ["running", "failed", "succeeded"]
    assert runs[1].detail == "no target data" and runs[0].features == []
    done = runs[2]
    assert [(f.feature, f.score, f.threshold, f.drifted) for f in done.features] == [
        ("tenure", 0.1, 0.3, False), ("monthly_charges", 0.45, 0.2, True),
        ("contract", None, 0.3, True)]  # alerted without a data point
    assert [f.feature for f in done.violations] == ["monthly_charges", "contract"]
    (stats,) = sent("POST", f"{BETA}/{MONITOR}:searchModelMonitoringStats")
    assert body(stats)["statsFilter"] == {"tabularStatsFilter": {
        "objectiveType": "raw-feature-drift"}}
    assert body(stats)["timeInterval"]["startTime"] == "2026-03-01T06:00:00Z"
    (alerts,) = sent("POST", f"{BETA}/{MONITOR}:searchModelMonitoringAlerts")
    assert body(alerts)["objectiveType"] == "raw-feature-drift"


@responses.activate
def test_no_monitor_yet_means_no_runs(project):
    responses.get(f"{BETA}/{MONITOR}/modelMonitoringJobs", status=404, json={"error": {
        "code": 404, "status": "NOT_FOUND", "message": "no monitor"}})
    assert runtime_for(project).drift_runs() == []


# -- bad input: one line, no call ------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize("uri", ["s3://bucket/train.csv", "gs://bucket/train.parquet",
                                 "gs://bucket/", "/local/train.csv"])
def test_data_must_be_one_gcs_csv(project, uri):
    with pytest.raises(UserError) as caught:
        runtime_for(project).start_drift_baseline(uri, lambda _: None)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("--data: expected") and uri in message
    assert len(responses.calls) == 0


@responses.activate
def test_missing_drift_outputs_is_one_line(project):
    with pytest.raises(UserError) as caught:
        runtime_for(project, drift_monitor=None).start_drift_baseline(TRAIN, lambda _: None)
    assert str(caught.value) == ("outputs.json: stack output 'drift_monitor' is missing: "
                                 "redeploy the stack with this terraml version")
    assert len(responses.calls) == 0


@responses.activate
def test_a_watched_feature_missing_from_the_csv_names_the_setting(project):
    responses.get(TRAIN_URL, body="customer_id,tenure\nc1,3\n", status=206)
    with pytest.raises(UserError) as caught:
        runtime_for(project).start_drift_baseline(TRAIN, lambda _: None)
    message = str(caught.value)
    assert "\n" not in message and re.search(r"gd\.yaml:\d+: monitoring\.drift\.features", message)
    assert "no column 'monthly_charges'" in message
    assert sent("POST", f"{BETA}/{RES}/modelMonitors") == []


@responses.activate
def test_no_registered_model_version_is_one_line(project):
    responses.get(TRAIN_URL, body=CSV, status=206)
    responses.post(f"{TRAIN_URL}/rewriteTo/b/terraml-gd-artifacts-b/o/"
                   "drift%2Fbaseline%2Ftraining.csv", json={"done": True})
    responses.get(f"{BETA}/{MODEL}:listVersions", status=404, json={"error": {
        "code": 404, "status": "NOT_FOUND", "message": "no model"}})
    with pytest.raises(UserError, match=r"no model version in the registry yet"):
        runtime_for(project).start_drift_baseline(TRAIN, lambda _: None)


@responses.activate
def test_monitor_status_through_the_cli(project, capsys):
    from terraml import cli

    responses.get(f"{BETA}/{MONITOR}/modelMonitoringJobs", json={"modelMonitoringJobs": [
        {"name": f"{MONITOR}/modelMonitoringJobs/1", "state": "JOB_STATE_SUCCEEDED",
         "createTime": "2026-03-01T06:00:00Z"}]})
    responses.post(f"{BETA}/{MONITOR}:searchModelMonitoringStats", json={"monitoringStats": [
        {"tabularStats": {"statsName": "monthly_charges",
                          "dataPoints": [point("1", 0.45, 0.2, True)]}}]})
    responses.post(f"{BETA}/{MONITOR}:searchModelMonitoringAlerts", json={})
    argv, sys.argv = sys.argv, ["terraml", "monitor", "status", "--env", "gd", "--json",
                                "--outputs", "outputs.json"]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert "monthly_charges" in json.dumps(document) and "0.45" in json.dumps(document)
