"""Drift monitoring on Azure: the layer at synth level (datastores, reader grants, the
failed-run alert to the action group, outputs, checkov) and the runtime through azure-ai-ml
against the in-memory ARM of tests/test_runtime_azure.py plus the workspace's MLflow REST API
(`responses`), asserting the request bodies: baseline data version, the monitor schedule with
its signals, thresholds, production / reference data, cron, compute and emails; a triggered
run; run listing -> per-feature scores, drifted vs stable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import responses
import yaml

from core.errors import UserError
from core.outputs import OPT_IN_OUTPUTS, StackOutputs
from stacks.app import load_environment
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import resources

pytest.importorskip("azure.ai.ml")

from tests.test_runtime_azure import OUTPUTS, SUB, WS, FakeArm, FakeCredential

API = "https://eastus.api.azureml.ms"
MLFLOW = f"{API}/mlflow/v2.0{WS}/api/2.0/mlflow"
MONITOR = "terraml-adev-drift"
DRIFT = """monitoring:
  emails: [ml@example.com, oncall@example.com]
  drift:
    baseline: artifacts/drift/baseline/
    target: raw/inference-requests/
    schedule: "0 6 * * *"
    features: [tenure, monthly_charges, contract]
    threshold: 0.3
    feature_thresholds: {monthly_charges: 0.2}
    size: small
