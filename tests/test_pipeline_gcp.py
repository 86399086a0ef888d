"""Continuous training on GCP: the synthesized resources (CMEK TensorBoard and KFP repository,
the runner's scoped roles, the failed-run alert, the outputs), the compiled kfp template
(without network), the programs terraml's own steps run, and the Vertex AI / Artifact
Registry REST calls of `terraml pipeline deploy|run|status`, `models`, `approve` and
`deploy-model --model-version`, answered by `responses`."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import responses
import yaml

from stacks.app import load_environment
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import resources, synth

pytest.importorskip("kfp")

EXAMPLE = ROOT / "examples/gcp-pipeline.yaml"
KEY_REF = "${google_kms_crypto_key.key_F64E54E4.id}"


# -- synth ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> dict:
    return synth(load_environment(EXAMPLE))


def by_member(doc: dict, rtype: str, account: str) -> list[dict]:
    return [r for r in resources(doc, rtype) if account in r["member"]]


def test_tensorboard_is_cmek_labelled_and_the_trainer_may_report(stack):
    (board,) = resources(stack, "google_vertex_ai_tensorboard")
    assert board["encryption_spec"]["kms_key_name"] == KEY_REF
    assert board["region"] == "us-central1"
    assert board["labels"]["env"] == "gcp-pipeline" and board["labels"]["cost-center"]
    assert any("key-user-aiplatform" in d for d in board["depends_on"])  # the agent's grant
    agents = [m["member"] for m in resources(stack, "google_kms_crypto_key_iam_member")]
    assert any("gcp-sa-aiplatform" in m for m in agents)
    trainer = by_member(stack, "google_project_iam_member", "training-sa")
    assert "roles/aiplatform.user" in {m["role"] for m in trainer}
    out = stack["output"]
    assert out["tracking_uri"]["value"] == \
        "${google_vertex_ai_tensorboard.tracking_tensorboard_3479CB20.id}"
    assert out["tracking_experiment"]["value"] == "gcp-pipeline"


def test_template_repository_is_kfp_with_cmek(stack):
    repos = {r["repository_id"]: r for r in resources(stack, "google_artifact_registry_repository")}
    kfp = repos["terraml-gcp-pipeline-pipelines"]
    assert kfp["format"] == "KFP" and kfp["kms_key_name"] == KEY_REF
    assert kfp["location"] == "us-central1" and kfp["labels"]["env"] == "gcp-pipeline"
    assert "docker_config" not in kfp


def test_runner_roles_are_scoped(stack):
    accounts = {a["account_id"] for a in resources(stack, "google_service_account")}
    assert "terraml-gcp-pipeline-pipeline" in accounts
    runner = "pipeline_runner"
    project_roles = {m["role"] for m in by_member(stack, "google_project_iam_member", runner)}
    assert project_roles == {"roles/aiplatform.user"}
    buckets = {(re.search(r"data_bucket-(\w+?)_", m["bucket"]).group(1), m["role"])
               for m in by_member(stack, "google_storage_bucket_iam_member", runner)}
    assert buckets == {("artifacts", "roles/storage.objectAdmin"),  # the pipeline root
                       ("raw", "roles/storage.objectViewer"),
                       ("features", "roles/storage.objectViewer"),
                       ("models", "roles/storage.objectViewer")}
    repos = {m["repository"] for m in
             by_member(stack, "google_artifact_registry_repository_iam_member", runner)
             if m["role"] == "roles/artifactregistry.reader"}
    assert {r.split(".")[1].rsplit("_", 1)[0] for r in repos} == {"pipeline_templates",
                                                                  "registry_repository"}
    (acts_as,) = resources(stack, "google_service_account_iam_member")
    assert acts_as["role"] == "roles/iam.serviceAccountUser" and runner in acts_as["member"]
    assert acts_as["service_account_id"].startswith(
        "${google_service_account.identity_training-sa_")
    # nobody may impersonate service accounts project-wide
    assert not [m for m in resources(stack, "google_project_iam_member")
                if m["role"].startswith("roles/iam.")]


def test_failed_runs_alert_the_stack_channels(stack):
    (metric,) = resources(stack, "google_logging_metric")
    assert 'resource.type="aiplatform.googleapis.com/PipelineJob"' in metric["filter"]
    assert 'jsonPayload.state="PIPELINE_STATE_FAILED"' in metric["filter"]
    assert 'labels.pipeline_name="terraml-gcp-pipeline-training"' in metric["filter"]
    assert metric["metric_descriptor"] == {"metric_kind": "DELTA", "value_type": "INT64",
                                           "unit": "1"}
    policy = next(p for p in resources(stack, "google_monitoring_alert_policy")
                  if "pipeline run failed" in p["display_name"])
    condition = policy["conditions"][0]["condition_threshold"]
    assert "logging.googleapis.com/user/${google_logging_metric." in condition["filter"]
    assert condition["comparison"] == "COMPARISON_GT" and condition["threshold_value"] == 0
    (channel,) = policy["notification_channels"]
    assert channel.startswith("${google_monitoring_notification_channel.monitoring_alerts-email")


def test_pipeline_outputs(stack):
    out = {k: v["value"] for k, v in stack["output"].items() if k.startswith("pipeline_")}
    assert out == {
        "pipeline_name": "terraml-gcp-pipeline-training",
        "pipeline_role": "${google_service_account.pipeline_runner_3DC49299.email}",
        "pipeline_schedule": "0 3 * * MON",
        "pipeline_trigger": "none",
        "pipeline_approval": "auto",  # dev
        "pipeline_metric": "auc",
        "pipeline_template_repo": "https://us-central1-kfp.pkg.dev/terraml-dev-123/"
                                  "terraml-gcp-pipeline-pipelines",
        "pipeline_root": "gs://${google_storage_bucket.data_bucket-artifacts_1C51BD3E.name}"
                         "/pipelines",
        "pipeline_network": "projects/${data.google_project.project.number}/global/networks/"
                            "terraml-gcp-pipeline",
        "pipeline_kms_key": KEY_REF,
        "pipeline_model": "projects/terraml-dev-123/locations/us-central1/models/"
                          "terraml-gcp-pipeline-model",
    }


def test_no_pipeline_and_no_tracking_build_nothing_new(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text((ROOT / "examples/gcp-dev.yaml").read_text())
    doc = synth(load_environment(path))
    for rtype in ("google_vertex_ai_tensorboard", "google_logging_metric",
                  "google_service_account_iam_member"):
        assert resources(doc, rtype) == []
    assert not [k for k in doc["output"] if k.startswith(("pipeline_", "tracking_"))]


def test_staging_waits_for_manual_approval(tmp_path):
    path = tmp_path / "staging.yaml"
    path.write_text(EXAMPLE.read_text().replace("name: gcp-pipeline\ntier: dev",
                                                "name: gstaging\ntier: staging"))
    doc = synth(load_environment(path))
    assert doc["output"]["pipeline_approval"]["value"] == "manual"
    (repo,) = [r for r in resources(doc, "google_artifact_registry_repository")
               if r["format"] == "KFP"]
    assert repo["lifecycle"]["prevent_destroy"] is True


def test_checkov_passes_the_new_resources(tmp_path):
    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov") or \
        str(ROOT / ".venv-checkov/bin/checkov")
    if not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    envs = tmp_path / "envs"
    envs.mkdir()
    shutil.copy(EXAMPLE, envs / "gcp-pipeline.yaml")
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    failures, _suppressed, summary = gate(checkov, tmp_path / "out")
    assert failures == [], failures
    assert summary.get("passed", 0) > 0


@pytest.mark.parametrize(("change", "where", "message"), [
    ("  schedule: \"0 3 * * MON\"", "pipeline.on_new_data",
     ("new-data triggers are not available on gcp (Vertex AI schedules are cron only); "
      "use schedule")),
    ("  enabled: true", "tracking.experiment",
     "Vertex AI experiment names are lowercase letters, digits and hyphens, found 'Churn_v2'"),
])
def test_what_gcp_cannot_do_is_one_line_exit_2(tmp_path, change, where, message):
    text = EXAMPLE.read_text()
    extra = {"pipeline.on_new_data": '  on_new_data: raw/incoming/',
             "tracking.experiment": "  experiment: Churn_v2"}[where]
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "gcp-pipeline.yaml").write_text(text.replace(change, f"{change}\n{extra}"))
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "gcp-pipeline.yaml:" in lines[0]
    assert lines[0].endswith(f"{where}: {message}")
    assert not (tmp_path / "out").exists()


# -- the compiled template -----------------------------------------------------------------

RES = "projects/ml-dev-123/locations/us-central1"
MODEL = f"{RES}/models/terraml-gp-model"
IMAGE = "us-central1-docker.pkg.dev/ml-dev-123/terraml-gp/train:1.0"
BOARD = f"{RES}/tensorboards/77"
KEY = f"{RES}/keyRings/terraml-gp/cryptoKeys/terraml-gp-data"
PIPELINE_ENV = f"""name: gp
cloud: gcp
region: us-central1
tier: dev
project_id: ml-dev-123
training: {{accelerator: T4, spot: true, max_runtime_hours: 6}}
serving: {{mode: serverless}}
tracking: {{enabled: true, experiment: churn}}
pipeline:
  schedule: "0 3 * * MON"
  max_parallel_runs: 2
  steps:
    prepare: {{image: {IMAGE}, command: python -m churn.prepare --days 30, size: large}}
    train: {{image: {IMAGE}, command: python -m churn.train --epochs 5, hours: 2}}
    evaluate: {{image: {IMAGE}, command: python -m churn.evaluate, metric: auc, min: 0.8}}
