"""The runtime half of an adapter: drive a cloud's ML service against what the stack made.

One `CloudRuntime` subclass per cloud (`adapters/<cloud>/runtime.py`), loaded by
`runtime_class`. The CLI (`terraml.runtime.commands`) talks only to this interface and the
neutral records and constants below; guardrails are checked before any method here is
called.

Contract for every method: it makes the calls its docstring names and nothing else;
every cloud call goes through `CloudRuntime.call`, which turns the SDK's error into a
`CloudCallError` (`translate`), retries transient ones with backoff (`adapters.retry`) and
raises the final failure as a one-line `UserError`. `deploy_model` is the one rollout in
`adapters.rollout` over the cloud's `rollout_steps`: anything a failed rollout created is
removed again before it returns or raises.

Shared constants: the neutral job states (`PENDING`, `RUNNING`, `SUCCEEDED`, `FAILED`,
`STOPPED`; `TERMINAL` are the final ones) that each runtime maps its service's states onto,
and `CANARY_PERCENT`, the traffic share a new deployment gets before all of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, ClassVar, TypeVar

from adapters import load, retry
from adapters.machines import AcceleratorChoice, MachineChooser
from adapters.retry import CloudCallError
from core.errors import UserError

if TYPE_CHECKING:
    from adapters.rollout import RolloutSteps
    from core.outputs import StackOutputs
    from core.spec import Environment

Progress = Callable[[str], None]
T = TypeVar("T")

# Neutral job states; each runtime maps its service's states onto these.
PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED = "pending", "running", "succeeded", "failed", \
    "stopped"
TERMINAL = frozenset({SUCCEEDED, FAILED, STOPPED})

# Percent of the endpoint's traffic a new deployment serves before it gets all of it.
CANARY_PERCENT = 10

# Neutral approval states of a registered model version; each runtime maps its registry's
# (model package status, Vertex version aliases/labels, Azure ML model tags) onto these.
PENDING_APPROVAL, APPROVED, REJECTED = "pending", "approved", "rejected"
APPROVAL_KEY = "terraml-approval"  # the label / tag name where a registry keeps no status
# Environment variables every training job and pipeline step gets when tracking is on.
TRACKING_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME")


@dataclass(frozen=True)
class TrainingRequest:
    """One training job, resolved to this cloud's machine and the stack's resources."""

    job_name: str
    image: str
    command: list[str]
    machine: AcceleratorChoice
    instance_count: int
    spot: bool
    max_seconds: int
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    job_id: str  # what `terraml train` prints and the cloud console shows
    name: str
    state: str  # pending | running | succeeded | failed | stopped
    detail: str
    instance_type: str
    instance_count: int
    spot: bool
    accelerator_type: str | None = None  # set where the cloud prices GPUs separately
    accelerator_count: int = 0
    started: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class Deployment:
    """What serves behind an endpoint: a variant (SageMaker), deployed model (Vertex) or
    deployment (Azure ML)."""

    name: str
    instance_type: str  # "serverless" when nothing runs while idle
    instance_count: int
    traffic_percent: int
    accelerator_type: str | None = None
    accelerator_count: int = 0

    @property
    def serverless(self) -> bool:
        return self.instance_type == "serverless"


@dataclass(frozen=True)
class Endpoint:
    name: str
    state: str
    deployments: list[Deployment]
    last_changed: datetime | None = None  # creation or last update, whichever is later

    @property
    def instances(self) -> int:
        return sum(d.instance_count for d in self.deployments if not d.serverless)


@dataclass(frozen=True)
class Notebook:
    name: str
    state: str  # "running" or the cloud's own word for anything else
    instance_type: str
    last_changed: datetime | None = None


@dataclass(frozen=True)
class ModelRequest:
    version: str  # unique per deploy: names the registered model version and the rollout
    model_uri: str
    image: str
    registered: str | None = None  # a registry version's model_id to deploy (not registered)


@dataclass(frozen=True)
class StepRun:
    name: str  # the neutral step name: prepare, train, evaluate, register (or the cloud's)
    state: str  # pending | running | succeeded | failed | stopped
    detail: str = ""
    started: datetime | None = None
    ended: datetime | None = None


@dataclass(frozen=True)
class PipelineRun:
    run_id: str  # what `terraml pipeline run` prints and `pipeline status --run` takes
    state: str  # pending | running | succeeded | failed | stopped
    steps: list[StepRun]
    started: datetime | None = None
    detail: str = ""

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class ModelVersion:
    """One version in the environment's model registry."""

    version: str  # what `terraml models` shows and `approve --version` / `deploy-model` take
    approval: str  # pending | approved | rejected
    model_uri: str  # the model artifacts the version points at
    model_id: str = ""  # the registry's id (package ARN, model@version); default: version
    created: datetime | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    detail: str = ""  # the reason given for the last approval decision, if any


