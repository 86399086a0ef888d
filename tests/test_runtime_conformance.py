"""One `CloudRuntime` conformance suite, run on every cloud's runtime against its fake:
SageMaker in an in-process moto server, Vertex AI REST through `FakeVertex`, Azure ML
through `FakeArm` (both answered by `responses`).

Scenarios (the same assertions for every cloud): a successful rollout (the new deployment
serves 100%, the old is retired), a failed health check (the old deployment serves 100%
again, the candidate is removed, the rollout reports `rolled back: ...`), a first
deployment (nothing to canary against), the neutral job states that `train` and
`status` see; the model registry: a version the pipeline registered pending approval is
listed with its metrics, approved or rejected with a reason; an approved version is rolled
out as registered (nothing registered again); outside dev the deploy-model gate
(`plan_deployment`, rule model_approval) refuses what is not approved; and pipeline runs
started through the runtime read back in the neutral states.

Each `Harness` only sets up its fake and reads it back in neutral terms: `serving()` maps
every deployment that exists to its traffic percent, `registered()` counts the versions in
the fake's registry, `pending_version()` registers one the way that cloud's pipeline
register step does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import pytest

from adapters.runtime import (
    APPROVAL_KEY,
    APPROVED,
    CANARY_PERCENT,
    FAILED,
    PENDING,
    PENDING_APPROVAL,
    REJECTED,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    TERMINAL,
    CloudRuntime,
    ModelRequest,
    runtime_class,
)
from core.errors import Blocked, UserError
from core.outputs import StackOutputs
from core.spec import Environment
from stacks.app import load_environment
from terraml.runtime import commands
from terraml.runtime.pipeline import find_version
from tests.test_runtime_aws import moto_url  # noqa: F401 - the module's moto server fixture

NEUTRAL_STATES = (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED)


class Harness(Protocol):
    """One cloud's runtime over its fake, with the fake's state read back neutrally."""

    runtime: CloudRuntime
    model_uri: str
    image: str
    env_file: Path  # the environment file `runtime` was made from (tier staging)

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

    def pending_version(self, metrics: dict[str, float]) -> str:
        """Register one model version pending approval with `metrics`, as the cloud's
        pipeline register step does; returns its version as `model_versions()` shows it."""

    def registered(self) -> int:
        """How many model versions the fake's registry holds."""

    def served_model(self, deployment: str) -> str:
        """The registry id (`ModelVersion.model_id` form) the deployment serves."""

    def add_pipeline(self) -> None:
        """Deploy the environment's training pipeline into the fake (what `pipeline:` and
        `terraml pipeline deploy` make) and reopen `runtime` on the stack's outputs."""

    def set_run_state(self, run_id: str, state: str) -> bool:
        """Put the pipeline run, and its step `train`, into the service's word for the
        neutral `state`; False when the service has no word for it."""


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
        self.env_file = tmp_path / "environments/rt.yaml"
        self.env_file.write_text(aws.RT_ENV)
        self.image, self.monkeypatch, self.moto = aws.SERVE, monkeypatch, moto
        self.stack = FakeAwsStack.create(tmp_path, moto[0], moto[1], "rt")
        self.sm = self.stack.c("sagemaker")
        self._open()

    def _open(self) -> None:
        self.runtime = _runtime(self.env_file, self.stack.outputs, endpoint=self.moto[0])
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

    def pending_version(self, metrics: dict[str, float]) -> str:
        return self.stack.register_version(self.model_uri, self.image, metrics)

    def registered(self) -> int:
        return self.stack.registered()

    def served_model(self, deployment: str) -> str:
        """The model package behind the deployment's model (both named after it)."""
        return self.sm.describe_model(ModelName=deployment)["PrimaryContainer"][
            "ModelPackageName"]

    def add_pipeline(self) -> None:
        """A train-only pipeline: the emulator walks it at once (containers never run)."""
        from tests import test_runtime_aws as aws

        self.env_file.write_text(aws.RT_ENV + "pipeline:\n  steps:\n"
                                 f"    train: {{image: {aws.IMAGE}, command: python t.py}}\n")
        self.stack.add_pipeline(load_environment(self.env_file))
        self._open()

    def set_run_state(self, run_id: str, state: str) -> bool:
        """SageMaker executions are Executing, Succeeded, Failed or Stopped: no pending."""
        from moto.sagemaker.models import sagemaker_backends

        from terraml.local.pipeline_runs import runs

        status = {RUNNING: "Executing", SUCCEEDED: "Succeeded", FAILED: "Failed",
                  STOPPED: "Stopped"}.get(state)
        if status is None:
            return False
        backend = sagemaker_backends["123456789012"]["us-east-1"]
        (execution,) = [p.pipeline_executions[run_id] for p in backend.pipelines.values()
                        if run_id in p.pipeline_executions]
        execution.pipeline_execution_status = status
        for step in runs(backend)[run_id].steps:
            if step["StepName"] == "train":
                step["StepStatus"] = {PENDING: "Starting", RUNNING: "Executing",
                                      SUCCEEDED: "Succeeded", FAILED: "Failed",
                                      STOPPED: "Stopped"}[state]
        return True