"""


def target(**changes):
    from adapters.gcp.pipeline_template import Target

    values = {"name": "terraml-gp-training", "parent": RES,
              "raw_uri": "gs://terraml-gp-raw-b/",
              "training_role": "terraml-gp-training@ml-dev-123.iam.gserviceaccount.com",
              "network": "projects/987/global/networks/terraml-gp", "kms_key": KEY,
              "model": MODEL, "output_uri": "gs://terraml-gp-models-b/training-output/",
              "labels": {"env": "gp", "project": "terraml"},
              "tracking": {"MLFLOW_TRACKING_URI": BOARD, "MLFLOW_EXPERIMENT_NAME": "churn"},
              "tensorboard": BOARD}
    values.update(changes)
    return Target(**values)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network used while compiling")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def compiled(tmp_path: Path, text: str = PIPELINE_ENV, **changes) -> dict:
    from adapters.gcp.pipeline_template import compile_template

    path = tmp_path / "gp.yaml"
    path.write_text(text)
    source, spec = compile_template(load_environment(path), target(**changes))
    assert yaml.safe_load(source) == spec and source.startswith("# PIPELINE DEFINITION")
    return spec


def executor(spec: dict, name: str) -> dict:
    return spec["deploymentSpec"]["executors"][f"exec-{name}"]["container"]


def test_template_steps_images_and_commands(tmp_path, no_network):
    from adapters.gcp.pipeline_template import CLI_IMAGE

    spec = compiled(tmp_path)
    assert spec["pipelineInfo"]["name"] == "terraml-gp-training"
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"prepare", "train", "evaluate", "gate", "condition-1"}
    assert tasks["train"]["dependentTasks"] == ["prepare"]
    assert set(tasks["evaluate"]["dependentTasks"]) == {"prepare", "train"}
    for task in (*tasks.values(), *spec["components"]["comp-condition-1"]["dag"]["tasks"]
                 .values()):
        if "cachingOptions" in task:
            assert task["cachingOptions"] == {}  # caching off: each run reads today's data
    prepare = executor(spec, "prepare")
    assert prepare["image"] == IMAGE
    assert prepare["command"] == ["sh", "-c", ('export TERRAML_INPUT="$1" TERRAML_OUTPUT="$2" '
                                               '&& mkdir -p "$2" && shift 2 && exec "$@"'),
                                  "terraml-prepare"]
    assert prepare["args"] == ["/gcs/terraml-gp-raw-b/",
                               "{{$.outputs.artifacts['data'].path}}",
                               "python", "-m", "churn.prepare", "--days", "30"]
    assert prepare["resources"]["resourceCpuLimit"] == "8"  # large = e2-standard-8
    assert prepare["resources"]["resourceMemoryLimit"] == "32G"
    assert {e["name"]: e["value"] for e in prepare["env"]} == {
        "MLFLOW_TRACKING_URI": BOARD, "MLFLOW_EXPERIMENT_NAME": "churn"}
    evaluate = executor(spec, "evaluate")
    assert evaluate["image"] == IMAGE
    assert 'TERRAML_METRICS_FILE="$3/evaluation.json"' in evaluate["command"][2]
    assert evaluate["args"][:3] == ["{{$.inputs.artifacts['data'].path}}",
                                    "{{$.inputs.artifacts['model'].path}}",
                                    "{{$.outputs.artifacts['evaluation'].path}}"]
    assert evaluate["args"][3:] == ["python", "-m", "churn.evaluate"]
    for own in ("train", "gate", "register"):
        container = executor(spec, own)
        assert container["image"] == CLI_IMAGE
        assert container["command"][:2] == ["python3", "-c"] and container["command"][3] == own


def test_train_step_is_a_spot_custom_job_as_the_training_identity(tmp_path, no_network):
    spec = compiled(tmp_path)
    train = executor(spec, "train")
    parent, body, source, model, run = train["args"]
    assert parent == RES
    assert (source, model, run) == ("{{$.inputs.artifacts['data'].uri}}",
                                    "{{$.outputs.artifacts['model'].uri}}",
                                    "{{$.pipeline_job_name}}")
    job = json.loads(body)
    job_spec = job["jobSpec"]
    pool = job_spec["workerPoolSpecs"][0]
    assert pool["machineSpec"] == {"machineType": "n1-standard-8",
                                   "acceleratorType": "NVIDIA_TESLA_T4", "acceleratorCount": 1}
    assert pool["containerSpec"]["imageUri"] == IMAGE
    assert pool["containerSpec"]["args"] == ["python", "-m", "churn.train", "--epochs", "5"]
    assert pool["containerSpec"]["env"] == [
        {"name": "MLFLOW_TRACKING_URI", "value": BOARD},
        {"name": "MLFLOW_EXPERIMENT_NAME", "value": "churn"}]
    assert job_spec["scheduling"] == {"timeout": "21600s", "strategy": "SPOT"}
    assert job_spec["serviceAccount"] == "terraml-gp-training@ml-dev-123.iam.gserviceaccount.com"
    assert job_spec["network"] == "projects/987/global/networks/terraml-gp"
    assert job_spec["tensorboard"] == BOARD
    assert job_spec["baseOutputDirectory"] == {
        "outputUriPrefix": "gs://terraml-gp-models-b/training-output/pipeline-train/"}
    assert job["encryptionSpec"] == {"kmsKeyName": KEY}
    assert job["labels"] == {"env": "gp", "project": "terraml"}


def test_gate_condition_and_register_step(tmp_path, no_network):
    spec = compiled(tmp_path)
    condition = spec["root"]["dag"]["tasks"]["condition-1"]
    assert condition["taskInfo"]["name"] == "metric-gate"
    assert condition["triggerPolicy"]["condition"] == \
        "inputs.parameter_values['pipelinechannel--gate-metric'] >= 0.8"
    inner = spec["components"]["comp-condition-1"]["dag"]["tasks"]
    assert set(inner) == {"register"}
    gate = executor(spec, "gate")
    assert gate["args"] == ["{{$.inputs.artifacts['evaluation'].path}}", "evaluation.json",
                            "auc", "0.8", "", "{{$.outputs.parameters['metric'].output_file}}",
                            "{{$.outputs.parameters['metrics'].output_file}}"]
    register = executor(spec, "register")
    model, display, artifact, image, key, labels, aliases, metrics, _run = register["args"]
    assert (model, display, artifact) == (MODEL, "terraml-gp-model",
                                          "{{$.inputs.artifacts['model'].uri}}")
    assert (image, key, aliases) == (IMAGE, KEY, "approved")  # dev: auto approval
    assert json.loads(labels) == {"env": "gp", "project": "terraml",
                                  "terraml-approval": "approved"}
    assert metrics == "{{$.inputs.parameters['metrics']}}"


def test_manual_approval_min_and_max_and_no_prepare(tmp_path, no_network):
    text = PIPELINE_ENV.replace("tier: dev", "tier: staging").replace(
        "metric: auc, min: 0.8", "metric: auc, min: 0.8, max: 0.99")
    text = re.sub(r"    prepare: .*\n", "", text)
    spec = compiled(tmp_path, text, tracking={}, tensorboard="")
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"train", "evaluate", "gate", "condition-1"}
    assert spec["components"]["comp-condition-1"]["dag"]["tasks"]["condition-2"][
        "triggerPolicy"]["condition"] == \
        "inputs.parameter_values['pipelinechannel--gate-metric'] <= 0.99"
    train = executor(spec, "train")
    assert train["args"][2] == "gs://terraml-gp-raw-b/"  # no prepare: train reads raw data
    job = json.loads(train["args"][1])
    assert "tensorboard" not in job["jobSpec"] and job["jobSpec"]["workerPoolSpecs"][0][
        "containerSpec"]["env"] == []
    assert executor(spec, "evaluate")["args"][0] == "/gcs/terraml-gp-raw-b/"
    register = executor(spec, "register")["args"]
    assert register[6] == "pending" and json.loads(register[5])["terraml-approval"] == "pending"


def test_without_evaluate_the_model_is_registered_after_training(tmp_path, no_network):
    text = re.sub(r"    evaluate: .*\n", "", PIPELINE_ENV)
    spec = compiled(tmp_path, text)
    assert set(spec["root"]["dag"]["tasks"]) == {"prepare", "train", "register"}
    assert spec["root"]["dag"]["tasks"]["register"]["inputs"]["parameters"]["metrics"][
        "runtimeValue"]["constant"] == "{}"


# -- the programs terraml's steps run ------------------------------------------------------


def run_step(spec: dict, name: str, values: dict[str, str]) -> subprocess.CompletedProcess:
    """The compiled step's own command line, placeholders filled, run with python3."""
    container = executor(spec, name)
    args = [values.get(a, a) for a in container["args"]]
    return subprocess.run([sys.executable, *container["command"][1:], *args], text=True,
                          capture_output=True, check=False, timeout=60)