@dataclass(frozen=True)
class FeatureDrift:
    """One feature in one drift run: its drift score (0 same .. 1 disjoint, see
    core/drift.py) against the threshold it is held to."""

    feature: str
    score: float | None  # None: the cloud reported a violation without a score
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class DriftRun:
    """One monitoring run (scheduled or started with `terraml monitor run`)."""

    run_id: str
    state: str  # pending | running | succeeded | failed | stopped
    started: datetime | None
    features: list[FeatureDrift] = field(default_factory=list)
    detail: str = ""

    @property
    def violations(self) -> list[FeatureDrift]:
        return [feature for feature in self.features if feature.drifted]


@dataclass(frozen=True)
class DriftBaseline:
    """The baseline `terraml monitor baseline` builds from the training data."""

    job: str  # the cloud's id of the baselining job (or of the monitor it configured)
    state: str  # pending | running | succeeded | failed | stopped
    uri: str  # where the baseline statistics are (drift_baseline_uri)
    features: list[str] = field(default_factory=list)  # known once it succeeded
    detail: str = ""


@dataclass(frozen=True)
class Rollout:
    model_id: str  # the registered model (package ARN, Vertex model, Azure model version)
    endpoint: str
    deployment: str
    healthy: bool
    detail: str


class CloudRuntime(ABC):
    """Runtime calls for one environment's deployed stack on one cloud."""

    cloud: ClassVar[str]

    def __init__(self, env: Environment, outputs: StackOutputs) -> None:
        self.env = env
        self.outputs = outputs
        self.on_retry: Callable[[CloudCallError, float], None] | None = None

    def call(self, operation: str, fn: Callable[[], T]) -> T:
        """`fn()` with this cloud's errors translated (`translate`) and transient ones retried
        with backoff; a final failure is a one-line `UserError` naming `operation`."""
        def translated() -> T:
            try:
                return fn()
            except CloudCallError:
                raise
            except Exception as exc:
                error = self.translate(operation, exc)
                if error is None:
                    raise
                raise error from exc
        return retry.call(translated, on_retry=self.on_retry)

    @abstractmethod
    def translate(self, operation: str, exc: Exception) -> CloudCallError | None:
        """This cloud's SDK exception as a `CloudCallError` (None: not a cloud error)."""

    @abstractmethod
    def submit_training(self, request: TrainingRequest) -> Job:
        """Create one training job with the stack's role, buckets, network and key."""

    @abstractmethod
    def job(self, job_id: str) -> Job:
        """The job's current state."""

    @abstractmethod
    def running_jobs(self) -> list[Job]:
        """Training jobs of this environment that are pending or running."""

    @abstractmethod
    def endpoints(self) -> list[Endpoint]:
        """The environment's endpoints with what is deployed behind them."""

    def deploy_model(self, request: ModelRequest, progress: Progress) -> Rollout:
        """Register the model and roll it onto the endpoint with `adapters.rollout.roll_out`
        over `rollout_steps(request)`: canary, wait healthy, all traffic, retire the old; on
        failure restore the previous traffic and remove what this call created."""
        from adapters.rollout import roll_out  # the template imports this module's records

        return roll_out(self.rollout_steps(request), progress, registered=request.registered)

    @abstractmethod
    def rollout_steps(self, request: ModelRequest) -> RolloutSteps:
        """This cloud's primitives for one rollout of `request` (see `adapters.rollout`)."""

    @abstractmethod
    def invocations(self, endpoint: Endpoint, since: datetime) -> float:
        """Requests the endpoint served since `since`, from the cloud's metrics service."""

    @abstractmethod
    def notebooks(self) -> list[Notebook]:
        """Notebook / compute instances of this environment."""

    @abstractmethod
    def scale_down(self, endpoint: Endpoint) -> str:
        """Reduce the endpoint to its cheapest running form; returns what was done."""

    @abstractmethod
    def delete_deployments(self, endpoint: Endpoint) -> str:
        """Remove what runs behind the endpoint (it costs nothing afterwards)."""

    @abstractmethod
    def stop_notebook(self, notebook: Notebook) -> str:
        """Stop a running notebook / compute instance (its disk is kept)."""

    # -- continuous training (the `pipeline:` section; outputs `pipeline_*`) ---------------

    @abstractmethod
    def deploy_pipeline(self, progress: Progress) -> str:
        """Create or update what Terraform cannot (a compiled pipeline template, its
        schedule); returns one line saying what is in place."""

    @abstractmethod
    def start_pipeline(self) -> PipelineRun:
        """Start one run of the environment's pipeline now."""

    @abstractmethod
    def pipeline_run(self, run_id: str) -> PipelineRun:
        """One run with its steps."""

    @abstractmethod
    def pipeline_runs(self, limit: int = 10) -> list[PipelineRun]:
        """The latest runs of the environment's pipeline, newest first."""

    @abstractmethod
    def model_versions(self) -> list[ModelVersion]:
        """The environment's registered model versions, newest first."""

    @abstractmethod
    def set_approval(self, version: str, approved: bool, reason: str) -> ModelVersion:
        """Approve or reject one version in the registry; returns it as it is now."""

    # -- drift monitoring (`monitoring.drift`; outputs `drift_*`) ---------------------------

    @abstractmethod
    def start_drift_baseline(self, data_uri: str, progress: Progress) -> DriftBaseline:
        """Summarize `data_uri` (the training data, CSV with a header row) into the baseline at
        `drift_baseline_uri` and put the scheduled monitor in place where Terraform cannot
        (a Vertex AI model monitor and its schedule, an Azure ML monitor schedule)."""

    @abstractmethod
    def drift_baseline(self, job: str) -> DriftBaseline:
        """The baselining job's current state."""

    @abstractmethod
    def start_drift_run(self) -> DriftRun:
        """Run the drift check once now, on the production data collected so far."""

    @abstractmethod
    def drift_runs(self, limit: int = 20) -> list[DriftRun]:
        """The latest monitoring runs (scheduled and started by hand), newest first, each
        with its per-feature scores and violations."""

    def tracking_variables(self) -> dict[str, str]:
        """What a job needs to report to the environment's experiment tracking (empty when
        tracking is off)."""
        uri = self.outputs.get("tracking_uri")
        if not uri:
            return {}
        experiment = self.outputs.get("tracking_experiment") or self.env.name
        return dict(zip(TRACKING_VARIABLES, (str(uri), str(experiment)), strict=True))