class GcpHarness:
    model_uri = "gs://terraml-dev-models/run/model"

    def __init__(self, tmp_path: Path, monkeypatch, stack: ExitStack) -> None:
        from tests import test_runtime_gcp as gcp

        self.fake = stack.enter_context(gcp.fake_vertex(tmp_path, monkeypatch))
        self.image = gcp.IMAGE
        self.env_file = tmp_path / "environments/gdev.yaml"
        self.runtime = _runtime(self.env_file, gcp.OUTPUTS)

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

    def pending_version(self, metrics: dict[str, float]) -> str:
        """The pipeline's own register program (adapters/gcp/pipeline_steps.py) run against
        the fake, with the arguments the compiled template gives it for manual approval."""
        from adapters.gcp import pipeline_steps
        from tests.test_runtime_gcp import KEY

        model = self.runtime.registry_model()
        run = f"{self.runtime.env.prefix}-training-{self.registered() + 1}"
        api = pipeline_steps.Vertex("us-central1", opener=self.fake.urlopen,
                                    sleep=lambda s: None)
        labels = {**self.runtime._labels(), APPROVAL_KEY: PENDING_APPROVAL}
        line = pipeline_steps.register(
            api, model, model.rsplit("/", 1)[-1], f"gs://terraml-dev-artifacts/{run}/model",
            self.image, KEY, json.dumps(labels), "pending", json.dumps(metrics), run)
        assert line.endswith("(pending)"), line
        return self.fake.models[model][-1]

    def registered(self) -> int:
        return sum(len(versions) for versions in self.fake.models.values())

    def served_model(self, deployment: str) -> str:
        return self.fake.deployed[deployment]["model"]

    def add_pipeline(self) -> None:
        """The pipeline outputs the stack makes, and a template in the KFP repository tagged
        `latest` (what `terraml pipeline deploy` uploads; the fake does not run it)."""
        from tests import test_runtime_gcp as gcp

        repo = "https://us-central1-kfp.pkg.dev/ml-dev-123/terraml-gdev-pipelines"
        name = "terraml-gdev-training"
        outputs = {**gcp.OUTPUTS, "pipeline_name": name, "pipeline_template_repo": repo,
                   "pipeline_role": "terraml-gdev-pipeline@ml-dev-123.iam.gserviceaccount.com",
                   "pipeline_root": "gs://terraml-dev-artifacts/pipelines",
                   "pipeline_network": gcp.OUTPUTS["training_network"],
                   "pipeline_kms_key": gcp.KEY,
                   "pipeline_model": f"{gcp.RES}/models/terraml-gdev-model"}
        self.fake.put_template(repo, name, json.dumps({
            "pipelineInfo": {"name": name}, "root": {"dag": {"tasks": {}}},
            "schemaVersion": "2.1.0"}))  # JSON is YAML
        self.runtime = _runtime(self.env_file, outputs)

    def set_run_state(self, run_id: str, state: str) -> bool:
        job = self.fake.pipeline_jobs[run_id]
        job["state"] = {PENDING: "PIPELINE_STATE_PENDING", RUNNING: "PIPELINE_STATE_RUNNING",
                        SUCCEEDED: "PIPELINE_STATE_SUCCEEDED", FAILED: "PIPELINE_STATE_FAILED",
                        STOPPED: "PIPELINE_STATE_CANCELLED"}[state]
        job["jobDetail"] = {"taskDetails": [{"taskName": "train", "state": {
            PENDING: "PENDING", RUNNING: "RUNNING", SUCCEEDED: "SUCCEEDED", FAILED: "FAILED",
            STOPPED: "CANCELLED"}[state]}]}
        return True


