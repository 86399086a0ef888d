"""GCP runtime through the CLI (in process), with the Vertex AI REST transport answered by
`responses`: request bodies carry the stack's machine, accelerator, service account,
network, CMEK key and spot strategy; canary rollout and rollback; Cloud Monitoring
driven stop-idle; Workbench instances."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import responses
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1 as v1

from tests.conftest import ROOT

pytest.importorskip("google.cloud.aiplatform_v1")

HOST = "https://us-central1-aiplatform.googleapis.com/v1"
RES = "projects/ml-dev-123/locations/us-central1"
API = f"https://us-central1-aiplatform.googleapis.com/v1/{RES}"
ENDPOINT_ID = "4242"
KEY = "projects/ml-dev-123/locations/us-central1/keyRings/terraml-dev/cryptoKeys/data"
OUTPUTS = {
    "environment": "gdev", "cloud": "gcp", "region": "us-central1",
    "training_role": "terraml-dev-training@ml-dev-123.iam.gserviceaccount.com",
    "serving_role": "terraml-dev-serving@ml-dev-123.iam.gserviceaccount.com",
    "training_output_uri": "gs://terraml-dev-models/training-output/",
    "training_network": "projects/987654321/global/networks/terraml-gdev",
    "training_kms_key": KEY, "kms_key": KEY, "endpoint_name": ENDPOINT_ID,
    "serving_mode": "realtime", "serving_instance_type": "n1-standard-4",
    "serving_accelerator_type": "", "serving_min_replicas": 2, "serving_max_replicas": 3,
}
ENV = """name: gdev
cloud: gcp
region: us-central1
tier: staging
project_id: ml-dev-123
training: {accelerator: T4, spot: true, max_runtime_hours: 12}
serving: {mode: realtime, size: medium, min_instances: 2, max_instances: 3}
guardrails: {allowed_accelerators: [T4, L4], actions: {model_approval: "off"}}
"""
IMAGE = "us-central1-docker.pkg.dev/ml-dev-123/train/trainer:1.0"


@pytest.fixture
def project(tmp_path: Path, monkeypatch):
    return write_project(tmp_path, monkeypatch)


def write_project(tmp_path: Path, monkeypatch) -> Path:
    """The environment file and stack outputs in `tmp_path` (the working directory), with
    anonymous credentials and fast retries."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments/gdev.yaml").write_text(ENV)
    (tmp_path / "outputs.json").write_text(json.dumps({k: {"value": v}
                                                       for k, v in OUTPUTS.items()}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("adapters.gcp.runtime.credentials", AnonymousCredentials)
    monkeypatch.setenv("TERRAML_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setattr("adapters.retry.BASE_SECONDS", 0.01)
    return tmp_path


def terraml(capsys, *args: str) -> tuple[int, str, str]:
    """`terraml ...` in this process (so `responses` sees its HTTP calls)."""
    from terraml import cli

    argv = sys.argv
    sys.argv = ["terraml", *args, "--outputs", "outputs.json"] if args[0] != "--help" else argv
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _body(call) -> dict:
    return json.loads(call.request.body)


def _sent(path_end: str):
    """The first call whose URL path (without the query) ends with `path_end`."""
    return next(c for c in responses.calls if c.request.url.split("?")[0].endswith(path_end))


def _op(name: str, response: dict) -> dict:
    return {"name": f"projects/ml-dev-123/locations/us-central1/operations/{name}",
            "done": True, "response": response}


class FakeVertex:
    """A small stateful Vertex AI REST service for `responses`: CustomJobs, Model Registry
    versions and the stack's endpoint (deploy, traffic split, undeploy). Long-running
    operations are answered done. Deployed models are available unless their display name
    ends with one of `sick` (then their status carries a health-check message).

    Model Registry: `models` lists each model's version ids; `versions` keeps each version's
    JSON (`<model>@<id>`: labels, aliases, description, artifact, container) as uploaded,
    then as UpdateModel (PATCH, by `updateMask`) and MergeVersionAliases change it; an alias
    is unique within a model (given to one version, it leaves the others) and a model's first
    version carries `default`. `urlopen` serves terraml's pipeline step programs
    (adapters/gcp/pipeline_steps.py) from the same state. Pipeline jobs start
    PIPELINE_STATE_PENDING; `put_template` puts a compiled template in the KFP repository,
    tagged `latest` as Artifact Registry reports it (`kfp` answers both)."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict] = {}
        self.models: dict[str, list[str]] = {}  # model name -> version ids
        self.versions: dict[str, dict] = {}  # "<model>@<version id>" -> the version's JSON
        self.deployed: dict[str, dict] = {}  # deployed model id -> its JSON
        self.split: dict[str, int] = {}
        self.sick: set[str] = set()
        self.pipeline_jobs: dict[str, dict] = {}  # pipeline job name -> its JSON
        self.templates: dict[str, str] = {}  # template URI (<repo>/<package>/<version>) -> YAML
        self.tags: dict[str, str] = {}  # Artifact Registry tag name -> its version name
        self._ids = iter(range(900, 10_000))

    def endpoint(self) -> dict:
        return _endpoint(list(self.deployed.values()), dict(self.split))

    def serve(self, deployed_id: str, model: str) -> None:
        """A deployed model already on the endpoint with all traffic."""
        self.deployed[deployed_id] = {**OLD, "id": deployed_id, "model": model,
                                      "status": {"availableReplicaCount": 2}}
        self.split = {deployed_id: 100}

    def __call__(self, request):
        path = unquote(request.url.split("?")[0].split("/v1/", 1)[1])
        body = json.loads(request.body) if request.body else {}
        method, here = request.method, f"{RES}/endpoints/{ENDPOINT_ID}"
        if path == f"{RES}/customJobs":
            if method == "POST":
                name = f"{RES}/customJobs/{next(self._ids)}"
                self.jobs[name] = {**body, "name": name, "state": "JOB_STATE_PENDING"}
                return _json(self.jobs[name])
            return _json({"customJobs": list(self.jobs.values())})
        if path in self.jobs:
            return _json(self.jobs[path])
        if path == f"{RES}/models":
            return _json({"models": [{"name": m, "displayName": "terraml-gdev"}
                                     for m in self.models]})
        if path == f"{RES}/models:upload":
            model = body.get("parentModel") or \
                f"{RES}/models/{body.get('modelId') or next(self._ids)}"
            versions = self.models.setdefault(model, [])
            versions.append(str(max(map(int, versions), default=0) + 1))
            self._add_version(model, versions[-1], body.get("model") or {})
            return _json(_op("upload", {
                "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse",
                "model": model, "modelVersionId": versions[-1]}))
        if path.endswith(":deleteVersion"):
            model, version = path.removesuffix(":deleteVersion").split("@")
            self.models[model].remove(version)
            self.versions.pop(f"{model}@{version}", None)
            return _json(_op("delete", {"@type": "type.googleapis.com/google.protobuf.Empty"}))
        if method == "DELETE" and path in self.models:
            del self.models[path]
            return _json(_op("delete", {"@type": "type.googleapis.com/google.protobuf.Empty"}))
        answer = self._registry(method, path, body, parse_qs(urlsplit(request.url).query)) \
            or self._pipelines(method, path, body, parse_qs(urlsplit(request.url).query))
        if answer is not None:
            return answer
        if path == here and method == "GET":
            return _json(self.endpoint())
        if path == here and method == "PATCH":
            self.split = body["trafficSplit"]
            return _json(self.endpoint())
        if path == f"{here}:deployModel":
            deployed_id = str(next(self._ids))
            model = {**body["deployedModel"], "id": deployed_id,
                     "status": {"availableReplicaCount": 2}}
            if model.get("displayName", "").endswith(tuple(self.sick)):
                model["status"] = {"message": "container failed its health check",
                                   "availableReplicaCount": 0}
            self.deployed[deployed_id] = model
            self.split = {(deployed_id if k == "0" else k): v
                          for k, v in body["trafficSplit"].items()}
            return _json(_op("deploy", {
                "@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse",
                "deployedModel": {"id": deployed_id}}))
        if path == f"{here}:undeployModel":
            self.deployed.pop(body["deployedModelId"])
            self.split = body.get("trafficSplit") or {}
            return _json(_op("undeploy", {
                "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UndeployModelResponse"}))
        return _missing(path)

    # -- Model Registry versions ---------------------------------------------------------

    def version(self, model: str, number: str) -> dict:
        """The JSON of version `number` of `model` (a bare one for versions put in `models`
        by hand)."""
        return self.versions.setdefault(f"{model}@{number}", {"name": model,
                                                              "versionId": number})

    def _add_version(self, model: str, number: str, fields: dict) -> None:
        aliases = list(fields.get("versionAliases") or [])
        if len(self.models[model]) == 1:
            aliases.insert(0, "default")
        self.versions[f"{model}@{number}"] = {
            **fields, "name": model, "versionId": number, "versionAliases": aliases,
            "versionCreateTime": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")}
        self._take_aliases(model, number, aliases)

    def _take_aliases(self, model: str, number: str, aliases: list[str]) -> None:
        """`aliases` now name `number`: they leave every other version of `model`."""
        for other in self.models.get(model, []):
            if other != number:
                held = self.version(model, other).get("versionAliases") or []
                self.version(model, other)["versionAliases"] = [a for a in held
                                                                if a not in aliases]

    def _registry(self, method: str, path: str, body: dict,
                  query: dict[str, list[str]]) -> tuple[int, dict, str] | None:
        """GetModel, ListModelVersions, and Get/Update/MergeVersionAliases of one version."""
        if method == "GET" and path in self.models:
            return _json({"name": path, "displayName": path.rsplit("/", 1)[-1]})
        if method == "GET" and path.endswith(":listVersions"):
            model = path.removesuffix(":listVersions")
            if model not in self.models:
                return _missing(path)
            return _json({"models": [self.version(model, v) for v in self.models[model]]})
        model, _, rest = path.partition("@")
        if not rest or model not in self.models:
            return None
        number, _, verb = rest.partition(":")
        if number not in self.models[model]:
            return _missing(path)
        stored = self.version(model, number)
        if verb == "mergeVersionAliases":
            held = list(stored.get("versionAliases") or [])
            for alias in body.get("versionAliases", []):
                if alias.startswith("-"):
                    held = [a for a in held if a != alias[1:]]
                elif alias not in held:
                    held.append(alias)
                    self._take_aliases(model, number, [alias])
            stored["versionAliases"] = held
            return _json(stored)
        if method == "PATCH" and not verb:
            for field in (query.get("updateMask") or [""])[0].split(","):
                if field in body:
                    stored[field] = body[field]
                elif field:
                    stored.pop(field, None)
            return _json(stored)
        if method == "GET" and not verb:
            return _json(stored)
        return None

    def urlopen(self, request, timeout: float | None = None) -> io.BytesIO:
        """`urllib.request.urlopen` for the pipeline step programs: the metadata server's
        token, then this fake (an error status raises `HTTPError`, as urllib does)."""
        if "metadata.google.internal" in request.full_url:
            return io.BytesIO(b'{"access_token": "fake-token", "expires_in": 3600}')
        status, _, text = self(SimpleNamespace(url=request.full_url, body=request.data,
                                               method=request.get_method()))
        if status >= 400:
            raise urllib.error.HTTPError(request.full_url, status, "error", {},
                                         io.BytesIO(text.encode()))
        return io.BytesIO(text.encode())

    # -- pipeline jobs and their templates -------------------------------------------------

    def _pipelines(self, method: str, path: str, body: dict,
                   query: dict[str, list[str]]) -> tuple[int, dict, str] | None:
        """CreatePipelineJob (pending), ListPipelineJobs (honouring `create_time desc`),
        GetPipelineJob."""
        if path == f"{RES}/pipelineJobs" and method == "POST":
            job_id = (query.get("pipelineJobId") or [f"pipeline-{next(self._ids)}"])[0]
            name = f"{RES}/pipelineJobs/{job_id}"
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            self.pipeline_jobs[name] = {**body, "name": name, "createTime": now,
                                        "state": "PIPELINE_STATE_PENDING"}
            return _json(self.pipeline_jobs[name])
        if path == f"{RES}/pipelineJobs" and method == "GET":
            jobs = list(self.pipeline_jobs.values())
            if "desc" in (query.get("orderBy") or [""])[0]:
                jobs.reverse()
            return _json({"pipelineJobs": jobs})
        if path in self.pipeline_jobs and method == "GET":
            return _json(self.pipeline_jobs[path])
        return None

    def put_template(self, repo: str, package: str, text: str) -> str:
        """A compiled template in the KFP repository `repo` (its https URL) tagged `latest`,
        as `terraml pipeline deploy` leaves it; returns its pinned URI."""
        version = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        self.templates[f"{repo}/{package}/{version}"] = text
        host, project, repository = urlsplit(repo).netloc, *repo.rstrip("/").split("/")[-2:]
        region = host.removesuffix("-kfp.pkg.dev")
        base = (f"projects/{project}/locations/{region}/repositories/{repository}/packages/"
                f"{package}")
        self.tags[f"{base}/tags/latest"] = f"{base}/versions/{version}"
        return f"{repo}/{package}/{version}"

    def kfp(self, request) -> tuple[int, dict, str]:
        """Artifact Registry's GetTag and the KFP repository's template download."""
        url = request.url.split("?")[0]
        if url.startswith(ARTIFACT_REGISTRY):
            tag = url[len(ARTIFACT_REGISTRY) + 1:]
            return _json({"name": tag, "version": self.tags[tag]}) if tag in self.tags \
                else _missing(tag)
        if request.method == "GET" and url in self.templates:
            return 200, {"Content-Type": "application/octet-stream"}, self.templates[url]
        return _missing(url)


ARTIFACT_REGISTRY = "https://artifactregistry.googleapis.com/v1"


def _missing(path: str) -> tuple[int, dict, str]:
    return 404, {"Content-Type": "application/json"}, json.dumps({"error": {
        "code": 404, "status": "NOT_FOUND", "message": f"{path} not found"}})


def _json(body: dict) -> tuple[int, dict, str]:
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


@contextmanager
def fake_vertex(tmp_path: Path, monkeypatch) -> Iterator[FakeVertex]:
    """The project (`write_project`) with a `FakeVertex` answering
    every aiplatform REST call (and the template reads of `start_pipeline`: Artifact Registry
    tags, the KFP repository); its endpoint starts empty."""
    write_project(tmp_path, monkeypatch)
    fake = FakeVertex()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PATCH", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(HOST) + r"/.*"), callback=fake)
        for where in (re.escape(ARTIFACT_REGISTRY), r"https://[a-z0-9-]+-kfp\.pkg\.dev"):
            mock.add_callback("GET", re.compile(where + r"/.*"), callback=fake.kfp)
        yield fake


@responses.activate
def test_train_sends_machine_accelerator_account_network_cmek_and_spot(project, capsys):
    job = f"{RES}/customJobs/77"
    responses.post(f"{API}/customJobs", json={"name": job, "displayName": "terraml-gdev-j1",
                                              "state": "JOB_STATE_PENDING"})
    responses.get(f"{HOST}/{job}", json={"name": job, "displayName": "terraml-gdev-j1",
                             "state": "JOB_STATE_RUNNING"})
    responses.get(f"{HOST}/{job}", json={"name": job, "displayName": "terraml-gdev-j1",
                             "state": "JOB_STATE_SUCCEEDED"})
    code, out, err = terraml(capsys, "train", "--env", "gdev", "--image", IMAGE, "--entry",
                             "python -m trainer --epochs 2", "--name", "terraml-gdev-j1",
                             "--env-var", "SEED=1")
    assert code == 0, err
    assert f"job: {job}" in out
    body = _body(responses.calls[0])
    pool = body["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"] == {"machineType": "n1-standard-8", "acceleratorCount": 1,
                                   "acceleratorType": v1.AcceleratorType.NVIDIA_TESLA_T4.value}
    assert pool["containerSpec"] == {"imageUri": IMAGE, "command": ["python"],
                                     "args": ["-m", "trainer", "--epochs", "2"],
                                     "env": [{"name": "SEED", "value": "1"}]}
    spec = body["jobSpec"]
    assert spec["serviceAccount"] == OUTPUTS["training_role"]
    assert spec["network"] == OUTPUTS["training_network"]
    assert spec["scheduling"] == {"timeout": "43200s",
                                  "strategy": v1.Scheduling.Strategy.SPOT.value}
    assert spec["baseOutputDirectory"]["outputUriPrefix"] == \
        "gs://terraml-dev-models/training-output/terraml-gdev-j1/"
    assert body["encryptionSpec"] == {"kmsKeyName": KEY}
    assert body["labels"]["env"] == "gdev" and body["labels"]["cost-center"] == "ml-platform"


@responses.activate
def test_train_waits_and_reports_failure(project, capsys, monkeypatch):
    monkeypatch.setattr("terraml.runtime.commands.time.sleep", lambda s: None)
    job = f"{RES}/customJobs/78"
    responses.post(f"{API}/customJobs", json={"name": job, "state": "JOB_STATE_QUEUED"})
    responses.get(f"{HOST}/{job}", json={"name": job, "state": "JOB_STATE_RUNNING"})
    responses.get(f"{HOST}/{job}", json={"name": job, "state": "JOB_STATE_FAILED",
                             "error": {"code": 3, "message": "exit code 1"}})
    code, out, err = terraml(capsys, "train", "--env", "gdev", "--image", IMAGE, "--entry",
                             "python t.py", "--wait", "--no-spot", "--accelerator", "L4")
    assert code == 3
    assert "status: failed - exit code 1" in out
    assert "running" in err
    body = _body(responses.calls[0])
    assert body["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["machineType"] == "g2-standard-8"
    assert body["jobSpec"]["scheduling"]["strategy"] == v1.Scheduling.Strategy.STANDARD.value


@responses.activate
def test_quota_is_one_line_and_rate_limits_are_retried(project, capsys):
    quota = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message":
                       "The following quota metrics exceed quota limits: aiplatform.googleapis"
                       ".com/custom_model_training_nvidia_t4_gpus"}}
    responses.post(f"{API}/customJobs", json=quota, status=429)
    code, _, err = terraml(capsys, "train", "--env", "gdev", "--image", IMAGE, "--entry", "x")
    assert code == 2
    assert err.strip().startswith("error: CreateCustomJob: RESOURCE_EXHAUSTED: The following quota")
    assert len(err.strip().splitlines()) == 1
    assert len(responses.calls) == 1  # not retried
    responses.reset()
    responses.post(f"{API}/customJobs", json={"error": {"code": 503, "status": "UNAVAILABLE",
                                                        "message": "try again"}}, status=503)
    responses.post(f"{API}/customJobs", json={"name": f"{RES}/customJobs/9",
                                              "state": "JOB_STATE_PENDING"})
    code, _, err = terraml(capsys, "train", "--env", "gdev", "--image", IMAGE, "--entry", "x")
    assert code == 0, err
    assert "retrying CreateCustomJob" in err


def _endpoint(models: list[dict], split: dict, **extra) -> dict:
    return {"name": f"{RES}/endpoints/{ENDPOINT_ID}", "deployedModels": models,
            "trafficSplit": split, **extra}


OLD = {"id": "111", "model": f"{RES}/models/5@1", "dedicatedResources": {
    "machineSpec": {"machineType": "n1-standard-4"}, "minReplicaCount": 2, "maxReplicaCount": 3},
    "createTime": "2026-11-01T00:00:00Z"}
NEW = {"id": "222", "model": f"{RES}/models/5@2", "dedicatedResources": OLD["dedicatedResources"],
       "status": {"availableReplicaCount": 2}}


@responses.activate
def test_deploy_uploads_a_version_canaries_then_moves_traffic(project, capsys):
    responses.get(f"{API}/models", json={"models": [{"name": f"{RES}/models/5",
                                                     "displayName": "terraml-gdev"}]})
    responses.post(f"{API}/models:upload", json=_op("1", {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse",
        "model": f"{RES}/models/5", "modelVersionId": "2"}))
    endpoint = f"{API}/endpoints/{ENDPOINT_ID}"
    responses.get(endpoint, json=_endpoint([OLD], {"111": 100}))
    responses.post(f"{endpoint}:deployModel", json=_op("2", {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse",
        "deployedModel": {"id": "222"}}))
    responses.get(endpoint, json=_endpoint([OLD, NEW], {"111": 90, "222": 10}))
    responses.patch(endpoint, json=_endpoint([OLD, NEW], {"222": 100}))
    responses.post(f"{endpoint}:undeployModel", json=_op("3", {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UndeployModelResponse"}))
    version = {"name": f"{RES}/models/5", "versionId": "2", "versionAliases": ["v2"],
               "labels": {"terraml-approval": "pending"}}
    responses.get(f"{API}/models/5%402", json=version)
    responses.patch(f"{API}/models/5%402", json={**version,
                                                "labels": {"terraml-approval": "approved"}})
    responses.post(f"{API}/models/5%402:mergeVersionAliases",
                   json={**version, "versionAliases": ["v2", "approved"]})
    code, out, err = terraml(capsys, "deploy-model", "--env", "gdev", "--model",
                             "gs://terraml-dev-models/run1/model", "--image", IMAGE,
                             "--version", "v2")
    assert code == 0, err
    assert "status: healthy" in out
    # the rolled-out version is approved in the registry once it serves (as on AWS / Azure)
    approval = next(c for c in responses.calls if c.request.method == "PATCH"
                    and "/models/5" in c.request.url)
    assert _body(approval)["labels"]["terraml-approval"] == "approved"
    assert _body(_sent("5%402:mergeVersionAliases"))["versionAliases"] == ["approved"]
    upload = _body(_sent("models:upload"))
    assert upload["parentModel"] == f"{RES}/models/5"
    assert upload["model"]["artifactUri"] == "gs://terraml-dev-models/run1/model"
    assert upload["model"]["containerSpec"] == {"imageUri": IMAGE}
    assert upload["model"]["encryptionSpec"] == {"kmsKeyName": KEY}
    deploy = _body(_sent(":deployModel"))
    assert deploy["trafficSplit"] == {"0": 10, "111": 90}
    model = deploy["deployedModel"]
    assert model["serviceAccount"] == OUTPUTS["serving_role"]
    assert model["model"].endswith("/models/5@2")
    assert model["dedicatedResources"] == {"machineSpec": {"machineType": "n1-standard-4"},
                                           "minReplicaCount": 2, "maxReplicaCount": 3}
    shift = next(c for c in responses.calls if c.request.method == "PATCH")
    assert "updateMask=trafficSplit" in shift.request.url
    assert _body(shift)["trafficSplit"] == {"222": 100}
    undeploy = _body(_sent(":undeployModel"))
    assert undeploy == {"deployedModelId": "111", "trafficSplit": {"222": 100}}


@responses.activate
def test_unhealthy_deployment_is_undeployed_and_its_version_deleted(project, capsys):
    responses.get(f"{API}/models", json={"models": [{"name": f"{RES}/models/5"}]})
    responses.post(f"{API}/models:upload", json=_op("1", {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse",
        "model": f"{RES}/models/5", "modelVersionId": "3"}))
    endpoint = f"{API}/endpoints/{ENDPOINT_ID}"
    responses.get(endpoint, json=_endpoint([OLD], {"111": 100}))
    responses.post(f"{endpoint}:deployModel", json=_op("2", {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse",
        "deployedModel": {"id": "333"}}))
    sick = {"id": "333", "status": {"message": "container failed its health check",
                                    "availableReplicaCount": 0}}
    responses.get(endpoint, json=_endpoint([OLD, sick], {"111": 90, "333": 10}))
    responses.post(f"{endpoint}:undeployModel", json=_op("3", {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UndeployModelResponse"}))
    responses.delete(re.compile(re.escape(API) + r"/models/5(@|%40)3:deleteVersion"), json=_op("4", {
        "@type": "type.googleapis.com/google.protobuf.Empty"}))
    code, out, _ = terraml(capsys, "deploy-model", "--env", "gdev", "--model", "gs://b/m",
                           "--image", IMAGE, "--version", "v3")
    assert code == 3
    assert "rolled back: container failed its health check" in out
    undeploy = _body(_sent(":undeployModel"))
    assert undeploy == {"deployedModelId": "333", "trafficSplit": {"111": 100}}
    deleted = [unquote(c.request.url) for c in responses.calls if c.request.method == "DELETE"]
    assert len(deleted) == 1 and "/models/5@3:deleteVersion" in deleted[0]


@responses.activate
def test_status_and_stop_idle_from_cloud_monitoring(project, capsys):
    endpoint = f"{API}/endpoints/{ENDPOINT_ID}"
    responses.get(f"{API}/customJobs", json={"customJobs": [
        {"name": f"{RES}/customJobs/1", "state": "JOB_STATE_RUNNING", "jobSpec": {
            "workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"},
                                 "replicaCount": "1"}],
            "scheduling": {"strategy": "SPOT"}}},
        {"name": f"{RES}/customJobs/2", "state": "JOB_STATE_SUCCEEDED"}]})
    responses.get(endpoint, json=_endpoint([OLD], {"111": 100},
                                           updateTime="2026-11-01T00:00:00Z"))
    instances = "https://notebooks.googleapis.com/v2/projects/ml-dev-123/locations/-/instances"
    old = (datetime.now(timezone.utc) - timedelta(hours=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    responses.get(instances, json={"instances": [
        {"name": "projects/ml-dev-123/locations/us-central1-a/instances/terraml-gdev-bob",
         "state": "ACTIVE", "gceSetup": {"machineType": "zones/us-central1-a/machineTypes/"
                                                        "n1-standard-4"}, "updateTime": old},
        {"name": "projects/ml-dev-123/locations/us-central1-a/instances/other-team",
         "state": "ACTIVE"}]})
    code, out, err = terraml(capsys, "status", "--env", "gdev")
    assert code == 0, err
    # catalog: n1-standard-4 spot 0.06701 (job), on-demand 0.189999 x2 (endpoint) + 1 notebook
    assert "0.0670" in out and "0.3800" in out and "0.1900" in out
    assert "other-team" not in out
    monitoring = "https://monitoring.googleapis.com/v3/projects/ml-dev-123/timeSeries"
    responses.get(monitoring, json={"timeSeries": [{"points": [{"value": {"int64Value": "0"}}]}]})
    responses.post("https://notebooks.googleapis.com/v2/projects/ml-dev-123/locations/"
                   "us-central1-a/instances/terraml-gdev-bob:stop", json={"name": "op"})
    responses.post(f"{endpoint}:mutateDeployedModel", json=_op("5", {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.MutateDeployedModelResponse"}))
    code, out, err = terraml(capsys, "stop-idle", "--env", "gdev", "--idle-hours", "24")
    assert code == 0, err
    assert "0 invocations in 24 h" in out and "min replicas of 111 set to 1" in out
    assert "notebook stopped" in out
    query = next(c for c in responses.calls if c.request.url.startswith(monitoring)).request.url
    assert "prediction_count" in query and ENDPOINT_ID in query
    mutate = _body(next(c for c in responses.calls if "mutateDeployedModel" in c.request.url))
    assert mutate["deployedModel"]["dedicatedResources"]["minReplicaCount"] == 1


def test_a10g_is_refused_on_gcp_before_any_call(project, capsys):
    code, _, err = terraml(capsys, "train", "--env", "gdev", "--image", IMAGE, "--entry", "x",
                           "--accelerator", "A10G")
    assert code == 2
    assert err.strip().startswith("error: accelerator A10G is not offered on gcp: it is an "
                                  "AWS-only GPU")


def test_shipped_examples_name_the_same_commands():
    assert (ROOT / "examples/gcp-dev.yaml").is_file()


def test_serving_accelerators_are_checked_by_their_neutral_name(project):
    """A Vertex endpoint on n1 + NVIDIA_TESLA_T4 is a T4 for allowed_accelerators."""
    from types import SimpleNamespace

    from core.errors import Blocked
    from core.outputs import StackOutputs
    from stacks.app import load_environment
    from terraml.runtime import commands

    env = load_environment(project / "environments/gdev.yaml")
    outputs = StackOutputs({**OUTPUTS, "serving_instance_type": "n1-standard-8",
                            "serving_accelerator_type": "NVIDIA_TESLA_T4"}, "outputs.json")
    runtime = SimpleNamespace(outputs=outputs)
    request = commands.plan_deployment(env, runtime, model="gs://b/m", image=IMAGE,
                                       version="v9")
    assert request.version == "v9"
    env.guardrails.allowed_accelerators = ["L4"]
    with pytest.raises(Blocked, match="allowed_accelerators: serving on T4, allowed: L4"):
        commands.plan_deployment(env, runtime, model="gs://b/m", image=IMAGE, version="v9")