def test_gate_program_reads_the_report_the_evaluate_step_wrote(tmp_path, no_network):
    spec = compiled(tmp_path)
    report = tmp_path / "evaluation"
    report.mkdir()
    (report / "evaluation.json").write_text(json.dumps({"auc": 0.83, "loss": 0.2,
                                                        "note": "x"}))
    values = {"{{$.inputs.artifacts['evaluation'].path}}": str(report),
              "{{$.outputs.parameters['metric'].output_file}}": str(tmp_path / "o/metric"),
              "{{$.outputs.parameters['metrics'].output_file}}": str(tmp_path / "o/metrics")}
    result = run_step(spec, "gate", values)
    assert result.returncode == 0, result.stderr
    assert "auc = 0.83: passes the gate (>= 0.8); registering the model" in result.stdout
    assert float((tmp_path / "o/metric").read_text()) == 0.83
    assert json.loads((tmp_path / "o/metrics").read_text()) == {"auc": 0.83, "loss": 0.2}
    (report / "evaluation.json").write_text(json.dumps({"accuracy": 0.9}))
    result = run_step(spec, "gate", values)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        (f"terraml gate: {report}/evaluation.json: expected a number under 'auc', found keys "
         "['accuracy']")]


class FakeHttp:
    """`urlopen` for pipeline_steps: the metadata token, then answers by (method, path)."""

    def __init__(self, answers: dict[tuple[str, str], list]) -> None:
        self.answers, self.sent = answers, []

    def __call__(self, request, timeout=None):
        if "metadata.google.internal" in request.full_url:
            return io.BytesIO(b'{"access_token": "t", "expires_in": 3600}')
        assert request.headers["Authorization"] == "Bearer t"
        path = request.full_url.split("/v1/", 1)[1]
        body = json.loads(request.data) if request.data else None
        self.sent.append((request.get_method(), path, body))
        status, answer = self.answers[(request.get_method(), path)].pop(0)
        if status >= 400:
            raise urllib.error.HTTPError(request.full_url, status, "x", {}, io.BytesIO(
                json.dumps({"error": {"message": answer}}).encode()))
        return io.BytesIO(json.dumps(answer).encode())