class AzureHarness:
    model_uri = "azureml://datastores/workspaceblobstore/paths/models/m"

    def __init__(self, tmp_path: Path, monkeypatch, stack: ExitStack) -> None:
        from tests import test_runtime_azure as azure
        from tests.test_pipeline_azure import FakeAzureMl

        # ARM plus Azure ML's discovery and run history (the steps of pipeline runs)
        self.fake = stack.enter_context(azure.fake_arm(tmp_path, monkeypatch, FakeAzureMl()))
        self.endpoint = f"{azure.WS}/onlineEndpoints/terraml-adev-endpoint".lower()
        self.jobs = f"{azure.WS}/jobs/".lower()
        self.image = "terramladev.azurecr.io/serve:1.0"
        self.env_file = tmp_path / "environments/adev.yaml"
        self.runtime = _runtime(self.env_file, azure.OUTPUTS)

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

    def pending_version(self, metrics: dict[str, float]) -> str:
        """A version of `<prefix>-model` as the register step's `az rest` PUT leaves it
        (stage Development; tags: the metrics, the approval, the pipeline and the run)."""
        number = self.registered() + 1
        version = f"202611080300{number:02d}"  # the step names versions by UTC time
        self.fake.version(version, PENDING_APPROVAL, f"2026-11-08T04:00:{number:02d}Z",
                          **{name: str(value) for name, value in metrics.items()},
                          **{"terraml-pipeline": "terraml-adev-training",
                             "terraml-run": f"register_run_{number}"})
        return version

    def registered(self) -> int:
        return sum(1 for key in self.fake.items if "/models/" in key and "/versions/" in key)

    def served_model(self, deployment: str) -> str:
        """The deployment's model (an ARM id) as `azureml:<model>:<version>`."""
        model = self.fake.items[f"{self.endpoint}/deployments/{deployment}".lower()][
            "properties"]["model"].split("/")
        return f"azureml:{model[-3]}:{model[-1]}"

    def add_pipeline(self) -> None:
        """The pipeline environment and stack outputs of tests/test_pipeline_azure.py (Azure
        ML keeps no pipeline definition: each run is built from the file)."""
        from tests import test_pipeline_azure as pipeline

        self.env_file.write_text(pipeline.ENV)
        self.runtime = _runtime(self.env_file, pipeline.OUTPUTS)

    def set_run_state(self, run_id: str, state: str) -> bool:
        word = {PENDING: "Queued", RUNNING: "Running", SUCCEEDED: "Completed",
                FAILED: "Failed", STOPPED: "Canceled"}[state]
        self.fake.items[f"{self.jobs}{run_id}".lower()]["properties"]["status"] = word
        self.fake.children[run_id] = [{"runId": f"{run_id}-train", "displayName": "train",
                                       "status": word, "createdUtc": "2026-11-08T03:01:00Z",
                                       "lastModifiedUtc": "2026-11-08T03:20:00Z"}]
        return True


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


# -- the model registry ------------------------------------------------------------------

# The gate's metric: every cloud's register step records it (AWS records only that one).
AUC = "auc"


def test_approval_round_trip_reads_back_from_the_registry(cloud: Harness):
    first = cloud.pending_version({AUC: 0.91})
    second = cloud.pending_version({AUC: 0.62})
    listed = cloud.runtime.model_versions()
    assert [v.version for v in listed] == [second, first]  # newest first
    for found, auc in zip(listed, (0.62, 0.91), strict=True):
        assert (found.approval, found.metrics, found.detail) == (PENDING_APPROVAL, {AUC: auc}, "")
        assert found.model_uri.startswith(commands.MODEL_SCHEMES[cloud.runtime.cloud])

    approved = cloud.runtime.set_approval(first, True, "auc 0.91 beats the baseline")
    assert (approved.version, approved.approval, approved.detail) == \
        (first, APPROVED, "auc 0.91 beats the baseline")
    rejected = cloud.runtime.set_approval(second, False, "auc 0.62 is under the 0.8 bar")
    assert (rejected.version, rejected.approval, rejected.detail) == \
        (second, REJECTED, "auc 0.62 is under the 0.8 bar")
    again = {v.version: v for v in cloud.runtime.model_versions()}  # read back, not echoed
    assert {v: (found.approval, found.detail, found.metrics) for v, found in again.items()} == {
        first: (APPROVED, "auc 0.91 beats the baseline", {AUC: 0.91}),
        second: (REJECTED, "auc 0.62 is under the 0.8 bar", {AUC: 0.62})}
    assert [v.model_id or v.version for v in again.values()] == \
        [v.model_id or v.version for v in listed]  # the same versions, nothing new
    with pytest.raises(UserError):
        cloud.runtime.set_approval("99", True, "no such version")


