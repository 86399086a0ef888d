"""Continuous training on Azure: the tracking and pipeline layers at synth level (resources,
outputs, checkov), the steps' shell lines run for real (the metric gate, the register step
with a stand-in `az`), and the runtime through the CLI against the in-memory ARM of
tests/test_runtime_azure.py plus Azure ML's discovery and run-history endpoints (`responses`),
asserting the request bodies: schedule, pipeline job and its components, model versions."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import responses

from adapters import get_adapter
from stacks.app import load_environment
from stacks.workloads import pipeline_step_workloads
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import one, resources, synth

pytest.importorskip("azure.ai.ml")

from adapters.azure import pipeline_steps as steps
from adapters.runtime import APPROVAL_KEY
from core.pipeline import EvaluateStep
from tests.test_runtime_azure import SUB, WS, FakeArm, FakeCredential, terraml

ZERO_SUB = "00000000-0000-0000-0000-000000000000"
PIPELINE = """tracking: {enabled: true}
pipeline:
  schedule: "0 3 * * MON"
  steps:
    prepare: {image: acr.azurecr.io/train:1.0, command: python -m churn.prepare}
    train: {image: acr.azurecr.io/train:1.0, command: python -m churn.train --epochs 5}
    evaluate:
      image: acr.azurecr.io/eval:1.0
      command: python -m churn.evaluate
      metric: auc
      min: 0.8