_RUNTIMES = {"aws": "adapters.aws.runtime:AwsRuntime", "gcp": "adapters.gcp.runtime:GcpRuntime",
             "azure": "adapters.azure.runtime:AzureRuntime"}
_MACHINES = {"aws": "adapters.aws.machines:AwsMachines",
             "gcp": "adapters.gcp.machines:GcpMachines",
             "azure": "adapters.azure.machines:AzureMachines"}


def runtime_class(cloud: str) -> type[CloudRuntime]:
    """The runtime for `cloud`; a one-line `UserError` naming the extra when its SDK is
    missing."""
    try:
        return load(_RUNTIMES[cloud])
    except ModuleNotFoundError as exc:
        raise UserError(f"the {cloud} runtime needs its SDK: pip install 'terraml[{cloud}]' "
                        f"(missing module {exc.name})") from None


def machine_chooser(cloud: str) -> MachineChooser:
    """The cloud's machine tables, without loading its SDK or CDK bindings."""
    return load(_MACHINES[cloud])()


def as_utc(value: object) -> datetime | None:
    """An SDK timestamp (datetime, RFC 3339 text or protobuf-backed datetime) in UTC."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def split_traffic(total: int, names: list[str], current: dict[str, int]) -> dict[str, int]:
    """`total` percent over `names` in proportion to their `current` shares (equal when they
    have none); rounding goes to the first name, so the shares add up to `total`."""
    weights = {name: int(current.get(name, 0)) or 1 for name in names}
    scale = sum(weights.values())
    shares = {name: total * weight // scale for name, weight in weights.items()}
    if names:
        shares[names[0]] += total - sum(shares.values())
    return shares
