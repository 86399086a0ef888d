"""Azure runtime through the CLI (in process): `azure-ai-ml` with a fake credential against
a small in-memory ARM answered by `responses` (PUT stores, GET returns, DELETE removes).
Asserts the request bodies: cluster, image, identity, limits, model version, deployment
size, traffic steps; rollback; Azure Monitor driven stop-idle; compute instances."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jwt
import pytest
import responses
from azure.core.credentials import AccessToken, AccessTokenInfo

pytest.importorskip("azure.ai.ml")

SUB = "00000000-0000-0000-0000-0000000000aa"
WS = (f"/subscriptions/{SUB}/resourceGroups/rg-terraml-adev/providers/"
      "Microsoft.MachineLearningServices/workspaces/mlw-terraml-adev")
OUTPUTS = {"environment": "adev", "cloud": "azure", "region": "eastus",
           "resource_group": "rg-terraml-adev", "workspace": "mlw-terraml-adev",
           "training_compute": "gpu-adev", "training_instance_type": "Standard_NC4as_T4_v3",
           "training_spot": True, "training_max_runtime_seconds": 43200,
           "endpoint_name": "terraml-adev-endpoint", "serving_mode": "realtime",
           "serving_instance_type": "Standard_D4s_v3", "serving_min_replicas": 2,
           "serving_max_replicas": 3}
ENV = f"""name: adev
cloud: azure
region: eastus
tier: staging
subscription_id: {SUB}
training: {{accelerator: T4, spot: true, max_runtime_hours: 12}}
serving: {{mode: realtime, size: medium, min_instances: 2, max_instances: 3}}
# These tests roll artifacts out (--model); the approval gate has its own tests
# (tests/test_pipeline_azure.py).
guardrails: {{actions: {{model_approval: "off"}}}}
"""
IMAGE = "terramladev.azurecr.io/train:1.0"


# azure-ai-ml decodes the token of pipeline job requests and requires this audience.
TOKEN = jwt.encode({"aud": "https://ml.azure.com", "tid": "tenant"},
                   "a-test-key-of-at-least-32-bytes!!", algorithm="HS256")


class FakeCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken(TOKEN, int(time.time()) + 3600)

    def get_token_info(self, *scopes, **kwargs):
        return AccessTokenInfo(TOKEN, int(time.time()) + 3600)


class FakeArm:
    """PUT stores the body (provisioned at once; an update keeps the item's `systemData`, its
    creation time, as ARM does), GET returns it or the collection under a path, DELETE
    removes it; every request is kept for assertions. Requests to other hosts (Azure ML's
    discovery and run history, which subclasses such as tests/test_pipeline_azure.py's
    `FakeAzureMl` answer) are 404 here."""

    def __init__(self) -> None:
        self.items: dict[str, dict] = {}
        self.sent: list[tuple[str, str, dict]] = []
        self.fail_deployments: set[str] = set()
        self.metrics: dict = {"value": []}
        self.throttle_jobs = 0  # answer this many job PUTs with 429 first

    def __call__(self, request):
        if "//management.azure.com/" not in request.url:
            return 404, {}, json.dumps({"error": {"code": "NotFound", "message": request.url}})
        path = request.url.split("?")[0].split("management.azure.com")[1]
        body = json.loads(request.body) if request.body else {}
        self.sent.append((request.method, path, body))
        if "/jobs/" in path and request.method == "PUT" and self.throttle_jobs:
            self.throttle_jobs -= 1
            return 429, {"Retry-After": "0"}, json.dumps({"error": {
                "code": "TooManyRequests", "message": "slow down"}})
        if path.endswith("/providers/Microsoft.Insights/metrics"):
            return 200, {}, json.dumps(self.metrics)
        if request.method == "PUT":
            item = {**body, "id": path, "name": path.rsplit("/", 1)[-1]}
            props = item.setdefault("properties", {})
            props["provisioningState"] = "Failed" if item["name"] in self.fail_deployments \
                else "Succeeded"
            if "/jobs/" in path:
                props["status"] = "Queued"
            if "/models/" in path:
                props.setdefault("flavors", {})  # the service always answers with flavors
            if "/deployments/" in path:
                props.setdefault("scaleSettings", {"scaleType": "Default"})
            existing = self.items.get(path.lower()) or {}
            if "systemData" in existing and "systemData" not in item:
                item["systemData"] = existing["systemData"]
            self.items[path.lower()] = item
            return 200, {}, json.dumps(item)
        if request.method == "DELETE":
            self.items.pop(path.lower(), None)
            return 200, {}, "{}"
        if request.method == "POST" and path.endswith("/stop"):
            self.items[path[:-5].lower()]["properties"]["properties"]["state"] = "Stopped"
            return 202, {}, ""
        if path.lower() in self.items:
            return 200, {}, json.dumps(self.items[path.lower()])
        children = [v for k, v in self.items.items()
                    if k.startswith(path.lower() + "/") and "/" not in k[len(path) + 1:]]
        if children or path.endswith(("/jobs", "/deployments", "/computes")):
            return 200, {}, json.dumps({"value": children})
        return 404, {}, json.dumps({"error": {"code": "NotFound", "message": f"{path} not found"}})

    def bodies(self, method: str, fragment: str) -> list[dict]:
        return [b for m, p, b in self.sent if m == method and fragment in p]

    def put(self, path: str, body: dict) -> None:
        self.items[path.lower()] = {**body, "id": path, "name": path.rsplit("/", 1)[-1]}


@contextmanager
def fake_arm(tmp_path: Path, monkeypatch, fake: FakeArm | None = None) -> Iterator[FakeArm]:
    """The project (environment file, outputs) in `tmp_path` and an in-memory ARM with the
    stack's workspace and endpoint, whose deployment `blue` serves 100% of the traffic.
    `fake`: a `FakeArm` subclass instance to answer instead (it also gets the requests to
    the workspace's Azure ML API host, eastus.api.azureml.ms)."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments/adev.yaml").write_text(ENV)
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("adapters.azure.runtime.credential", FakeCredential)
    monkeypatch.setattr("adapters.retry.BASE_SECONDS", 0.01)
    fake = fake if fake is not None else FakeArm()
    fake.put(WS, {"location": "eastus", "identity": {"type": "SystemAssigned"},
                  "properties": {"discoveryUrl": "https://eastus.api.azureml.ms/discovery"}})
    fake.put(f"{WS}/onlineEndpoints/terraml-adev-endpoint", {
        "location": "eastus", "identity": {"type": "SystemAssigned"},
        "properties": {"authMode": "Key", "traffic": {"blue": 100},
                       "provisioningState": "Succeeded"}})
    fake.put(f"{WS}/onlineEndpoints/terraml-adev-endpoint/deployments/blue", {
        "location": "eastus", "sku": {"name": "Default", "capacity": 2},
        "properties": {"endpointComputeType": "Managed", "instanceType": "Standard_D4s_v3",
                       "provisioningState": "Succeeded", "model": "azureml:terraml-adev:v0",
                       "scaleSettings": {"scaleType": "Default"}},
        "systemData": {"createdAt": "2026-11-01T00:00:00Z",
                       "lastModifiedAt": "2026-11-01T00:00:00Z"}})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "PUT", "POST", "DELETE", "PATCH"):
            mock.add_callback(method, re.compile(r"https://(management\.azure\.com|eastus\.api"
                                                 r"\.azureml\.ms)/.*"), callback=fake)
        yield fake