"""
ENV = f"""name: adev
cloud: azure
region: eastus
tier: dev
subscription_id: {SUB}
training: {{accelerator: T4, spot: true}}
serving: {{mode: realtime, size: medium}}
{DRIFT}"""
DRIFT_OUTPUTS = {
    **OUTPUTS, "drift_monitor": MONITOR,
    "drift_baseline_uri": "azureml://datastores/terraml_artifacts/paths/drift/baseline/",
    "drift_target": "azureml://datastores/terraml_raw/paths/inference-requests/",
    "drift_reports_uri": "azureml://datastores/workspaceblobstore/paths/azureml/",
    "drift_features": ["tenure", "monthly_charges", "contract"],
    "drift_thresholds": {"default": 0.3, "tenure": 0.3, "monthly_charges": 0.2,
                         "contract": 0.3},
    "drift_schedule": "0 6 * * *", "drift_instance_type": "standard_e4s_v3",
    "drift_spark_runtime": "3.4"}


# -- synth ------------------------------------------------------------------------------


def example_with_drift_only(tmp_path: Path) -> Path:
    """examples/azure-mlops.yaml with only the drift layer on (features and notebooks are
    other layers, tested on their own)."""
    text = (ROOT / "examples/azure-mlops.yaml").read_text()
    text = text[:text.index("\nfeatures:")] + "\n"
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "azure-mlops.yaml").write_text(text)
    return envs


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory) -> tuple[dict, Path]:
    tmp_path = tmp_path_factory.mktemp("az-drift")
    envs = example_with_drift_only(tmp_path)
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out/stacks/ml-azure-mlops/cdk.tf.json").read_text())
    return doc, tmp_path / "out"


def by_name(doc: dict, rtype: str) -> dict[str, str]:
    return {f"${{{rtype}.{n}.id}}": n for n in doc["resource"][rtype]}


def test_outputs_cover_the_neutral_contract(synthesized):
    doc, _ = synthesized
    out = {name: value["value"] for name, value in doc["output"].items()}
    assert set(OPT_IN_OUTPUTS["drift"]) <= set(out)
    assert out["drift_monitor"] == "terraml-azure-mlops-drift"
    assert out["drift_thresholds"] == {"default": 0.3, "tenure": 0.3, "monthly_charges": 0.2,
                                       "contract": 0.3}
    assert out["drift_features"] == ["tenure", "monthly_charges", "contract"]
    assert out["drift_schedule"] == "0 6 * * *"
    assert out["drift_instance_type"] == "standard_e4s_v3"  # size small, serverless Spark
    assert out["drift_spark_runtime"] == "3.4"
    datastores = {f"${{azurerm_machine_learning_datastore_datalake_gen2.{n}.name}}": d["name"]
                  for n, d in doc["resource"][
                      "azurerm_machine_learning_datastore_datalake_gen2"].items()}
    for output, store, path in (("drift_baseline_uri", "terraml_artifacts", "drift/baseline/"),
                                ("drift_target", "terraml_raw", "inference-requests/")):
        found = re.fullmatch(r"azureml://datastores/(\$\{[^}]+\})/paths/(.*)", out[output])
        assert found and datastores[found.group(1)] == store and found.group(2) == path


def test_datastores_are_identity_based_and_the_workspace_only_reads_them(synthesized):
    doc, _ = synthesized
    containers = by_name(doc, "azurerm_storage_container")
    stores = resources(doc, "azurerm_machine_learning_datastore_datalake_gen2")
    assert sorted(containers[s["storage_container_id"]] for s in stores) == [
        "data_container-artifacts_02F5622C", "data_container-raw_403E824A"]
    for store in stores:
        assert store["service_data_identity"] == "WorkspaceSystemAssignedIdentity"
        assert not {"client_id", "client_secret", "tenant_id"} & set(store)  # no secrets
        assert store["tags"]["env"] == "azure-mlops"
    grants = [g for g in resources(doc, "azurerm_role_assignment")
              if g["scope"] in containers]
    assert sorted(containers[g["scope"]] for g in grants) == [
        "data_container-artifacts_02F5622C", "data_container-raw_403E824A"]
    (workspace,) = doc["resource"]["azurerm_machine_learning_workspace"]
    for grant in grants:
        assert grant["role_definition_name"] == "Storage Blob Data Reader"
        assert grant["principal_id"] == (f"${{azurerm_machine_learning_workspace.{workspace}"
                                         ".identity[0].principal_id}")


def test_violations_reach_the_action_group(synthesized):
    doc, _ = synthesized
    alerts = doc["resource"]["azurerm_monitor_metric_alert"]
    (alert,) = [a for a in alerts.values() if a["name"].endswith("-drift-violations")]
    (group,) = doc["resource"]["azurerm_monitor_action_group"]
    assert alert["action"] == [{"action_group_id":
                                f"${{azurerm_monitor_action_group.{group}.id}}"}]
    (criteria,) = alert["criteria"]
    assert (criteria["metric_namespace"], criteria["metric_name"], criteria["operator"],
            criteria["threshold"]) == ("Microsoft.MachineLearningServices/workspaces",
                                       "Failed Runs", "GreaterThan", 0)
    assert criteria["dimension"] == [{"name": "ExperimentName", "operator": "Include",
                                      "values": ["terraml-azure-mlops-drift"]}]
    (workspace,) = doc["resource"]["azurerm_machine_learning_workspace"]
    assert alert["scopes"] == [f"${{azurerm_machine_learning_workspace.{workspace}.id}}"]
    assert alert["tags"]["env"] == "azure-mlops"


def test_example_passes_checkov(synthesized):
    _, out = synthesized
    checkov = ROOT / ".venv-checkov/bin/checkov"
    if not checkov.exists():
        pytest.skip("checkov not installed (make test installs it into .venv-checkov)")
    gate = subprocess.run([sys.executable, str(ROOT / "tests/checkov_gate.py"), str(checkov),
                           str(out)], capture_output=True, text=True, check=False)
    assert gate.returncode == 0, gate.stdout + gate.stderr


def test_endpoint_target_names_the_endpoint(write_env):
    from tests.test_synth_aws import synth

    env = load_environment(write_env(ENV.replace("target: raw/inference-requests/",
                                                 "target: endpoint"), "ep.yaml"))
    doc = synth(env)
    out = {name: value["value"] for name, value in doc["output"].items()}
    assert out["drift_target"].startswith("azureml:${azapi_resource.")
    assert len(resources(doc, "azurerm_machine_learning_datastore_datalake_gen2")) == 1


def test_unknown_baseline_bucket_is_one_line(tmp_path: Path):
    envs = example_with_drift_only(tmp_path)
    path = envs / "azure-mlops.yaml"
    path.write_text(path.read_text().replace("baseline: artifacts/", "baseline: nowhere/"))
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "azure-mlops.yaml:" in line and "monitoring.drift.baseline" in line
    assert "'nowhere'" in line


# -- runtime ----------------------------------------------------------------------------


class FakeMonitoring(FakeArm):
    """ARM (FakeArm) plus schedule triggers and the workspace's MLflow REST API: `metric_runs`
    holds SearchRuns' answer, `history` run id -> the metric `value`'s points."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.experiment: dict | None = None
        self.metric_runs: list[dict] = []
        self.history: dict[str, list[dict]] = {}
        self.mltables: dict[str, dict] = {}  # asset name -> its uploaded MLTable file

    def upload(self, operation_scope, datastore_operation, path, **options):
        """The SDK's upload of a local asset folder to the default datastore (blob storage,
        not faked): keeps the folder's MLTable file."""
        from azure.ai.ml.entities._assets._artifacts.artifact import ArtifactStorageInfo

        self.mltables[options["asset_name"]] = yaml.safe_load((Path(path) / "MLTable")
                                                              .read_text())
        return ArtifactStorageInfo(
            name=options["asset_name"], version=options["asset_version"],
            relative_path=f"LocalUpload/{options['asset_name']}/", container_name="blobs",
            datastore_arm_id=f"{WS}/datastores/workspaceblobstore")

    def __call__(self, request):
        self.urls.append(request.url)
        if request.url.startswith(MLFLOW):
            path = request.url.split("?")[0][len(MLFLOW):]
            body = json.loads(request.body) if request.body else {}
            self.sent.append((request.method, path, body))
            if path == "/experiments/get-by-name":
                if self.experiment is None:
                    return 404, {}, json.dumps({"error_code": "RESOURCE_DOES_NOT_EXIST"})
                return 200, {}, json.dumps({"experiment": self.experiment})
            if path == "/runs/search":
                return 200, {}, json.dumps({"runs": self.metric_runs})
            if path == "/metrics/get-history":
                run_id = re.search(r"run_id=([^&]+)", request.url).group(1)
                return 200, {}, json.dumps({"metrics": self.history.get(run_id, [])})
        if request.url.startswith(API) and "/discovery" in request.url:
            return 200, {}, json.dumps({"api": API, "history": API})
        if request.method == "POST" and request.url.split("?")[0].endswith("/trigger"):
            self.sent.append(("POST", request.url.split("?")[0].split(".com")[1],
                              json.loads(request.body)))
            return 200, {}, json.dumps({"submissionId": "drift-run-now",
                                        "scheduleActionType": "CreateMonitor"})
        return super().__call__(request)

    def metric_run(self, run_id: str, feature: str, metric: str, signal: str,
                   points: list[tuple[int, float]]) -> None:
        tags = {"azureml.monitor_name": MONITOR, "azureml.signal_name": signal,
                "azureml.metric_name": metric, "azureml.group_0": feature}
        self.metric_runs.append({"info": {"run_id": run_id}, "data": {
            "tags": [{"key": k, "value": v} for k, v in tags.items()]}})
        self.history[run_id] = [{"key": "value", "value": v, "step": s, "timestamp": s * 1000}
                                for s, v in points]


