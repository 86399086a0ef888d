"""One `CloudRuntime` conformance suite, run on every cloud's runtime against its fake:
SageMaker in an in-process moto server, Vertex AI REST through `FakeVertex`, Azure ML
through `FakeArm` (both answered by `responses`).

Scenarios (the same assertions for every cloud): a successful rollout (the new deployment
serves 100%, the old is retired), a failed health check (the old deployment serves 100%
again, the candidate is removed, the rollout reports `rolled back: ...`), a first
deployment (nothing to canary against), and the neutral job states that `train` and
`status` see. Each `Harness` only sets up its fake and reads it back in neutral terms:
`serving()` maps every deployment that exists to its traffic percent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import pytest

from adapters.runtime import (
    CANARY_PERCENT,
    FAILED,
    PENDING,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    TERMINAL,
    CloudRuntime,
    ModelRequest,
    runtime_class,
)
from core.outputs import StackOutputs
from stacks.app import load_environment
from terraml.runtime import commands
from tests.test_runtime_aws import moto_url  # noqa: F401 - the module's moto server fixture

NEUTRAL_STATES = (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED)


class Harness(Protocol):
    """One cloud's runtime over its fake, with the fake's state read back neutrally."""

    runtime: CloudRuntime
    model_uri: str
    image: str

    def seed(self) -> str:
        """Deploy one model that serves 100% of the traffic; returns its deployment name."""

    def empty(self) -> None:
        """Leave nothing deployed behind the endpoint (or no endpoint at all)."""

    def fail_health(self, version: str) -> None:
        """Make the deployment of `version` fail its health check."""

    def serving(self) -> dict[str, int]:
        """Every deployment that exists, with its traffic percent."""

    def set_job_state(self, job_id: str, state: str) -> None:
        """Put the job into the service's own word for the neutral `state`."""


def _runtime(env_file: Path, outputs: dict, **options) -> CloudRuntime:
    env = load_environment(env_file)
    return runtime_class(env.cloud)(env, StackOutputs(outputs, "outputs.json", **options))


class AwsHarness:
    model_uri = "s3://models/m.tar.gz"

    def __init__(self, tmp_path: Path, moto: tuple[str, int], monkeypatch) -> None:
        import requests

        from tests import test_runtime_aws as aws
        from tests.aws_stack import FakeAwsStack

        requests.post(f"{moto[0]}/moto-api/reset", timeout=10)
        monkeypatch.setattr("adapters.retry.BASE_SECONDS", 0.01)
        (tmp_path / "environments").mkdir()
        env_file = tmp_path / "environments/rt.yaml"
        env_file.write_text(aws.RT_ENV)
        self.image, self.monkeypatch = aws.SERVE, monkeypatch
        self.stack = FakeAwsStack.create(tmp_path, moto[0], moto[1], "rt")
        self.sm = self.stack.c("sagemaker")
        self.runtime = _runtime(env_file, self.stack.outputs, endpoint=moto[0])
        self.runtime.poll_seconds = 0.01

    def seed(self) -> str:
        """A first terraml rollout (v0), so there is a terraml deployment to retire."""
        rollout = self.runtime.deploy_model(ModelRequest("v0", self.model_uri, self.image),
                                            lambda m: None)
        assert rollout.healthy, rollout.detail
        return rollout.deployment

    def empty(self) -> None:
        self.sm.delete_endpoint(EndpointName=self.stack.outputs["endpoint_name"])
        self.sm.delete_endpoint_config(EndpointConfigName=f"{self.stack.prefix}-placeholder")

    def fail_health(self, version: str) -> None:
        from moto.core.responses import ActionResult
        from moto.sagemaker.responses import SageMakerResponse

        def failing_update(response: SageMakerResponse) -> ActionResult:
            endpoint = response.sagemaker_backend.endpoints[response._get_param("EndpointName")]
            endpoint.failure_reason = "Alarm terraml-rt-Invocation5XXErrors fired in canary"
            return ActionResult({"EndpointArn": endpoint.arn})

        self.monkeypatch.setattr(SageMakerResponse, "update_endpoint", failing_update)

    def serving(self) -> dict[str, int]:
        """Endpoint configurations made by terraml (the stack's placeholder is Terraform's),
        the endpoint's one at 100%."""
        live = {e["EndpointName"]: self.sm.describe_endpoint(EndpointName=e["EndpointName"])[
            "EndpointConfigName"] for e in self.sm.list_endpoints()["Endpoints"]}
        names = [c["EndpointConfigName"] for c in self.sm.list_endpoint_configs()[
            "EndpointConfigs"] if "-m-" in c["EndpointConfigName"]]
        return {name: 100 if name in live.values() else 0 for name in names}

    def set_job_state(self, job_id: str, state: str) -> None:
        from moto.sagemaker.models import sagemaker_backends

        status, secondary = {PENDING: ("InProgress", "Starting"),
                             RUNNING: ("InProgress", "Training"),
                             SUCCEEDED: ("Completed", "Completed"),
                             FAILED: ("Failed", "Failed"),
                             STOPPED: ("Stopped", "Stopped")}[state]
        job = sagemaker_backends["123456789012"]["us-east-1"].training_jobs[job_id]
        job.training_job_status, job.secondary_status = status, secondary