def test_a_decision_without_a_reason_shows_no_earlier_reason(cloud: Harness):
    """`ModelVersion.detail` is the reason of the last decision, if any: approving a rejected
    version without one (`terraml approve --version V`; --reason defaults to "") must not
    show the rejection's reason as the approval's."""
    version = cloud.pending_version({AUC: 0.7})
    cloud.runtime.set_approval(version, False, "auc 0.7 is under the 0.8 bar")
    assert cloud.runtime.set_approval(version, True, "").detail == ""
    (found,) = [v for v in cloud.runtime.model_versions() if v.version == version]
    assert (found.approval, found.detail) == (APPROVED, "")


def test_an_approved_registry_version_rolls_out_without_registering_again(cloud: Harness):
    old = cloud.seed()
    version = cloud.runtime.set_approval(cloud.pending_version({AUC: 0.91}), True, "good")
    registered = cloud.registered()
    steps: list[str] = []
    rollout = cloud.runtime.deploy_model(
        ModelRequest("r1", version.model_uri, cloud.image,
                     registered=version.model_id or version.version), steps.append)
    assert rollout.healthy, rollout.detail
    assert rollout.deployment != old
    assert cloud.serving() == {rollout.deployment: 100}
    assert steps[0].startswith("deploying registry version ")
    assert not any(step.startswith("registered ") for step in steps)
    assert cloud.registered() == registered
    assert rollout.model_id == cloud.served_model(rollout.deployment) == \
        (version.model_id or version.version)
    (after,) = [v for v in cloud.runtime.model_versions() if v.version == version.version]
    assert after.approval == APPROVED  # deploying leaves the decision as it was


def _approval_gated(cloud: Harness) -> Environment:
    """The harness's (staging) environment with the model_approval rule blocking again (the
    runtime tests' files turn it off to roll artifacts out)."""
    text = cloud.env_file.read_text()
    gated = text.replace('model_approval: "off"', "model_approval: block")
    assert gated != text
    cloud.env_file.write_text(gated)
    env = load_environment(cloud.env_file)
    assert not env.is_dev
    return env


def test_outside_dev_deploy_model_takes_only_approved_registry_versions(cloud: Harness):
    env = _approval_gated(cloud)
    pending = cloud.pending_version({AUC: 0.91})
    weak = cloud.pending_version({AUC: 0.62})
    cloud.runtime.set_approval(weak, False, "auc 0.62 is under the 0.8 bar")

    def plan(registered=None, model=""):
        return commands.plan_deployment(env, cloud.runtime, model=model, image=cloud.image,
                                        version="r1", registered=registered)

    for version, said in ((pending, "pending"), (weak, "rejected")):
        with pytest.raises(Blocked) as refused:
            plan(find_version(cloud.runtime, version, False))
        assert refused.value.rule == "model_approval"
        assert f"model version {version} is {said} in the model registry" in str(refused.value)
    with pytest.raises(Blocked, match="model_approval: --model .* is not a registry version"):
        plan(model=cloud.model_uri)
    with pytest.raises(UserError, match="no approved version"):
        find_version(cloud.runtime, None, True)

    cloud.runtime.set_approval(pending, True, "auc 0.91 beats the baseline")
    approved = find_version(cloud.runtime, None, True)  # --latest-approved
    assert approved.version == pending
    request = plan(approved)
    assert (request.registered, request.model_uri, request.image) == \
        (approved.model_id or approved.version, approved.model_uri, cloud.image)


# -- pipeline runs ---------------------------------------------------------------------------


def test_pipeline_runs_read_back_in_neutral_states(cloud: Harness):
    """A run started through the runtime is found by its id and listed; each neutral state
    the service has a word for reads back for the run, its `train` step and the listing."""
    cloud.add_pipeline()
    started = cloud.runtime.start_pipeline()
    assert started.run_id and started.state in NEUTRAL_STATES
    assert cloud.runtime.pipeline_run(started.run_id).run_id == started.run_id
    assert [run.run_id for run in cloud.runtime.pipeline_runs()] == [started.run_id]
    unsaid = []
    for state in NEUTRAL_STATES:
        if not cloud.set_run_state(started.run_id, state):
            unsaid.append(state)
            continue
        run = cloud.runtime.pipeline_run(started.run_id)
        assert (run.state, run.finished) == (state, state in TERMINAL)
        assert [step.state for step in run.steps if step.name == "train"] == [state]
        assert [r.state for r in cloud.runtime.pipeline_runs()] == [state]
    # SageMaker pipeline executions have no pending status (Executing is their first)
    assert unsaid == ([PENDING] if cloud.runtime.cloud == "aws" else [])