@contextmanager
def fake_monitoring(tmp_path: Path, monkeypatch, env: str = ENV) -> Iterator[FakeMonitoring]:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments/adev.yaml").write_text(env)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("adapters.azure.runtime.credential", FakeCredential)
    monkeypatch.setattr("adapters.retry.BASE_SECONDS", 0.01)
    fake = FakeMonitoring()
    monkeypatch.setattr("azure.ai.ml._artifacts._artifact_utilities._upload_to_datastore",
                        fake.upload)
    fake.put(WS, {"location": "eastus", "identity": {"type": "SystemAssigned"},
                  "properties": {"discoveryUrl": f"{API}/discovery"}})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "PUT", "POST", "DELETE", "PATCH"):
            mock.add_callback(method, re.compile(r"https://(management\.azure\.com|eastus\.api"
                                                 r"\.azureml\.ms)/.*"), callback=fake)
        mock.add("GET", re.compile(r"https://azuremlschemas\S*/MLTable\.schema\.json"),
                 json=MLTABLE_SCHEMA)
        yield fake


@pytest.fixture
def aml(tmp_path: Path, monkeypatch):
    with fake_monitoring(tmp_path, monkeypatch) as fake:
        yield fake


def runtime(outputs: dict | None = None):
    from adapters.azure.runtime import AzureRuntime

    return AzureRuntime(load_environment(Path("environments/adev.yaml")),
                        StackOutputs(outputs or DRIFT_OUTPUTS, "outputs.json"))