def steps_api(http: FakeHttp):
    from adapters.gcp import pipeline_steps

    return pipeline_steps.Vertex("us-central1", opener=http, sleep=lambda s: None)


def test_register_program_creates_the_model_then_adds_versions():
    from adapters.gcp import pipeline_steps

    op = {"name": f"{RES}/operations/1", "done": False}
    done = {"name": f"{RES}/operations/1", "done": True,
            "response": {"model": MODEL, "modelVersionId": "1"}}
    http = FakeHttp({("GET", MODEL): [(404, "not found"), (200, {"name": MODEL})],
                     ("POST", f"{RES}/models:upload"): [(200, op), (200, done)],
                     ("GET", f"{RES}/operations/1"): [(200, done)]})
    args = (MODEL, "terraml-gp-model", "gs://b/pipelines/run/train/model", IMAGE, KEY,
            json.dumps({"env": "gp", "terraml-approval": "pending"}), "pending",
            json.dumps({"auc": 0.83}), "terraml-gp-training-20261125")
    line = pipeline_steps.register(steps_api(http), *args)
    assert line == f"registered {MODEL}@1 (pending)"
    method, path, first = http.sent[1]
    assert (method, path) == ("POST", f"{RES}/models:upload")
    assert first["modelId"] == "terraml-gp-model" and "parentModel" not in first
    assert first["model"] == {
        "displayName": "terraml-gp-model", "artifactUri": "gs://b/pipelines/run/train/model",
        "containerSpec": {"imageUri": IMAGE},
        "labels": {"env": "gp", "terraml-approval": "pending",
                   "terraml-pipeline-run": "terraml-gp-training-20261125"},
        "versionAliases": ["pending"],
        "versionDescription": json.dumps({"metrics": {"auc": 0.83},
                                          "run": "terraml-gp-training-20261125"}),
        "encryptionSpec": {"kmsKeyName": KEY}}
    pipeline_steps.register(steps_api(http), *args)
    assert http.sent[-1][2]["parentModel"] == MODEL and "modelId" not in http.sent[-1][2]