@pytest.fixture
def arm(tmp_path: Path, monkeypatch):
    with fake_arm(tmp_path, monkeypatch) as fake:
        yield fake


def terraml(capsys, *args: str) -> tuple[int, str, str]:
    from terraml import cli

    argv, sys.argv = sys.argv, ["terraml", *args, "--outputs", "outputs.json"]
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_submits_a_command_job_on_the_stacks_cluster(arm, capsys):
    code, out, err = terraml(capsys, "train", "--env", "adev", "--image", IMAGE, "--entry",
                             "python train.py --lr 0.1", "--name", "terraml-adev-j1",
                             "--env-var", "SEED=3")
    assert code == 0, err
    assert "job: terraml-adev-j1" in out and "status: pending" in out
    (job,) = arm.bodies("PUT", "/jobs/terraml-adev-j1")
    props = job["properties"]
    assert props["jobType"] == "Command"
    assert props["command"] == "python train.py --lr 0.1"
    assert props["computeId"].endswith("/computes/gpu-adev")
    assert props["experimentName"] == "terraml-adev"
    assert props["environmentVariables"] == {"SEED": "3"}
    assert props["identity"]["identityType"] == "Managed"
    assert props["limits"]["timeout"] == "PT12H"
    assert props["tags"]["env"] == "adev"
    (environment,) = arm.bodies("PUT", "/environments/")
    assert environment["properties"]["image"] == IMAGE


def test_train_refuses_sizes_the_cluster_does_not_have(arm, capsys):
    code, _, err = terraml(capsys, "train", "--env", "adev", "--image", IMAGE, "--entry", "x",
                           "--accelerator", "A100")
    assert code == 2
    assert err.startswith("error: --accelerator: Azure trains on the stack's cluster gpu-adev")
    code, _, err = terraml(capsys, "train", "--env", "adev", "--image", IMAGE, "--entry", "x",
                           "--accelerator", "L4")
    assert code == 2 and "accelerator L4 is not offered on azure" in err
    assert not arm.bodies("PUT", "/jobs/")