# What the SDK validates an MLTable file against (a stand-in for the published schema).
MLTABLE_SCHEMA = {"type": "object", "required": ["paths"], "properties": {
    "paths": {"type": "array", "minItems": 1}, "transformations": {"type": "array"}}}
DATA = "azureml://datastores/terraml_artifacts/paths/drift/baseline/train.csv"


def test_baseline_registers_the_data_and_puts_the_monitor_schedule(aml):
    said: list[str] = []
    baseline = runtime().start_drift_baseline(DATA, said.append)
    assert baseline.state == "succeeded"
    assert re.fullmatch(rf"azureml:{MONITOR}-baseline:\d{{14}}", baseline.job)
    assert baseline.features == ["tenure", "monthly_charges", "contract"]
    version = baseline.job.rsplit(":", 1)[1]
    # the monitor reads its data as MLTable: an uploaded MLTable file reading the CSV in place
    read_csv = [{"read_delimited": {"delimiter": ",", "header": "all_files_same_headers",
                                    "encoding": "utf8"}}]
    for asset, kind, uri in ((f"{MONITOR}-baseline", "file", DATA),
                             (f"{MONITOR}-production", "folder", DRIFT_OUTPUTS["drift_target"])):
        (body,) = [b for m, p, b in aml.sent if m == "PUT" and
                   p == f"{WS}/data/{asset}/versions/{version}"]
        assert body["properties"]["dataType"] == "mltable"
        assert body["properties"]["dataUri"] == \
            f"azureml://datastores/workspaceblobstore/paths/LocalUpload/{asset}/"
        assert body["properties"]["referencedUris"] == [uri]
        assert body["properties"]["tags"]["env"] == "adev"
        assert body["properties"]["tags"]["terraml-data"] == uri
        assert aml.mltables[asset] == {"type": "mltable", "paths": [{kind: uri}],
                                       "transformations": read_csv}
    (schedule,) = aml.bodies("PUT", f"/schedules/{MONITOR}")
    props = schedule["properties"]
    assert props["isEnabled"] is True  # a monitor disabled by hand is on again
    assert props["trigger"] == {"triggerType": "Cron", "expression": "0 6 * * *",
                                "timeZone": "UTC"}
    action = props["action"]
    assert action["actionType"] == "CreateMonitor"
    definition = action["monitorDefinition"]
    compute = definition["computeConfiguration"]
    assert (compute["computeType"], compute["instanceType"], compute["runtimeVersion"]) == \
        ("ServerlessSpark", "standard_e4s_v3", "3.4")
    alerts = definition["alertNotificationSetting"]
    assert alerts["alertNotificationType"] == "Email"
    assert alerts["emailNotificationSetting"]["emails"] == ["ml@example.com",
                                                            "oncall@example.com"]
    signals = definition["signals"]
    assert set(signals) == {"data_drift", "data_drift_2"}
    expected = {"data_drift": (["tenure", "contract"], 0.3),
                "data_drift_2": (["monthly_charges"], 0.2)}
    for name, (features, threshold) in expected.items():
        signal = signals[name]
        assert signal["signalType"] == "DataDrift"
        assert signal["mode"] == "Enabled"  # alerts on
        assert signal["features"] == {"filterType": "FeatureSubset", "features": features}
        assert sorted((t["dataType"], t["metric"].lower(), t["threshold"]["value"])
                      for t in signal["metricThresholds"]) == [
            ("Categorical", "jensenshannondistance", threshold),
            ("Numerical", "normalizedwassersteindistance", threshold)]
        production = signal["productionData"]
        assert production["uri"].endswith(f"/data/{MONITOR}-production/versions/{version}")
        assert production["jobInputType"] == "mltable"
        assert production["dataContext"] == "model_inputs"
        assert production["windowSize"] == "P1D"  # the daily schedule's period
        reference = signal["referenceData"]
        assert reference["uri"].endswith(f"/data/{MONITOR}-baseline/versions/{version}")
        assert reference["jobInputType"] == "mltable"
        assert reference["dataContext"] == "training"
    assert any("scheduling the monitor" in line for line in said)