def test_train_program_runs_the_custom_job_and_fails_with_it():
    from adapters.gcp import pipeline_steps

    job = {"jobSpec": {"workerPoolSpecs": [{"containerSpec": {"imageUri": IMAGE, "env": [
        {"name": "MLFLOW_EXPERIMENT_NAME", "value": "churn"}]}}],
        "baseOutputDirectory": {"outputUriPrefix": "gs://m/training-output/pipeline-train/"}},
        "labels": {"env": "gp"}}
    name = f"{RES}/customJobs/5"
    http = FakeHttp({("POST", f"{RES}/customJobs"): [(200, {"name": name,
                                                            "state": "JOB_STATE_PENDING"})] * 2,
                     ("GET", name): [(200, {"name": name, "state": "JOB_STATE_RUNNING"}),
                                     (200, {"name": name, "state": "JOB_STATE_SUCCEEDED"}),
                                     (200, {"name": name, "state": "JOB_STATE_FAILED",
                                            "error": {"message": "exit code 3"}})]})
    logged: list[str] = []
    line = pipeline_steps.train(steps_api(http), RES, json.dumps(job), "gs://b/run/prepare/data",
                                "gs://b/run/train/model", "terraml-gp-training-1", logged.append)
    assert line == f"custom job {name} succeeded; model in gs://b/run/train/model"
    sent = http.sent[0][2]
    assert sent["displayName"] == "terraml-gp-training-1-train"
    assert sent["labels"] == {"env": "gp", "terraml-pipeline-run": "terraml-gp-training-1"}
    assert sent["jobSpec"]["baseOutputDirectory"] == {
        "outputUriPrefix": "gs://m/training-output/pipeline-train/terraml-gp-training-1/"}
    assert sent["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["env"] == [
        {"name": "MLFLOW_EXPERIMENT_NAME", "value": "churn"},
        {"name": "TERRAML_INPUT", "value": "/gcs/b/run/prepare/data"},
        {"name": "TERRAML_MODEL_DIR", "value": "/gcs/b/run/train/model"}]
    assert logged[-1].endswith("JOB_STATE_SUCCEEDED")
    with pytest.raises(pipeline_steps.StepError, match="ended JOB_STATE_FAILED: exit code 3"):
        pipeline_steps.train(steps_api(http), RES, json.dumps(job), "/gcs/raw/", "gs://b/m",
                             "r", logged.append)


# -- the runtime: Vertex AI and Artifact Registry REST ---------------------------------------

HOST = "https://us-central1-aiplatform.googleapis.com/v1"
API = f"{HOST}/{RES}"
REPO = "https://us-central1-kfp.pkg.dev/ml-dev-123/terraml-gp-pipelines"
TAG_URL = ("https://artifactregistry.googleapis.com/v1/projects/ml-dev-123/locations/"
           "us-central1/repositories/terraml-gp-pipelines/packages/terraml-gp-training/tags/"
           "latest")