class GcpHarness:
    model_uri = "gs://terraml-dev-models/run/model"

    def __init__(self, tmp_path: Path, monkeypatch, stack: ExitStack) -> None:
        from tests import test_runtime_gcp as gcp

        self.fake = stack.enter_context(gcp.fake_vertex(tmp_path, monkeypatch))
        self.image = gcp.IMAGE
        self.runtime = _runtime(tmp_path / "environments/gdev.yaml", gcp.OUTPUTS)

    def seed(self) -> str:
        self.fake.models[f"{self.fake_parent}"] = ["1"]
        self.fake.serve("111", f"{self.fake_parent}@1")
        return "111"

    @property
    def fake_parent(self) -> str:
        from tests.test_runtime_gcp import RES

        return f"{RES}/models/5"

    def empty(self) -> None:
        self.fake.deployed.clear()
        self.fake.split = {}

    def fail_health(self, version: str) -> None:
        self.fake.sick.add(f"-{version}")

    def serving(self) -> dict[str, int]:
        return {deployed: int(self.fake.split.get(deployed, 0)) for deployed in self.fake.deployed}

    def set_job_state(self, job_id: str, state: str) -> None:
        self.fake.jobs[job_id]["state"] = {
            PENDING: "JOB_STATE_QUEUED", RUNNING: "JOB_STATE_RUNNING",
            SUCCEEDED: "JOB_STATE_SUCCEEDED", FAILED: "JOB_STATE_FAILED",
            STOPPED: "JOB_STATE_CANCELLED"}[state]


class AzureHarness:
    model_uri = "azureml://datastores/workspaceblobstore/paths/models/m"

    def __init__(self, tmp_path: Path, monkeypatch, stack: ExitStack) -> None:
        from tests import test_runtime_azure as azure

        self.fake = stack.enter_context(azure.fake_arm(tmp_path, monkeypatch))
        self.endpoint = f"{azure.WS}/onlineEndpoints/terraml-adev-endpoint".lower()
        self.jobs = f"{azure.WS}/jobs/".lower()
        self.image = "terramladev.azurecr.io/serve:1.0"
        self.runtime = _runtime(tmp_path / "environments/adev.yaml", azure.OUTPUTS)

    def seed(self) -> str:
        return "blue"  # the fake's endpoint starts with `blue` at 100%

    def empty(self) -> None:
        self.fake.items.pop(f"{self.endpoint}/deployments/blue")
        self.fake.items[self.endpoint]["properties"]["traffic"] = {}

    def fail_health(self, version: str) -> None:
        self.fake.fail_deployments.add(f"m-{version}")

    def serving(self) -> dict[str, int]:
        traffic = self.fake.items[self.endpoint]["properties"].get("traffic") or {}
        prefix = f"{self.endpoint}/deployments/"
        names = [item["name"] for key, item in self.fake.items.items()
                 if key.startswith(prefix)]
        return {name: int(traffic.get(name, 0)) for name in names}

    def set_job_state(self, job_id: str, state: str) -> None:
        self.fake.items[f"{self.jobs}{job_id}".lower()]["properties"]["status"] = {
            PENDING: "Queued", RUNNING: "Running", SUCCEEDED: "Completed",
            FAILED: "Failed", STOPPED: "Canceled"}[state]


@pytest.fixture(params=["aws", "gcp", "azure"])
def cloud(request, tmp_path: Path, monkeypatch) -> Iterator[Harness]:
    if request.param != "aws":
        pytest.importorskip({"gcp": "google.cloud.aiplatform_v1",
                             "azure": "azure.ai.ml"}[request.param])
    with ExitStack() as stack:
        if request.param == "aws":
            yield AwsHarness(tmp_path, request.getfixturevalue("moto_url"), monkeypatch)
        elif request.param == "gcp":
            yield GcpHarness(tmp_path, monkeypatch, stack)
        else:
            yield AzureHarness(tmp_path, monkeypatch, stack)


def _deploy(cloud: Harness, version: str, steps: list[str] | None = None):
    request = ModelRequest(version, cloud.model_uri, cloud.image)
    return cloud.runtime.deploy_model(request, (steps if steps is not None else []).append)


def test_rollout_gives_the_new_deployment_all_traffic_and_retires_the_old(cloud: Harness):
    old = cloud.seed()
    steps: list[str] = []
    rollout = _deploy(cloud, "v1", steps)
    assert rollout.healthy, rollout.detail
    assert rollout.deployment != old
    assert cloud.serving() == {rollout.deployment: 100}
    assert steps[0].startswith("registered ")
    assert any(step.startswith(f"{CANARY_PERCENT}% of traffic to ") for step in steps)


def test_failed_health_check_restores_the_old_and_removes_the_candidate(cloud: Harness):
    old = cloud.seed()
    cloud.fail_health("v2")
    rollout = _deploy(cloud, "v2")
    assert not rollout.healthy
    assert rollout.detail.startswith("rolled back: ")
    assert cloud.serving() == {old: 100}


def test_first_deployment_takes_all_traffic_without_a_canary(cloud: Harness):
    cloud.empty()
    steps: list[str] = []
    rollout = _deploy(cloud, "v1", steps)
    assert rollout.healthy, rollout.detail
    assert cloud.serving() == {rollout.deployment: 100}
    assert not any("% of traffic to " in step for step in steps)


def test_train_and_status_see_neutral_job_states(cloud: Harness):
    env = cloud.runtime.env
    request = commands.plan_training(env, image=cloud.image, entry="python train.py",
                                     name=f"{env.prefix}-conformance")
    job = cloud.runtime.submit_training(request)
    assert job.state in NEUTRAL_STATES
    for state in NEUTRAL_STATES:
        cloud.set_job_state(job.job_id, state)
        assert cloud.runtime.job(job.job_id).state == state
        running = [j.job_id for j in cloud.runtime.running_jobs()]
        assert (job.job_id in running) == (state not in TERMINAL), state