def test_baseline_refuses_other_uris_in_one_line(aml):
    for bad in ("s3://bucket/train.csv", "gs://b/t.csv", "train.csv", ""):
        with pytest.raises(UserError) as caught:
            runtime().start_drift_baseline(bad, lambda _: None)
        message = str(caught.value)
        assert "\n" not in message and message.startswith("--data: expected") and \
            repr(bad) in message
    assert not [p for m, p, _ in aml.sent if m == "PUT"]


def test_drift_baseline_reads_back_the_asset_and_schedule(aml):
    rt = runtime()
    baseline = rt.start_drift_baseline(DATA, lambda _: None)
    again = rt.drift_baseline(baseline.job)
    assert again.state == "succeeded" and again.uri == DATA
    assert f"monitor {MONITOR} is enabled" in again.detail
    with pytest.raises(UserError, match="--job: expected the baseline as azureml:"):
        rt.drift_baseline("not-a-baseline")


def test_run_now_triggers_the_schedule(aml):
    rt = runtime()
    with pytest.raises(UserError, match="run `terraml monitor baseline --data ...` first"):
        rt.start_drift_run()
    rt.start_drift_baseline(DATA, lambda _: None)
    run = rt.start_drift_run()
    assert (run.run_id, run.state) == ("drift-run-now", "pending")
    (trigger,) = [b for m, p, b in aml.sent if m == "POST" and
                  p == f"{WS}/schedules/{MONITOR}/trigger"]
    assert "scheduleTime" in trigger


def job(aml: FakeMonitoring, name: str, created: str, status: str, **tags: str) -> None:
    aml.put(f"{WS}/jobs/{name}", {"properties": {
        "jobType": "Pipeline", "status": status, "experimentName": MONITOR, "jobs": {},
        "settings": {}, "tags": tags}, "systemData": {"createdAt": created}})