RUNNER = "terraml-gp-pipeline@ml-dev-123.iam.gserviceaccount.com"
NETWORK = "projects/987654321/global/networks/terraml-gp"
OUTPUTS = {
    "environment": "gp", "cloud": "gcp", "region": "us-central1",
    "training_role": "terraml-gp-training@ml-dev-123.iam.gserviceaccount.com",
    "serving_role": "terraml-gp-serving@ml-dev-123.iam.gserviceaccount.com",
    "training_output_uri": "gs://terraml-gp-models-b/training-output/",
    "training_network": NETWORK, "training_kms_key": KEY, "kms_key": KEY,
    "endpoint_name": "4242", "serving_mode": "serverless", "serving_instance_type": "n1-standard-4",
    "serving_accelerator_type": "", "serving_min_replicas": 1, "serving_max_replicas": 2,
    "bucket_raw": "terraml-gp-raw-b", "pipeline_name": "terraml-gp-training",
    "pipeline_role": RUNNER, "pipeline_template_repo": REPO,
    "pipeline_root": "gs://terraml-gp-artifacts-b/pipelines", "pipeline_network": NETWORK,
    "pipeline_kms_key": KEY, "pipeline_model": MODEL, "pipeline_schedule": "0 3 * * MON",
    "pipeline_trigger": "none", "pipeline_approval": "auto", "pipeline_metric": "auc",
    "tracking_uri": BOARD, "tracking_experiment": "churn",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """The environment file and its stack outputs in the working directory; anonymous
    credentials, fast retries."""
    from google.auth.credentials import AnonymousCredentials

    (tmp_path / "environments").mkdir()
    (tmp_path / "environments/gp.yaml").write_text(PIPELINE_ENV)
    (tmp_path / "outputs.json").write_text(json.dumps({k: {"value": v}
                                                       for k, v in OUTPUTS.items()}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("adapters.gcp.runtime.credentials", AnonymousCredentials)
    monkeypatch.setattr("adapters.retry.BASE_SECONDS", 0.01)
    return tmp_path


def terraml(capsys, *args: str) -> tuple[int, str, str]:
    """`terraml ... --outputs outputs.json` in this process, so `responses` sees its calls."""
    from terraml import cli

    argv, sys.argv = sys.argv, ["terraml", *args, "--outputs", "outputs.json"]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def runtime_for(project: Path):
    from adapters.gcp.runtime import GcpRuntime
    from core.outputs import StackOutputs

    return GcpRuntime(load_environment(project / "environments/gp.yaml"),
                      StackOutputs(dict(OUTPUTS), "outputs.json"))


def sent(method: str, path: str):
    """The calls with `method` whose URL path (decoded, no query) ends with `path`."""
    return [c for c in responses.calls if c.request.method == method
            and unquote(c.request.url.split("?")[0]).endswith(path)]


def body(call) -> dict:
    return json.loads(call.request.body)


def query(call) -> dict[str, list[str]]:
    return parse_qs(urlparse(call.request.url).query)


def op(name: str) -> dict:
    return {"name": f"{RES}/operations/{name}", "done": True,
            "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}


def assert_job_fields(job: dict) -> None:
    """What every run of the pipeline carries: identity, network, key, root, labels."""
    assert job["serviceAccount"] == RUNNER
    assert job["network"] == NETWORK
    assert job["encryptionSpec"] == {"kmsKeyName": KEY}
    assert job["runtimeConfig"] == {"gcsOutputDirectory": "gs://terraml-gp-artifacts-b/pipelines"}
    assert job["labels"]["env"] == "gp" and job["labels"]["cost-center"] == "ml-platform"


@responses.activate
def test_deploy_uploads_the_template_and_replaces_the_schedule(project, capsys):
    responses.post(REPO, body="terraml-gp-training/sha256:abc123", content_type="text/plain")
    responses.get(f"{API}/schedules", json={"schedules": [
        {"name": f"{RES}/schedules/11", "displayName": "terraml-gp-training"}]})
    responses.post(f"{API}/schedules", json={"name": f"{RES}/schedules/12",
                                             "displayName": "terraml-gp-training"})
    responses.delete(f"{API}/schedules/11", json=op("d1"))
    code, out, err = terraml(capsys, "pipeline", "deploy", "--env", "gp")
    assert code == 0, err
    template = f"{REPO}/terraml-gp-training/sha256:abc123"
    assert f"pipeline terraml-gp-training: template {template}; schedule 12 " \
           "(0 3 * * MON UTC)" in " ".join(out.split())
    upload = responses.calls[0].request
    assert upload.url == REPO and upload.method == "POST"
    assert b'name="tags"' in upload.body and b"latest" in upload.body
    assert b'name="content"; filename="terraml-gp-training.yaml"' in upload.body
    assert b"# PIPELINE DEFINITION" in upload.body and b"exec-register" in upload.body
    (listed,) = sent("GET", "/schedules")
    assert query(listed)["filter"] == ['display_name="terraml-gp-training"']
    (created,) = sent("POST", "/schedules")
    schedule = body(created)
    assert schedule["displayName"] == "terraml-gp-training"
    assert schedule["cron"] == "TZ=UTC 0 3 * * MON"
    assert schedule["maxConcurrentRunCount"] == "2"
    request = schedule["createPipelineJobRequest"]
    assert request["parent"] == RES
    job = request["pipelineJob"]
    assert_job_fields(job)
    assert job["templateUri"] == template
    assert job["pipelineSpec"]["pipelineInfo"]["name"] == "terraml-gp-training"
    assert set(job["pipelineSpec"]["root"]["dag"]["tasks"]) == {
        "prepare", "train", "evaluate", "gate", "condition-1"}
    assert len(sent("DELETE", "/schedules/11")) == 1  # the old one, after the new exists
    assert responses.calls.index(sent("DELETE", "/schedules/11")[0]) > \
        responses.calls.index(created)


@responses.activate
def test_deploy_without_schedule_removes_the_old_one(project, capsys):
    (project / "environments/gp.yaml").write_text(
        PIPELINE_ENV.replace('  schedule: "0 3 * * MON"\n', ""))
    responses.post(REPO, body="terraml-gp-training/sha256:def", content_type="text/plain")
    responses.get(f"{API}/schedules", json={"schedules": [{"name": f"{RES}/schedules/12"}]})
    responses.delete(f"{API}/schedules/12", json=op("d2"))
    code, out, err = terraml(capsys, "pipeline", "deploy", "--env", "gp")
    assert code == 0, err
    assert "no schedule (start runs with terraml pipeline run)" in " ".join(out.split())
    assert sent("POST", "/schedules") == [] and len(sent("DELETE", "/schedules/12")) == 1


TEMPLATE = yaml.safe_dump({"pipelineInfo": {"name": "terraml-gp-training"},
                           "root": {"dag": {"tasks": {}}}, "schemaVersion": "2.1.0"})


@responses.activate
def test_run_starts_a_job_from_the_uploaded_template(project, capsys):
    version = "projects/ml-dev-123/locations/us-central1/repositories/terraml-gp-pipelines/" \
              "packages/terraml-gp-training/versions/sha256:abc123"
    responses.get(TAG_URL, json={"name": TAG_URL.split("/v1/")[1], "version": version})
    responses.get(f"{REPO}/terraml-gp-training/sha256:abc123", body=TEMPLATE)
    responses.post(f"{API}/pipelineJobs", json={
        "name": f"{RES}/pipelineJobs/terraml-gp-training-1", "state": "PIPELINE_STATE_PENDING",
        "createTime": "2026-11-25T10:00:00Z"})
    code, out, err = terraml(capsys, "pipeline", "run", "--env", "gp", "--no-wait")
    assert code == 0, err
    assert f"run: {RES}/pipelineJobs/terraml-gp-training-1" in out
    assert "status: pending" in out
    (created,) = sent("POST", "/pipelineJobs")
    assert re.fullmatch(r"terraml-gp-training-\d{14}", query(created)["pipelineJobId"][0])
    job = body(created)
    assert_job_fields(job)
    assert job["displayName"] == "terraml-gp-training"
    assert job["templateUri"] == f"{REPO}/terraml-gp-training/sha256:abc123"
    assert job["pipelineSpec"] == yaml.safe_load(TEMPLATE)


@responses.activate
def test_run_before_deploy_is_one_line(project, capsys):
    responses.get(TAG_URL, status=404, json={"error": {"code": 404, "status": "NOT_FOUND",
                                                       "message": "tag not found"}})
    code, _, err = terraml(capsys, "pipeline", "run", "--env", "gp", "--no-wait")
    assert code == 2
    assert err.strip() == (f"error: terraml-gp-training: no template in {REPO} yet: run "
                           "terraml pipeline deploy --env gp first")


def task(name: str, state: str, **extra) -> dict:
    return {"taskName": name, "state": state, "startTime": "2026-11-25T10:00:00Z", **extra}


JOB = {"name": f"{RES}/pipelineJobs/terraml-gp-training-1", "state": "PIPELINE_STATE_SUCCEEDED",
       "startTime": "2026-11-25T10:00:00Z", "jobDetail": {"taskDetails": [
           task("terraml-gp-training", "SUCCEEDED"), task("prepare", "SUCCEEDED"),
           task("train", "SUCCEEDED", endTime="2026-11-25T11:00:00Z"),
           task("evaluate", "SKIPPED"), task("gate", "SUCCEEDED"),
           task("metric-gate", "NOT_TRIGGERED"), task("register", "NOT_TRIGGERED")]}}


@responses.activate
def test_status_maps_tasks_to_steps(project, capsys):
    from adapters.runtime import STOPPED, SUCCEEDED

    responses.get(f"{API}/pipelineJobs", json={"pipelineJobs": [
        {k: v for k, v in JOB.items() if k != "jobDetail"}]})
    responses.get(f"{HOST}/{JOB['name']}", json=JOB)
    code, out, err = terraml(capsys, "pipeline", "status", "--env", "gp")
    assert code == 0, err
    assert "the metric gate was not met: no model version registered" in " ".join(out.split())
    (listed,) = sent("GET", "/pipelineJobs")
    assert query(listed)["filter"] == ['pipeline_name="terraml-gp-training"']
    assert query(listed)["orderBy"] == ["create_time desc"]
    run = runtime_for(project).pipeline_run("terraml-gp-training-1")
    assert run.state == SUCCEEDED and run.run_id == JOB["name"]
    assert [(s.name, s.state, s.detail) for s in run.steps] == [
        ("prepare", SUCCEEDED, ""), ("train", SUCCEEDED, ""), ("evaluate", SUCCEEDED, "cached"),
        ("gate", SUCCEEDED, ""), ("register", STOPPED, "not run: the metric gate was not met")]
    assert run.steps[1].ended.hour == 11


def version(number: str, **extra) -> dict:
    return {"name": MODEL, "versionId": number, "artifactUri": f"gs://b/run{number}/model",
            "versionCreateTime": f"2026-11-2{number}T10:00:00Z",
            "containerSpec": {"imageUri": IMAGE}, **extra}


VERSIONS = [
    version("1", labels={"terraml-approval": "rejected"},
            versionDescription=json.dumps({"metrics": {"auc": 0.7}, "reason": "too weak"})),
    version("2", labels={"terraml-approval": "approved"}, versionAliases=["approved"]),
    version("3", labels={"env": "gp", "terraml-approval": "pending"}, versionAliases=["pending"],
            versionDescription=json.dumps({"metrics": {"auc": 0.83, "loss": 0.2},
                                           "run": "terraml-gp-training-3"})),
]
VERSION_PATH = re.compile(re.escape(f"{HOST}/{MODEL}") + r"(@|%40)3(\?.*)?$")


@responses.activate
def test_models_lists_versions_with_approval_and_metrics(project, capsys):
    from adapters.runtime import APPROVED, PENDING_APPROVAL, REJECTED

    responses.get(f"{HOST}/{MODEL}:listVersions", json={"models": VERSIONS})
    code, out, err = terraml(capsys, "models", "--env", "gp")
    assert code == 0, err
    assert "auc=0.83, loss=0.2" in out and "too weak" in out
    found = runtime_for(project).model_versions()
    assert [(v.version, v.approval) for v in found] == [
        ("3", PENDING_APPROVAL), ("2", APPROVED), ("1", REJECTED)]
    assert found[0].model_id == f"{MODEL}@3" and found[0].model_uri == "gs://b/run3/model"
    assert found[0].metrics == {"auc": 0.83, "loss": 0.2} and found[0].created.day == 23
    responses.replace(responses.GET, f"{HOST}/{MODEL}:listVersions", status=404,
                      json={"error": {"code": 404, "status": "NOT_FOUND", "message": "no"}})
    assert runtime_for(project).model_versions() == []  # nothing registered yet


@responses.activate
def test_approve_sets_the_label_description_and_aliases(project, capsys):
    stored = dict(VERSIONS[2])

    def update(request):  # PATCH: the version with the sent fields
        stored.update(json.loads(request.body))
        return 200, {}, json.dumps(stored)

    def merge(request):  # mergeVersionAliases: "-x" removes x
        aliases = set(stored.get("versionAliases", []))
        for alias in json.loads(request.body)["versionAliases"]:
            aliases = aliases - {alias[1:]} if alias.startswith("-") else aliases | {alias}
        stored["versionAliases"] = sorted(aliases)
        return 200, {}, json.dumps(stored)
    responses.get(f"{HOST}/{MODEL}:listVersions", json={"models": VERSIONS})
    responses.get(VERSION_PATH, json=VERSIONS[2])
    responses.add_callback(responses.PATCH, VERSION_PATH, callback=update)
    responses.add_callback(responses.POST, re.compile(re.escape(f"{HOST}/{MODEL}") +
                                                      r"(@|%40)3:mergeVersionAliases"),
                           callback=merge)
    code, out, err = terraml(capsys, "approve", "--env", "gp", "--version", "3",
                             "--reason", "beats the baseline")
    assert code == 0, err
    assert "version 3: approved (beats the baseline)" in out
    (patch,) = [c for c in responses.calls if c.request.method == "PATCH"]
    assert unquote(patch.request.url.split("?")[0]).endswith(f"{MODEL}@3")
    assert query(patch)["updateMask"] == ["labels,versionDescription"]
    change = body(patch)
    assert change["labels"] == {"env": "gp", "terraml-approval": "approved"}
    assert json.loads(change["versionDescription"]) == {
        "metrics": {"auc": 0.83, "loss": 0.2}, "run": "terraml-gp-training-3",
        "reason": "beats the baseline"}
    (merged,) = sent("POST", f"{MODEL}@3:mergeVersionAliases")
    assert body(merged) == {"versionAliases": ["approved", "-pending"]}
    assert stored["versionAliases"] == ["approved"]


@responses.activate
def test_reject_removes_the_aliases_and_keeps_the_reason(project, capsys):
    responses.get(f"{HOST}/{MODEL}:listVersions", json={"models": VERSIONS})
    responses.get(re.compile(re.escape(f"{HOST}/{MODEL}") + r"(@|%40)2(\?.*)?$"),
                  json=VERSIONS[1])
    rejected = {**VERSIONS[1], "labels": {"terraml-approval": "rejected"},
                "versionDescription": json.dumps({"reason": "leaks test data"})}
    responses.patch(re.compile(re.escape(f"{HOST}/{MODEL}") + r"(@|%40)2(\?.*)?$"),
                    json=rejected)
    responses.add(responses.POST, re.compile(re.escape(f"{HOST}/{MODEL}") +
                                             r"(@|%40)2:mergeVersionAliases"),
                  json={**rejected, "versionAliases": []})
    code, out, err = terraml(capsys, "approve", "--env", "gp", "--version", "2", "--reject",
                             "--reason", "leaks test data")
    assert code == 0, err
    assert "version 2: rejected (leaks test data)" in out
    (patch,) = [c for c in responses.calls if c.request.method == "PATCH"]
    assert body(patch)["labels"] == {"terraml-approval": "rejected"}
    (merge,) = sent("POST", f"{MODEL}@2:mergeVersionAliases")
    assert body(merge) == {"versionAliases": ["-approved"]}


@responses.activate
def test_train_reports_to_the_tensorboard(project, capsys):
    responses.post(f"{API}/customJobs", json={"name": f"{RES}/customJobs/9",
                                              "state": "JOB_STATE_PENDING"})
    code, _, err = terraml(capsys, "train", "--env", "gp", "--image", IMAGE, "--entry",
                           "python t.py")
    assert code == 0, err
    job = body(responses.calls[0])
    assert job["jobSpec"]["tensorboard"] == BOARD
    env = {e["name"]: e["value"] for e in job["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]
           ["env"]}
    assert env == {"MLFLOW_TRACKING_URI": BOARD, "MLFLOW_EXPERIMENT_NAME": "churn"}


def test_deploying_a_registry_version_uses_it_as_registered(project, capsys, monkeypatch):
    from tests.test_runtime_gcp import FakeVertex, _json

    class Registry(FakeVertex):
        def __call__(self, request):
            path = unquote(request.url.split("?")[0].split("/v1/", 1)[1])
            if path == f"{MODEL}:listVersions":
                return _json({"models": VERSIONS})
            if path == f"{MODEL}@2":
                return _json(VERSIONS[1])
            return super().__call__(request)

    fake = Registry()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PATCH", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(HOST) + r"/.*"), callback=fake)
        code, _, err = terraml(capsys, "deploy-model", "--env", "gp", "--latest-approved",
                               "--image", "us-central1-docker.pkg.dev/x/y/serve:2")
        assert code == 2, (code, err)
        assert err.strip() == (
            "error: --image: registry version 2 serves with the image it was registered with "
            f"({IMAGE}); on gcp a version's serving container is fixed at registration: "
            f"pass --image {IMAGE}")
        assert fake.deployed == {}
        code, out, err = terraml(capsys, "deploy-model", "--env", "gp", "--latest-approved",
                                 "--image", IMAGE)
        assert code == 0, err
        assert "status: healthy" in out
        uploads = [c for c in mock.calls if c.request.url.split("?")[0].endswith(":upload")]
        assert uploads == []  # deployed as registered, not uploaded again
        (deployed,) = fake.deployed.values()
        assert deployed["model"] == f"{MODEL}@2"


def test_step_programs_fail_in_one_line(capsys):
    from adapters.gcp import pipeline_steps

    http = FakeHttp({("GET", MODEL): [(403, "Permission 'aiplatform.models.get' denied")]})
    args = ["register", MODEL, "m", "gs://b/m", IMAGE, KEY, "{}", "pending", "{}", "run-1"]
    assert pipeline_steps.main(args, api_factory=lambda region: steps_api(http)) == 1
    assert capsys.readouterr().err.strip() == (
        "terraml register: HTTP 403: Permission 'aiplatform.models.get' denied")
    assert pipeline_steps.main(["deploy"]) == 1
    assert "expected gate, train or register, found 'deploy'" in capsys.readouterr().err