"""
SYNTH_ENV = f"""name: pipe
tier: dev
cloud: azure
region: eastus
subscription_id: {ZERO_SUB}
training: {{accelerator: T4, spot: true}}
monitoring: {{emails: [ml@example.com]}}
"""


# -- synth ------------------------------------------------------------------------------


def synth_text(write_env, text: str, name: str = "pipe.yaml") -> dict:
    return synth(load_environment(write_env(text, name)))


@pytest.fixture(scope="module")
def az_pipe(tmp_path_factory) -> dict:
    """Dev, tracking on, a weekly pipeline whose train step asks for A100 (not the training
    cluster's T4)."""
    path = tmp_path_factory.mktemp("az-pipe") / "pipe.yaml"
    path.write_text(SYNTH_ENV + PIPELINE.replace(
        "command: python -m churn.train --epochs 5}",
        "command: python -m churn.train --epochs 5, accelerator: A100}"))
    return synth(load_environment(path))


def ref(doc: dict, rtype: str, attribute: str) -> str:
    (name,) = doc["resource"][rtype]
    return f"${{{rtype}.{name}.{attribute}}}"


def test_pipeline_identity_has_least_privilege_roles(az_pipe):
    identity = one(az_pipe, "azurerm_user_assigned_identity")
    assert identity["name"] == "id-terraml-pipe-pipeline"
    assert identity["tags"]["env"] == "pipe"
    principal = ref(az_pipe, "azurerm_user_assigned_identity", "principal_id")
    grants = {a.get("role_definition_name", "registrar"): a
              for a in resources(az_pipe, "azurerm_role_assignment")}
    assert set(grants) == {"Storage Blob Data Contributor", "AcrPull", "registrar"}
    assert all(a["principal_id"] == principal and a["principal_type"] == "ServicePrincipal"
               for a in grants.values())
    assert grants["Storage Blob Data Contributor"]["scope"] == ref(
        az_pipe, "azurerm_storage_account", "id")
    assert grants["AcrPull"]["scope"] == ref(az_pipe, "azurerm_container_registry", "id")
    workspace = ref(az_pipe, "azurerm_machine_learning_workspace", "id")
    role = one(az_pipe, "azurerm_role_definition")
    assert role["scope"] == workspace and role["assignable_scopes"] == [workspace]
    assert role["permissions"][0]["actions"] == [
        "Microsoft.MachineLearningServices/workspaces/read",
        "Microsoft.MachineLearningServices/workspaces/models/read",
        "Microsoft.MachineLearningServices/workspaces/models/write",
        "Microsoft.MachineLearningServices/workspaces/models/versions/read",
        "Microsoft.MachineLearningServices/workspaces/models/versions/write"]
    assert grants["registrar"]["scope"] == workspace
    assert grants["registrar"]["role_definition_id"] == ref(
        az_pipe, "azurerm_role_definition", "role_definition_resource_id")


def clusters_by_name(doc: dict) -> dict[str, dict]:
    return {c["name"]: c for c in resources(doc, "azurerm_machine_learning_compute_cluster")}


def step_computes(doc: dict) -> dict[str, dict]:
    """`pipeline_step_computes` with each cluster reference resolved to the cluster's body."""
    by_ref = {f"${{azurerm_machine_learning_compute_cluster.{n}.name}}": c for n, c in
              doc["resource"]["azurerm_machine_learning_compute_cluster"].items()}
    return {step: by_ref[value]
            for step, value in doc["output"]["pipeline_step_computes"]["value"].items()}


def test_steps_clusters_carry_the_identity_and_train_gets_its_own_size(az_pipe):
    identity = ref(az_pipe, "azurerm_user_assigned_identity", "id")
    clusters = clusters_by_name(az_pipe)
    # compute layer, training layer, the train step's A100, prepare + evaluate (both medium)
    assert set(clusters) == {"cpu-pipe", "gpu-pipe", "ptrain-pipe", "pcpu-m-pipe"}
    for name in ("ptrain-pipe", "pcpu-m-pipe"):  # the clusters the pipeline's steps run on
        assert clusters[name]["identity"] == {"type": "SystemAssigned, UserAssigned",
                                              "identity_ids": [identity]}
    for name in ("cpu-pipe", "gpu-pipe"):  # no step runs there: no pipeline identity
        assert clusters[name]["identity"] == {"type": "SystemAssigned"}
    ptrain = clusters["ptrain-pipe"]
    assert ptrain["vm_size"] == "Standard_NC24ads_A100_v4"  # the train step's A100
    assert ptrain["vm_priority"] == "LowPriority"  # training.spot
    assert ptrain["scale_settings"]["min_node_count"] == 0
    assert ptrain["scale_settings"]["max_node_count"] == 1  # pipeline.max_parallel_runs
    assert clusters["gpu-pipe"]["vm_size"] == "Standard_NC4as_T4_v3"


def test_cpu_steps_run_on_dedicated_clusters_of_their_own_size(az_pipe):
    """prepare and evaluate (size medium by default) share one on-demand Standard_D4s_v3
    cluster in the VNet, scaling from zero; the compute layer's cluster is not used."""
    pcpu = clusters_by_name(az_pipe)["pcpu-m-pipe"]
    assert pcpu["vm_size"] == "Standard_D4s_v3"
    assert pcpu["vm_priority"] == "Dedicated"
    assert pcpu["scale_settings"] == {"min_node_count": 0, "max_node_count": 1,
                                      "scale_down_nodes_after_idle_duration": "PT10M"}
    assert pcpu["subnet_resource_id"] == ref(az_pipe, "azurerm_subnet", "id")
    assert pcpu["node_public_ip_enabled"] is False and pcpu["local_auth_enabled"] is False
    assert pcpu["ssh_public_access_enabled"] is False
    assert pcpu["tags"]["env"] == "pipe"
    assert {step: c["name"] for step, c in step_computes(az_pipe).items()} == {
        "prepare": "pcpu-m-pipe", "evaluate": "pcpu-m-pipe", "register": "pcpu-m-pipe"}


def test_each_cpu_size_gets_one_cluster_and_the_estimate_prices_what_runs(write_env):
    """prepare large, evaluate small, compute on spot (low-priority) with another size: one
    dedicated cluster per size, and every CPU step record the cost engine prices (what the
    stack writes to `//.terraml.workloads`) names the VM size and priority of the cluster the
    step runs on."""
    text = (SYNTH_ENV + "compute: {size: xlarge, spot: true}\n"
            + PIPELINE.replace("command: python -m churn.prepare}",
                               "command: python -m churn.prepare, size: large}")
            .replace("      metric: auc\n", "      size: small\n      metric: auc\n")
            .replace("  steps:\n", "  max_parallel_runs: 3\n  steps:\n"))
    env = load_environment(write_env(text, "sizes.yaml"))
    doc = synth(env)
    clusters = clusters_by_name(doc)
    assert set(clusters) == {"cpu-pipe", "gpu-pipe", "pcpu-l-pipe", "pcpu-s-pipe"}
    assert (clusters["cpu-pipe"]["vm_size"], clusters["cpu-pipe"]["vm_priority"]) == \
        ("Standard_D16s_v3", "LowPriority")  # compute.size / compute.spot: not the steps'
    identity = ref(doc, "azurerm_user_assigned_identity", "id")
    for name, size in (("pcpu-l-pipe", "Standard_D8s_v3"), ("pcpu-s-pipe", "Standard_D2s_v3")):
        cluster = clusters[name]
        assert (cluster["vm_size"], cluster["vm_priority"]) == (size, "Dedicated")
        assert cluster["scale_settings"]["min_node_count"] == 0
        assert cluster["scale_settings"]["max_node_count"] == 3  # pipeline.max_parallel_runs
        assert cluster["identity"]["identity_ids"] == [identity]
    computes = step_computes(doc)
    assert {step: c["name"] for step, c in computes.items()} == {
        "prepare": "pcpu-l-pipe", "evaluate": "pcpu-s-pipe", "register": "pcpu-s-pipe"}
    records = {w["step"]: w for w in pipeline_step_workloads(env, get_adapter("azure"))}
    assert sorted(records) == ["evaluate", "prepare", "train"]
    for step in ("prepare", "evaluate"):
        record, cluster = records[step], computes[step]
        assert record["instance_type"] == cluster["vm_size"], step
        assert record["spot"] is (cluster["vm_priority"] == "LowPriority") is False, step


def test_a_train_only_pipeline_registers_on_the_train_cluster(write_env):
    text = SYNTH_ENV + PIPELINE.split("  steps:")[0] + (
        "  steps:\n    train: {image: acr.azurecr.io/train:1.0, command: python train.py}\n")
    doc = synth_text(write_env, text)
    assert set(clusters_by_name(doc)) == {"cpu-pipe", "gpu-pipe"}
    assert {step: c["name"] for step, c in step_computes(doc).items()} == \
        {"register": "gpu-pipe"}
    out = {name: value["value"] for name, value in doc["output"].items()}
    assert out["pipeline_train_compute"] == out["pipeline_step_computes"]["register"]
    assert clusters_by_name(doc)["gpu-pipe"]["identity"]["type"] == \
        "SystemAssigned, UserAssigned"


def test_failed_runs_alert_goes_to_the_action_group(az_pipe):
    (alert,) = [a for a in resources(az_pipe, "azurerm_monitor_metric_alert")
                if a["name"] == "terraml-pipe-pipeline-failed"]
    (criteria,) = alert["criteria"]
    assert criteria["metric_namespace"] == "Microsoft.MachineLearningServices/workspaces"
    assert criteria["metric_name"] == "Failed Runs"
    assert (criteria["aggregation"], criteria["operator"], criteria["threshold"]) == \
        ("Total", "GreaterThan", 0)
    assert criteria["dimension"] == [{"name": "ExperimentName", "operator": "Include",
                                      "values": ["pipe"]}]
    assert alert["scopes"] == [ref(az_pipe, "azurerm_machine_learning_workspace", "id")]
    assert alert["action"] == [{"action_group_id": ref(az_pipe, "azurerm_monitor_action_group",
                                                       "id")}]


def test_pipeline_and_tracking_outputs(az_pipe):
    out = {name: value["value"] for name, value in az_pipe["output"].items()}
    workspace = ref(az_pipe, "azurerm_machine_learning_workspace", "id")
    assert out["tracking_uri"] == f"azureml://eastus.api.azureml.ms/mlflow/v1.0{workspace}"
    assert out["tracking_experiment"] == "pipe"
    clusters = {c["name"]: n for n, c in az_pipe["resource"][
        "azurerm_machine_learning_compute_cluster"].items()}
    cluster = "${azurerm_machine_learning_compute_cluster.%s.name}"
    assert out["pipeline_name"] == "terraml-pipe-training"
    assert out["pipeline_role"] == ref(az_pipe, "azurerm_user_assigned_identity", "id")
    assert out["pipeline_identity_client_id"] == ref(az_pipe, "azurerm_user_assigned_identity",
                                                     "client_id")
    pcpu = cluster % clusters["pcpu-m-pipe"]
    assert out["pipeline_step_computes"] == {"prepare": pcpu, "evaluate": pcpu,
                                             "register": pcpu}
    assert out["pipeline_train_compute"] == cluster % clusters["ptrain-pipe"]
    assert "pipeline_compute" not in out  # superseded by pipeline_step_computes
    assert out["pipeline_model"] == "terraml-pipe-model"
    assert (out["pipeline_schedule"], out["pipeline_trigger"]) == ("0 3 * * MON", "none")
    assert (out["pipeline_approval"], out["pipeline_metric"]) == ("auto", "auc")


def test_tracking_alone_creates_nothing(write_env):
    plain = synth_text(write_env, SYNTH_ENV)
    tracked = synth_text(write_env, SYNTH_ENV + "tracking: {enabled: true, experiment: churn}\n",
                         "tracked.yaml")
    assert {t: len(r) for t, r in plain["resource"].items()} == \
        {t: len(r) for t, r in tracked["resource"].items()}
    assert tracked["output"]["tracking_experiment"]["value"] == "churn"
    assert "pipeline_name" not in tracked["output"]


def test_without_compute_the_steps_keep_their_clusters(write_env):
    text = (SYNTH_ENV.replace("tier: dev", "tier: staging") + "compute: {enabled: false}\n"
            + PIPELINE.replace('"0 3 * * MON"', '"cron(0 3 ? * MON *)"')
            .replace("tracking: {enabled: true}", "tracking: {enabled: true, experiment: churn}"))
    doc = synth_text(write_env, text)
    clusters = clusters_by_name(doc)
    assert set(clusters) == {"gpu-pipe", "pcpu-m-pipe"}
    assert clusters["pcpu-m-pipe"]["vm_priority"] == "Dedicated"
    identity = ref(doc, "azurerm_user_assigned_identity", "id")
    assert all(c["identity"]["identity_ids"] == [identity] for c in clusters.values())
    assert {step: c["name"] for step, c in step_computes(doc).items()} == {
        "prepare": "pcpu-m-pipe", "evaluate": "pcpu-m-pipe", "register": "pcpu-m-pipe"}
    out = {name: value["value"] for name, value in doc["output"].items()}
    assert out["pipeline_train_compute"] == out["training_compute"]
    assert out["pipeline_schedule"] == "0 3 * * MON"  # AWS form, neutral cron out
    assert out["pipeline_approval"] == "manual"  # outside dev
    (alert,) = [a for a in resources(doc, "azurerm_monitor_metric_alert")
                if a["name"].endswith("pipeline-failed")]
    assert alert["criteria"][0]["dimension"][0]["values"] == ["churn"]


def test_on_new_data_is_refused_in_one_line(tmp_path: Path):
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "pipe.yaml").write_text(SYNTH_ENV + PIPELINE.replace(
        '  schedule: "0 3 * * MON"\n', "  on_new_data: raw/incoming/\n"))
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        (f"error: {envs / 'pipe.yaml'}:10: pipeline.on_new_data: a new-data trigger is not "
         "available on azure (Azure ML schedules are time-based); use schedule")]
    assert not (tmp_path / "out").exists()