def epoch(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_runs_list_newest_first_with_scores_per_feature(aml):
    job(aml, "mon-1", "2026-11-01T06:00:00Z", "Completed")
    job(aml, "mon-2", "2026-11-02T06:00:00Z", "Failed",
        azureml_modelmonitor_threshold_breached="has failed due to one or more features "
                                                "violating metric thresholds")
    aml.experiment = {"experiment_id": "e1", "name": MONITOR}
    day1, day2 = epoch("2026-11-01T06:00:00Z"), epoch("2026-11-02T06:00:00Z")
    aml.metric_run("r-tenure", "tenure", "normalized_wasserstein_distance", "data_drift",
                   [(day1, 0.05), (day2, 0.1)])
    aml.metric_run("r-contract", "contract", "jensen_shannon_distance", "data_drift",
                   [(day1, 0.12), (day2, 0.45)])
    aml.metric_run("r-charges", "monthly_charges", "normalized_wasserstein_distance",
                   "data_drift_2", [(day1, 0.15), (day2, 0.25)])
    aml.metric_run("r-other", "tenure", "normalized_wasserstein_distance", "someone_else",
                   [(day2, 0.99)])  # another signal: ignored
    runs = runtime().drift_runs(limit=5)
    assert [r.run_id for r in runs] == ["mon-2", "mon-1"]
    newest, oldest = runs
    assert newest.state == "succeeded" and "violating metric thresholds" in newest.detail
    scores = {f.feature: (f.score, f.threshold, f.drifted) for f in newest.features}
    assert scores == {"tenure": (0.1, 0.3, False), "monthly_charges": (0.25, 0.2, True),
                      "contract": (0.45, 0.3, True)}
    assert [v.feature for v in newest.violations] == ["monthly_charges", "contract"]
    assert oldest.state == "succeeded" and oldest.violations == []
    assert {f.feature: f.score for f in oldest.features} == {
        "tenure": 0.05, "monthly_charges": 0.15, "contract": 0.12}
    listed = [u for u in aml.urls if re.search(r"/jobs\?", u)]
    assert listed and all("scheduled=true" in u and f"scheduleId={MONITOR}" in u
                          for u in listed)
    (search,) = aml.bodies("POST", "/runs/search")
    assert search["experiment_ids"] == ["e1"]
    assert search["filter"] == f"tags.azureml.monitor_name = '{MONITOR}'"
    assert [r.run_id for r in runtime().drift_runs(limit=1)] == ["mon-2"]


def test_runs_before_any_metrics_have_no_scores(aml):
    job(aml, "mon-1", "2026-11-01T06:00:00Z", "Running")
    (run,) = runtime().drift_runs()
    assert (run.state, run.features) == ("running", [])


def test_without_drift_section_the_calls_refuse_in_one_line(tmp_path, monkeypatch):
    plain = ENV[:ENV.index("monitoring:")]
    with fake_monitoring(tmp_path, monkeypatch, env=plain), pytest.raises(UserError) as caught:
        runtime().drift_runs()
    assert "adev.yaml" in str(caught.value) and "monitoring.drift" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_endpoint_target_monitors_the_live_deployment(tmp_path, monkeypatch):
    env = ENV.replace("target: raw/inference-requests/", "target: endpoint")
    outputs = {**DRIFT_OUTPUTS, "drift_target": "azureml:terraml-adev-endpoint"}
    endpoint = f"{WS}/onlineEndpoints/terraml-adev-endpoint"
    with fake_monitoring(tmp_path, monkeypatch, env=env) as aml:
        aml.put(endpoint, {"location": "eastus", "identity": {"type": "SystemAssigned"},
                           "properties": {"authMode": "Key", "traffic": {}}})
        with pytest.raises(UserError, match="serves no deployment yet"):
            runtime(outputs).start_drift_baseline(DATA, lambda _: None)
        aml.put(endpoint, {"location": "eastus", "identity": {"type": "SystemAssigned"},
                           "properties": {"authMode": "Key", "traffic": {"blue": 10,
                                                                         "green": 90}}})
        collected = f"{WS}/data/terraml-adev-endpoint-green-model_inputs"
        aml.put(f"{collected}/versions/1", {"properties": {
            "dataType": "uri_folder", "dataUri": "azureml://datastores/ws/paths/mdc/"}})
        aml.put(f"{endpoint}/deployments/green", {
            "location": "eastus", "sku": {"name": "Default", "capacity": 1},
            "properties": {"endpointComputeType": "Managed", "instanceType": "Standard_D4s_v3",
                           "provisioningState": "Succeeded", "model": "azureml:m:1",
                           "scaleSettings": {"scaleType": "Default"},
                           "dataCollector": {"collections": {
                               "model_inputs": {"dataCollectionMode": "Enabled",
                                                "dataId": f"{collected}/versions/1"},
                               "model_outputs": {"dataCollectionMode": "Enabled",
                                                 "dataId": f"{collected}/versions/1"}}}}})
        runtime(outputs).start_drift_baseline(DATA, lambda _: None)
        (schedule,) = aml.bodies("PUT", f"/schedules/{MONITOR}")
    definition = schedule["properties"]["action"]["monitorDefinition"]
    assert definition["monitoringTarget"]["deploymentId"].endswith(
        "/onlineEndpoints/terraml-adev-endpoint/deployments/green")
    production = definition["signals"]["data_drift"]["productionData"]
    assert production["uri"].endswith("/data/terraml-adev-endpoint-green-model_inputs/"
                                      "versions/1")
    assert production["dataContext"] == "model_inputs"
    assert production["jobInputType"] == "uri_folder"  # the deployment's collected inputs
    assert not [p for m, p, _ in aml.sent if m == "PUT" and "-production/" in p]
    reference = definition["signals"]["data_drift"]["referenceData"]
    assert reference["jobInputType"] == "mltable"



def test_each_threshold_gets_a_signal_by_position_and_each_feature_one_signal():
    """Thresholds that round alike (0.2001, 0.2004) get signals of their own, and every
    feature is judged at its own threshold only."""
    from adapters.azure.drift_runtime import signal_groups
    from core.drift import Drift

    spec = Drift(baseline="artifacts/b/", features=["a", "b", "c", "d"], threshold=0.3,
                 feature_thresholds={"a": 0.2001, "b": 0.2004, "d": 0.2001})
    assert signal_groups(spec) == {"data_drift": (0.2001, ["a", "d"]),
                                   "data_drift_2": (0.2004, ["b"]),
                                   "data_drift_3": (0.3, ["c"])}
    loose = Drift(baseline="artifacts/b/", features=["a", "b"], threshold=0.1,
                  feature_thresholds={"b": 0.5})
    assert signal_groups(loose) == {"data_drift": (0.1, ["a"]), "data_drift_2": (0.5, ["b"])}