def test_deploy_creates_a_green_deployment_then_shifts_traffic(arm, capsys):
    code, out, err = terraml(capsys, "deploy-model", "--env", "adev", "--model",
                             "azureml://datastores/workspaceblobstore/paths/models/m1",
                             "--image", "terramladev.azurecr.io/serve:1.0", "--version", "v1")
    assert code == 0, out + err
    assert "status: healthy" in out
    # the registry model; pending until it serves, then approved (as on AWS / GCP)
    registered, approved = arm.bodies("PUT", "/models/terraml-adev-model/versions/v1")
    assert registered["properties"]["modelUri"].endswith("paths/models/m1")
    assert registered["properties"]["tags"]["terraml-approval"] == "pending"
    assert approved["properties"]["tags"]["terraml-approval"] == "approved"
    (deployment,) = arm.bodies("PUT", "/deployments/m-v1")
    assert deployment["sku"]["capacity"] == 2
    assert deployment["properties"]["instanceType"] == "Standard_D4s_v3"
    assert deployment["properties"]["egressPublicNetworkAccess"].lower() == "disabled"
    assert deployment["properties"]["model"].endswith("terraml-adev-model/versions/v1")
    assert not deployment["properties"].get("dataCollector")  # no drift on the endpoint
    steps = [b["properties"]["traffic"] for b in arm.bodies("PUT", "/onlineEndpoints/terraml-"
                                                                   "adev-endpoint")
             if "traffic" in b.get("properties", {})]
    assert steps == [{"m-v1": 10, "blue": 90}, {"m-v1": 100}]
    assert [p for m, p, _ in arm.sent if m == "DELETE"] == [
        f"{WS}/onlineEndpoints/terraml-adev-endpoint/deployments/blue"]


def test_deployment_collects_its_inputs_when_drift_watches_the_endpoint(arm, capsys):
    """Azure ML model monitoring reads a deployment's collected inputs as production data."""
    env = Path("environments/adev.yaml")
    env.write_text(env.read_text() + "monitoring:\n  drift:\n    baseline: artifacts/drift/\n"
                   "    features: [age]\n")
    code, out, err = terraml(capsys, "deploy-model", "--env", "adev", "--model",
                             "azureml://datastores/workspaceblobstore/paths/models/m1",
                             "--image", "terramladev.azurecr.io/serve:1.0", "--version", "v1")
    assert code == 0, out + err
    (deployment,) = arm.bodies("PUT", "/deployments/m-v1")
    collections = deployment["properties"]["dataCollector"]["collections"]
    assert {name: item["dataCollectionMode"].lower() for name, item in collections.items()} == {
        "model_inputs": "enabled", "model_outputs": "enabled"}


def test_failed_deployment_restores_traffic_and_is_deleted(arm, capsys):
    arm.fail_deployments.add("m-v2")
    code, out, _ = terraml(capsys, "deploy-model", "--env", "adev", "--model",
                           "azureml://datastores/workspaceblobstore/paths/models/m2", "--image",
                           "terramladev.azurecr.io/serve:2.0", "--version", "v2")
    assert code == 3
    assert "rolled back: deployment m-v2 is Failed" in out
    assert not [b for b in arm.bodies("PUT", "/onlineEndpoints/") if "traffic" in b.get(
        "properties", {})]  # traffic never left blue
    assert [p for m, p, _ in arm.sent if m == "DELETE"] == [
        f"{WS}/onlineEndpoints/terraml-adev-endpoint/deployments/m-v2"]


def test_status_and_stop_idle_from_azure_monitor(arm, capsys):
    arm.put(f"{WS}/computes/ci-alice", {"location": "eastus", "properties": {
        "computeType": "ComputeInstance", "properties": {
            "vmSize": "Standard_DS3_v2", "state": "Running"}}})
    code, out, err = terraml(capsys, "status", "--env", "adev")
    assert code == 0, err
    # catalog: Standard_D4s_v3 0.192/h x2 (endpoint) + Standard_DS3_v2 0.293/h (instance)
    assert "0.3840" in out and "0.2930" in out
    arm.metrics = {"value": [{"timeseries": [{"data": [{"total": 0}, {"total": None}]}]}]}
    code, out, err = terraml(capsys, "stop-idle", "--env", "adev", "--idle-hours", "6")
    assert code == 0, err
    assert "0 invocations in 6 h" in out and "blue scaled to 1 instance" in out
    assert "compute instance stopped" in out
    (update,) = arm.bodies("PUT", "/deployments/blue")
    assert update["sku"]["capacity"] == 1
    metrics = [p for m, p, _ in arm.sent if p.endswith("Microsoft.Insights/metrics")]
    assert metrics == [(f"{WS}/onlineEndpoints/terraml-adev-endpoint/providers/"
                       "Microsoft.Insights/metrics")]


def test_throttling_is_retried_with_backoff(arm, capsys):
    arm.throttle_jobs = 2
    code, _, err = terraml(capsys, "train", "--env", "adev", "--image", IMAGE, "--entry", "x")
    assert code == 0, err
    assert arm.throttle_jobs == 0
    assert len(arm.bodies("PUT", "/jobs/")) == 3


def test_missing_subscription_is_one_line(arm, capsys):
    Path("environments/adev.yaml").write_text(ENV.replace(f"subscription_id: {SUB}\n", ""))
    code, _, err = terraml(capsys, "status", "--env", "adev")
    assert code == 2
    assert err.strip().splitlines() == [
        ("error: environments/adev.yaml:1: subscription_id: the Azure runtime needs the "
        "subscription id: expected a value, found none")]