def test_example_synthesizes_and_passes_checkov(tmp_path: Path):
    checkov = ROOT / ".venv-checkov/bin/checkov"
    envs = tmp_path / "envs"
    envs.mkdir()
    shutil.copy(ROOT / "examples/azure-pipeline.yaml", envs)
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out/stacks/ml-azure-pipeline/cdk.tf.json").read_text())
    assert doc["output"]["pipeline_schedule"]["value"] == "0 3 * * MON"
    computes = step_computes(doc)
    assert {step: (c["name"], c["vm_size"], c["vm_priority"]) for step, c in computes.items()} \
        == {"prepare": ("pcpu-m-azure-pip", "Standard_D4s_v3", "Dedicated"),
            "evaluate": ("pcpu-s-azure-pip", "Standard_D2s_v3", "Dedicated"),
            "register": ("pcpu-s-azure-pip", "Standard_D2s_v3", "Dedicated")}
    if not checkov.exists():
        pytest.skip("checkov not installed (make test installs it into .venv-checkov)")
    gate = subprocess.run([sys.executable, str(ROOT / "tests/checkov_gate.py"), str(checkov),
                           str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert gate.returncode == 0, gate.stdout + gate.stderr


# -- the steps' shell lines, run for real --------------------------------------------------


def fill(line: str, paths: dict[str, Path | str]) -> str:
    """An Azure ML command with its `${{inputs.x}}` / `${{outputs.y}}` filled in."""
    return re.sub(r"\$\{\{(inputs|outputs)\.(\w+)\}\}", lambda m: str(paths[m.group(2)]), line)


def evaluate_step(write: str, **gate) -> EvaluateStep:
    program = f"import json,os;json.dump({write},open(os.environ['TERRAML_METRICS_FILE'],'w'))"
    return EvaluateStep(image="i", command=f"python3 -c \"{program}\"", **gate)


@pytest.mark.parametrize(("report", "gate", "passes", "says"), [
    ("{'auc': 0.91}", {"metric": "auc", "min": 0.8}, True, "auc: passed"),
    ("{'auc': 0.71}", {"metric": "auc", "min": 0.8}, False, "auc=0.71 is outside [0.8, None]"),
    ("{'loss': 0.3}", {"metric": "loss", "max": 0.2}, False, "loss=0.3 is outside [None, 0.2]"),
    ("{'acc': 0.9}", {"metric": "auc", "min": 0.8}, False, "has no number 'auc'"),
    ("{'auc': 'high'}", {"metric": "auc", "min": 0.8}, False, "has no number 'auc'"),
])
def test_the_evaluate_command_runs_the_gate(tmp_path, report, gate, passes, says):
    line = steps.evaluate_command(evaluate_step(report, **gate))
    assert line.startswith('export TERRAML_INPUT="${{inputs.input}}" TERRAML_MODEL_DIR='
                           '"${{inputs.model}}" TERRAML_METRICS_FILE="${{outputs.metrics}}/'
                           'evaluation.json" && python3 -c ')
    ran = subprocess.run(["sh", "-c", fill(line, {"input": tmp_path, "model": tmp_path,
                                                  "metrics": tmp_path})],
                         capture_output=True, text=True, check=False)
    assert (ran.returncode == 0) is passes
    assert f"terraml gate: {gate['metric']}:" in ran.stderr and says in ran.stderr
    if not passes:
        assert "not registered" in ran.stderr


def test_the_register_step_puts_a_model_version_with_tags(tmp_path):
    """The register line with a stand-in `az` that records its arguments and the body."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text('#!/bin/sh\necho "$@" >> "$AZ_LOG"\ncase "$*" in *"rest "*)'
                                ' cp /tmp/terraml-model-version.json "$AZ_BODY";; esac\n')
    (bin_dir / "az").chmod(0o755)
    (tmp_path / "evaluation.json").write_text('{"auc": 0.91, "rows": 1200, "ok": true, '
                                              '"note": "x"}')
    identity = "11111111-2222-3333-4444-555555555555"  # the identity's client id
    line = steps.register_command(WS, "terraml-adev-model", "pending", "terraml-adev-training",
                                  identity, metrics=True)
    model_uri = "azureml://subscriptions/s/datastores/workspaceblobstore/paths/azureml/j1/model/"
    ran = subprocess.run(
        ["sh", "-c", fill(line, {"model": model_uri, "metrics": tmp_path})],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
             "AZ_LOG": str(tmp_path / "az.log"), "AZ_BODY": str(tmp_path / "body.json"),
             "AZUREML_RUN_ID": "register_run_1"})
    assert ran.returncode == 0, ran.stderr
    login, rest = (tmp_path / "az.log").read_text().splitlines()
    assert login == f"login --identity --client-id {identity} --output none"
    url = re.fullmatch(r"rest --method put --url (\S+) --body @/tmp/terraml-model-version.json "
                       r"--output none", rest).group(1)
    assert re.fullmatch(rf"https://management\.azure\.com{re.escape(WS)}/models/terraml-adev-"
                        r"model/versions/\d{14}\?api-version=2024-04-01", url)
    body = json.loads((tmp_path / "body.json").read_text())["properties"]
    assert body["modelUri"] == model_uri and body["modelType"] == "custom_model"
    assert body["stage"] == "Development"
    assert body["tags"] == {"auc": "0.91", "rows": "1200", APPROVAL_KEY: "pending",
                            "terraml-pipeline": "terraml-adev-training",
                            "terraml-run": "register_run_1"}


# -- runtime through the CLI -----------------------------------------------------------------

UAI = (f"/subscriptions/{SUB}/resourceGroups/rg-terraml-adev/providers/"
       "Microsoft.ManagedIdentity/userAssignedIdentities/id-terraml-adev-pipeline")
CLIENT_ID = "0a0b0c0d-0000-4000-8000-00000000c11d"
OUTPUTS = {"environment": "adev", "cloud": "azure", "region": "eastus",
           "resource_group": "rg-terraml-adev", "workspace": "mlw-terraml-adev",
           "storage_account": "stterramladev1", "bucket_raw": "stterramladev1/raw",
           "training_compute": "gpu-adev", "training_instance_type": "Standard_NC4as_T4_v3",
           "training_spot": True, "training_max_runtime_seconds": 43200,
           "endpoint_name": "terraml-adev-endpoint", "serving_mode": "realtime",
           "serving_instance_type": "Standard_D4s_v3", "serving_min_replicas": 1,
           "serving_max_replicas": 2,
           "tracking_uri": f"azureml://eastus.api.azureml.ms/mlflow/v1.0{WS}",
           "tracking_experiment": "adev", "pipeline_name": "terraml-adev-training",
           "pipeline_role": UAI, "pipeline_identity_client_id": CLIENT_ID,
           "pipeline_step_computes": {"prepare": "pcpu-m-adev", "evaluate": "pcpu-s-adev",
                                      "register": "pcpu-s-adev"},
           "pipeline_train_compute": "gpu-adev", "pipeline_model": "terraml-adev-model",
           "pipeline_schedule": "0 3 * * MON", "pipeline_trigger": "none",
           "pipeline_approval": "manual", "pipeline_metric": "auc"}
ENV = f"""name: adev
cloud: azure
region: eastus
tier: staging
subscription_id: {SUB}
training: {{accelerator: T4, spot: true, max_runtime_hours: 12}}
serving: {{mode: realtime, size: medium, min_instances: 1, max_instances: 2}}
""" + PIPELINE
API = "https://eastus.api.azureml.ms"
MODEL = f"{WS}/models/terraml-adev-model/versions"


class FakeAzureMl(FakeArm):
    """ARM (FakeArm) plus Azure ML's discovery document and run history (child jobs)."""

    def __init__(self) -> None:
        super().__init__()
        self.children: dict[str, list[dict]] = {}
        self.urls: list[str] = []

    def __call__(self, request):
        self.urls.append(request.url)
        if request.url.startswith(API):
            path = request.url.split("?")[0][len(API):]
            if path == "/discovery":
                return 200, {}, json.dumps({"api": API, "history": API})
            run = re.fullmatch(r"/history/v1\.0/.*/runs/([^/]+)/children", path)
            if run:
                return 200, {}, json.dumps({"value": self.children.get(run.group(1), [])})
            return 404, {}, json.dumps({"error": {"code": "NotFound", "message": path}})
        return super().__call__(request)

    def version(self, version: str, approval: str, created: str, **tags: str) -> None:
        self.put(f"{MODEL}/{version}", {
            "properties": {"modelUri": f"azureml://jobs/r{version}/outputs/artifacts/model",
                           "modelType": "custom_model", "stage": "Development", "flavors": {},
                           "tags": {APPROVAL_KEY: approval, **tags}},
            "systemData": {"createdAt": created}})


@contextmanager
def fake_azure_ml(tmp_path: Path, monkeypatch, env: str = ENV) -> Iterator[FakeAzureMl]:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments/adev.yaml").write_text(env)
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("adapters.azure.runtime.credential", FakeCredential)
    monkeypatch.setattr("adapters.retry.BASE_SECONDS", 0.01)
    fake = FakeAzureMl()
    fake.put(WS, {"location": "eastus", "identity": {"type": "SystemAssigned"},
                  "properties": {"discoveryUrl": f"{API}/discovery"}})
    fake.put(f"{WS}/onlineEndpoints/terraml-adev-endpoint", {
        "location": "eastus", "identity": {"type": "SystemAssigned"},
        "properties": {"authMode": "Key", "traffic": {}, "provisioningState": "Succeeded"}})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "PUT", "POST", "DELETE", "PATCH"):
            mock.add_callback(method, re.compile(r"https://(management\.azure\.com|eastus\.api"
                                                 r"\.azureml\.ms)/.*"), callback=fake)
        yield fake


@pytest.fixture
def aml(tmp_path: Path, monkeypatch):
    with fake_azure_ml(tmp_path, monkeypatch) as fake:
        yield fake


def component(arm: FakeArm, node: dict) -> dict:
    (body,) = arm.bodies("PUT", node["componentId"])
    return body["properties"]["componentSpec"]


def test_pipeline_deploy_puts_the_weekly_schedule_with_the_whole_pipeline(aml, capsys):
    code, out, err = terraml(capsys, "pipeline", "deploy", "--env", "adev")
    assert code == 0, err
    assert "prepare -> train -> evaluate (gate auc >= 0.8) -> register" in out
    assert "schedule '0 3 * * MON' UTC" in out and "pending approval" in out
    (schedule,) = aml.bodies("PUT", "/schedules/terraml-adev-training")
    props = schedule["properties"]
    assert props["trigger"] == {"triggerType": "Cron", "expression": "0 3 * * MON",
                                "timeZone": "UTC"}
    assert props["action"]["actionType"] == "CreateJob"
    job = props["action"]["jobDefinition"]
    assert job["jobType"] == "Pipeline" and job["experimentName"] == "adev"
    assert job["tags"]["terraml-pipeline"] == "terraml-adev-training"
    assert job["settings"]["continue_on_step_failure"] is False
    assert job["settings"]["force_rerun"] is True
    nodes = job["jobs"]
    assert list(nodes) == ["prepare", "train", "evaluate", "register"]
    computes = {name: node["computeId"].rsplit("/", 1)[1] for name, node in nodes.items()}
    assert computes == {"prepare": "pcpu-m-adev", "train": "gpu-adev",
                        "evaluate": "pcpu-s-adev", "register": "pcpu-s-adev"}
    assert all(node["identity"] == {"client_id": CLIENT_ID, "identity_type": "Managed"}
               for node in nodes.values())
    assert nodes["prepare"]["inputs"]["input"]["uri"] == \
        "abfss://raw@stterramladev1.dfs.core.windows.net/"
    assert nodes["train"]["inputs"]["input"]["value"] == "${{parent.jobs.prepare.outputs.output}}"
    assert nodes["train"]["limits"]["timeout"] == "PT12H"
    assert nodes["evaluate"]["inputs"]["model"]["value"] == \
        "${{parent.jobs.train.outputs.model}}"
    assert nodes["register"]["inputs"]["model"]["mode"] == "Direct"
    assert nodes["register"]["inputs"]["metrics"]["value"] == \
        "${{parent.jobs.evaluate.outputs.metrics}}"
    for name in ("prepare", "train", "evaluate"):
        assert nodes[name]["environment_variables"] == {"MLFLOW_EXPERIMENT_NAME": "adev"}
    specs = {name: component(aml, node) for name, node in nodes.items()}
    assert specs["prepare"]["command"] == ('export TERRAML_INPUT="${{inputs.input}}" '
                                           'TERRAML_OUTPUT="${{outputs.output}}" && '
                                           "python -m churn.prepare")
    assert specs["train"]["command"].endswith(
        'TERRAML_MODEL_DIR="${{outputs.model}}" && python -m churn.train --epochs 5')
    assert specs["train"]["outputs"] == {"model": {"type": "custom_model"}}
    assert " && python -m churn.evaluate && python3 -c " in specs["evaluate"]["command"]
    assert "terraml gate" in specs["evaluate"]["command"]
    assert f"az login --identity --client-id {CLIENT_ID}" in specs["register"]["command"]
    assert "az rest --method put" in specs["register"]["command"]
    assert "terraml-adev-model/versions/" in specs["register"]["command"]
    assert all(spec["is_deterministic"] is False for spec in specs.values())
    images = {b["properties"]["image"] for b in aml.bodies("PUT", "/environments/")}
    assert images == {"acr.azurecr.io/train:1.0", "acr.azurecr.io/eval:1.0",
                      steps.REGISTER_IMAGE}


def test_a_train_only_pipeline_registers_approved_versions_in_dev(aml, capsys):
    Path("environments/adev.yaml").write_text(
        ENV.replace("tier: staging", "tier: dev").split("  steps:")[0]
        + "  steps:\n    train: {image: acr.azurecr.io/train:1.0, command: python train.py}\n")
    Path("outputs.json").write_text(json.dumps({
        **OUTPUTS, "pipeline_approval": "auto",
        "pipeline_step_computes": {"register": "gpu-adev"}}))  # no CPU step: no CPU cluster
    code, _, err = terraml(capsys, "pipeline", "run", "--env", "adev", "--no-wait")
    assert code == 0, err
    (job,) = aml.bodies("PUT", "/jobs/terraml-adev-training-")
    nodes = job["properties"]["jobs"]
    assert list(nodes) == ["train", "register"]
    assert {name: node["computeId"].rsplit("/", 1)[1] for name, node in nodes.items()} == \
        {"train": "gpu-adev", "register": "gpu-adev"}
    assert nodes["train"]["inputs"]["input"]["uri"] == \
        "abfss://raw@stterramladev1.dfs.core.windows.net/"
    assert set(nodes["register"]["inputs"]) == {"model"}
    register = component(aml, nodes["register"])["command"]
    assert "TERRAML_METRICS_FILE=" not in register  # no evaluate step, no metrics input
    assert "approved" in register and "Production" in register
    assert "pending" not in register and "Development" not in register


def test_without_a_schedule_deploy_removes_the_old_one(aml, capsys):
    Path("environments/adev.yaml").write_text(ENV.replace('  schedule: "0 3 * * MON"\n', ""))
    code, out, err = terraml(capsys, "pipeline", "deploy", "--env", "adev")
    assert code == 0, err
    assert "no schedule:" in out and "removed" not in out and not aml.bodies("PUT", "/schedules/")
    aml.put(f"{WS}/schedules/terraml-adev-training", {"properties": {
        "isEnabled": True, "trigger": {"triggerType": "Cron", "expression": "0 3 * * MON",
                                       "timeZone": "UTC"},
        "action": {"actionType": "CreateJob", "jobDefinition": {
            "jobType": "Pipeline", "jobs": {}, "settings": {}}}}})
    code, out, err = terraml(capsys, "pipeline", "deploy", "--env", "adev")
    assert code == 0, err
    assert "(the old one was removed)" in out
    (disabled,) = aml.bodies("PUT", "/schedules/terraml-adev-training")
    assert disabled["properties"]["isEnabled"] is False
    assert [p for m, p, _ in aml.sent if m == "DELETE"] == [
        f"{WS}/schedules/terraml-adev-training"]


def test_pipeline_run_submits_one_pipeline_job(aml, capsys):
    code, out, err = terraml(capsys, "pipeline", "run", "--env", "adev", "--no-wait")
    assert code == 0, err
    run_id = re.search(r"run: (\S+)", out).group(1)
    assert re.fullmatch(r"terraml-adev-training-\d{8}-\d{6}-[0-9a-f]{6}", run_id)
    (job,) = aml.bodies("PUT", f"/jobs/{run_id}")
    assert job["properties"]["jobType"] == "Pipeline"
    assert job["properties"]["experimentName"] == "adev"
    nodes = job["properties"]["jobs"]
    assert {name: node["computeId"].rsplit("/", 1)[1] for name, node in nodes.items()} == {
        "prepare": "pcpu-m-adev", "train": "gpu-adev", "evaluate": "pcpu-s-adev",
        "register": "pcpu-s-adev"}
    assert list(nodes) == ["prepare", "train", "evaluate", "register"]
    assert "status: pending - Queued" in out


@pytest.mark.parametrize(("computes", "says"), [
    (None, "stack output 'pipeline_step_computes' is missing: redeploy the stack"),
    ("cpu-adev", "stack output 'pipeline_step_computes' is not a map of step -> compute"),
    ({"prepare": "pcpu-m-adev", "register": "pcpu-m-adev"},
     "stack output 'pipeline_step_computes' has no compute cluster for the evaluate step"),
])
def test_the_steps_computes_must_come_from_the_stack(aml, capsys, computes, says):
    """A stack from before (only the old `pipeline_compute`), or one deployed before a step
    was added: one line, and nothing is submitted to the wrong cluster."""
    outputs = {**OUTPUTS, "pipeline_compute": "cpu-adev"}
    outputs.pop("pipeline_step_computes")
    if computes is not None:
        outputs["pipeline_step_computes"] = computes
    Path("outputs.json").write_text(json.dumps(outputs))
    code, _, err = terraml(capsys, "pipeline", "run", "--env", "adev", "--no-wait")
    assert code == 2 and says in err, err
    assert len(err.strip().splitlines()) == 1
    assert not aml.bodies("PUT", "/jobs/")


def test_pipeline_status_reads_runs_and_their_steps(aml, capsys):
    for name, created in (("run-old", "2026-11-01T03:00:00Z"), ("run-new", "2026-11-08T03:00:00Z")):
        aml.put(f"{WS}/jobs/{name}", {"properties": {
            "jobType": "Pipeline", "status": "Running", "experimentName": "adev",
            "displayName": "terraml-adev-training", "jobs": {}, "settings": {},
            "tags": {"terraml-pipeline": "terraml-adev-training"}},
            "systemData": {"createdAt": created}})
    aml.put(f"{WS}/jobs/someone-else", {"properties": {
        "jobType": "Pipeline", "status": "Completed", "experimentName": "adev", "jobs": {},
        "settings": {}, "tags": {"terraml-pipeline": "other-training"}}})
    aml.children["run-new"] = [
        {"runId": "c1", "displayName": "prepare", "status": "Completed",
         "createdUtc": "2026-11-08T03:01:00Z", "lastModifiedUtc": "2026-11-08T03:20:00Z"},
        {"runId": "c2", "displayName": "train", "status": "Running",
         "createdUtc": "2026-11-08T03:21:00Z", "lastModifiedUtc": "2026-11-08T03:22:00Z"}]
    from adapters.azure.runtime import AzureRuntime

    code, out, err = terraml(capsys, "pipeline", "status", "--env", "adev")
    assert code == 0, err
    assert out.index("run-new") < out.index("run-old") and "someone-else" not in out
    assert "status: running - Running" in out
    listed = [u for u in aml.urls if "/jobs?" in u]
    assert listed and all("jobType=Pipeline" in u and "tag=terraml-pipeline" in u
                          for u in listed)
    assert any(u.startswith(f"{API}/history/v1.0/") and u.split("?")[0].endswith(
        "/runs/run-new/children") for u in aml.urls)
    runtime = AzureRuntime(load_environment(Path("environments/adev.yaml")),
                           _outputs())
    run = runtime.pipeline_run("run-new")
    assert [(s.name, s.state, s.detail) for s in run.steps] == [
        ("prepare", "succeeded", "Completed"), ("train", "running", "Running")]
    assert run.steps[0].ended is not None and run.steps[1].ended is None
    code, _, err = terraml(capsys, "pipeline", "status", "--env", "adev", "--run",
                           "someone-else")
    assert code == 2 and "someone-else is not a run of the pipeline terraml-adev-training" in err


def _outputs():
    from core.outputs import StackOutputs

    return StackOutputs(OUTPUTS, "outputs.json")


def test_models_lists_versions_with_approval_and_metrics(aml):
    from adapters.azure.runtime import AzureRuntime

    aml.version("20261101030000", "approved", "2026-11-01T04:00:00Z", auc="0.88",
                **{"terraml-pipeline": "terraml-adev-training"})
    aml.version("20261108030000", "pending", "2026-11-08T04:00:00Z", auc="0.91", rows="1200")
    runtime = AzureRuntime(load_environment(Path("environments/adev.yaml")), _outputs())
    newest, oldest = runtime.model_versions()
    assert (newest.version, newest.approval, newest.metrics) == \
        ("20261108030000", "pending", {"auc": 0.91, "rows": 1200.0})
    assert newest.model_id == "azureml:terraml-adev-model:20261108030000"
    assert newest.model_uri == "azureml://jobs/r20261108030000/outputs/artifacts/model"
    assert (oldest.approval, oldest.metrics) == ("approved", {"auc": 0.88})
    assert [p for m, p, _ in aml.sent if m == "GET" and "/models/" in p] == [MODEL]


def test_approve_and_reject_put_tag_and_stage(aml, capsys):
    aml.version("20261108030000", "pending", "2026-11-08T04:00:00Z", auc="0.91")
    code, out, err = terraml(capsys, "approve", "--env", "adev", "--version", "20261108030000")
    assert code == 0, err
    assert "version 20261108030000: approved" in out
    (body,) = aml.bodies("PUT", f"{MODEL}/20261108030000")
    assert body["properties"]["stage"] == "Production"
    assert body["properties"]["tags"] == {APPROVAL_KEY: "approved", "auc": "0.91"}
    assert body["properties"]["modelUri"].endswith("/outputs/artifacts/model")
    code, out, err = terraml(capsys, "approve", "--env", "adev", "--version", "20261108030000",
                             "--reject", "--reason", "auc regressed on the holdout set")
    assert code == 0, err
    assert "rejected (auc regressed on the holdout set)" in out
    body = aml.bodies("PUT", f"{MODEL}/20261108030000")[-1]["properties"]
    assert body["stage"] == "Archived"
    assert body["tags"] == {APPROVAL_KEY: "rejected", "auc": "0.91",
                            "terraml-reason": "auc regressed on the holdout set"}
    code, _, err = terraml(capsys, "approve", "--env", "adev", "--version", "nope")
    assert code == 2 and "'nope' is not in the model registry" in err


def test_deploy_model_deploys_an_approved_version_without_registering(aml, capsys):
    aml.version("20261108030000", "pending", "2026-11-08T04:00:00Z")
    deploy = ("deploy-model", "--env", "adev", "--image", "acr.azurecr.io/serve:1.0",
              "--model-version", "20261108030000", "--version", "v9")
    code, out, err = terraml(capsys, *deploy)
    assert code == 1 and "blocked: guardrail model_approval" in out + err
    assert not aml.bodies("PUT", "/deployments/")
    terraml(capsys, "approve", "--env", "adev", "--version", "20261108030000")
    puts = len(aml.bodies("PUT", "/models/"))
    code, out, err = terraml(capsys, *deploy)
    assert code == 0, out + err
    assert "azureml:terraml-adev-model:20261108030000" in out
    (deployment,) = aml.bodies("PUT", "/deployments/m-v9")
    assert deployment["properties"]["model"].endswith(
        "/models/terraml-adev-model/versions/20261108030000")
    assert len(aml.bodies("PUT", "/models/")) == puts  # nothing registered again


def test_training_reports_to_the_tracking_experiment(aml, capsys):
    aml.put(f"{WS}/jobs/run-1", {"properties": {
        "jobType": "Pipeline", "status": "Running", "experimentName": "adev", "jobs": {},
        "settings": {}, "tags": {"terraml-pipeline": "terraml-adev-training"}}})
    code, _, err = terraml(capsys, "train", "--env", "adev", "--image", "acr.azurecr.io/t:1",
                           "--entry", "python train.py", "--name", "terraml-adev-j1",
                           "--env-var", "SEED=3")
    assert code == 0, err
    (job,) = aml.bodies("PUT", "/jobs/terraml-adev-j1")
    assert job["properties"]["experimentName"] == "adev"
    assert job["properties"]["environmentVariables"] == {
        "MLFLOW_TRACKING_URI": OUTPUTS["tracking_uri"], "MLFLOW_EXPERIMENT_NAME": "adev",
        "SEED": "3"}
    code, out, err = terraml(capsys, "status", "--env", "adev")
    assert code == 0, err
    assert "terraml-adev-j1" in out and "run-1" not in out  # pipeline runs are not jobs here
