"""Azure runtime: Azure ML command jobs on the stack's GPU cluster, model versions in the
workspace, blue/green managed online deployments, Azure Monitor request metrics and
compute instances (`azure-ai-ml`, `azure-identity`).

Rollouts are `adapters.rollout`'s template over `_ManagedRollout`: a model version is
registered, a new managed deployment created next to the live one (with no traffic),
given the canary share of the endpoint's traffic, then all of it, and the old deployment
deleted; a rollback gives the old deployments their traffic back and deletes the new one.
Training runs on the cluster the stack created (its VNet, identity and priority), so
the machine and spot setting come from the stack, not from the command line; with tracking
on it runs in the tracking experiment (an Azure ML job's experiment is its MLflow one).
The continuous-training calls live in `pipeline_runtime.PipelineRuntime` (pipeline schedule
and runs) and `registry_runtime.RegistryRuntime` (model versions and their approval).
"""

from __future__ import annotations

import shlex
from datetime import datetime, timezone
from typing import Any

import requests
from azure.ai.ml import MLClient, command
from azure.ai.ml.entities import (
    CommandJobLimits,
    DataCollector,
    DeploymentCollection,
    ManagedIdentityConfiguration,
    ManagedOnlineDeployment,
    Model,
)
from azure.ai.ml.entities import Environment as MlEnvironment
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from adapters.azure.drift_runtime import AzureDriftCalls
from adapters.azure.pipeline_runtime import PipelineRuntime
from adapters.azure.registry_runtime import RegistryRuntime, versioned
from adapters.azure.states import JOB_STATES, word
from adapters.rollout import Candidate, RolloutSteps, Unhealthy
from adapters.runtime import (
    APPROVAL_KEY,
    PENDING,
    PENDING_APPROVAL,
    CloudCallError,
    CloudRuntime,
    Deployment,
    Endpoint,
    Job,
    ModelRequest,
    Notebook,
    TrainingRequest,
    as_utc,
)
from core.errors import UserError
from core.spec import Environment as CoreEnvironment

ARM = "https://management.azure.com"
LRO_TIMEOUT = 3600


def credential():
    """Azure CLI, managed identity, environment or workload identity credentials."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


class AzureRuntime(AzureDriftCalls, PipelineRuntime, RegistryRuntime, CloudRuntime):
    cloud = "azure"

    def __init__(self, env, outputs, *, timeout_seconds: float = LRO_TIMEOUT) -> None:
        super().__init__(env, outputs)
        self.timeout_seconds = timeout_seconds
        self._credential = None
        self._ml: MLClient | None = None

    # -- plumbing ----------------------------------------------------------------------

    @property
    def ml(self) -> MLClient:
        if self._ml is None:
            if not self.env.subscription_id:
                raise UserError(self.env.where("subscription_id", "the Azure runtime needs the "
                                               "subscription id: expected a value, found none"))
            self._credential = credential()
            group, workspace = self.outputs.require("resource_group", "workspace")
            self._ml = MLClient(self._credential, self.env.subscription_id, group, workspace)
        return self._ml

    @property
    def workspace_id(self) -> str:
        group, workspace = self.outputs.require("resource_group", "workspace")
        return (f"/subscriptions/{self.env.subscription_id}/resourceGroups/{group}/providers/"
                f"Microsoft.MachineLearningServices/workspaces/{workspace}")

    def translate(self, operation: str, exc: Exception) -> CloudCallError | None:
        if isinstance(exc, ClientAuthenticationError):
            return CloudCallError(operation, "AuthenticationFailed", "no usable Azure "
                                  "credentials (run `az login`)", transient=False)
        if isinstance(exc, HttpResponseError):
            status = exc.status_code or 0
            code = (exc.error.code if exc.error else None) or exc.reason or "HttpError"
            message = (exc.error.message if exc.error else None) or exc.message or str(exc)
            return CloudCallError(operation, code, message,
                                  transient=status == 429 or status >= 500)
        if isinstance(exc, (ServiceRequestError, ServiceResponseError, requests.ConnectionError,
                            requests.Timeout)):
            return CloudCallError(operation, type(exc).__name__, str(exc), transient=True)
        if isinstance(exc, AzureError):
            return CloudCallError(operation, type(exc).__name__, str(exc), transient=False)
        return None

    def arm(self, operation: str, method: str, path: str, **options: Any) -> dict[str, Any]:
        """A plain ARM REST call (Azure Monitor metrics) with the same credential."""
        _ = self.ml  # credential and subscription checks
        token = self._credential.get_token(f"{ARM}/.default").token

        def send() -> dict[str, Any]:
            response = requests.request(method, f"{ARM}{path}", timeout=60,
                                        headers={"Authorization": f"Bearer {token}"}, **options)
            if response.status_code >= 400:
                error = (response.json() if response.content else {}).get("error", {})
                raise CloudCallError(operation, error.get("code", str(response.status_code)),
                                     error.get("message", response.text[:200]),
                                     transient=response.status_code in (429, 500, 502, 503, 504))
            return response.json() if response.content else {}
        return self.call(operation, send)

    # -- training ----------------------------------------------------------------------

    def submit_training(self, request: TrainingRequest) -> Job:
        out = self.outputs
        cluster, size = out.require("training_compute", "training_instance_type")
        if request.machine.instance_type != size:
            raise UserError(f"--accelerator: Azure trains on the stack's cluster {cluster} "
                            f"({size}); change training.accelerator in {self.env.source} and "
                            "redeploy to train on another size")
        if bool(request.spot) != bool(out.get("training_spot")):
            raise UserError(f"--spot: the cluster {cluster} is "
                            f"{'low-priority' if out.get('training_spot') else 'dedicated'}; "
                            f"change training.spot in {self.env.source} and redeploy")
        # `request.environment` already holds the tracking variables (terraml.runtime.commands
        # .train adds them); the job runs in the tracking experiment so they agree.
        job = command(
            name=request.job_name, display_name=request.job_name,
            experiment_name=self._training_experiment(), command=shlex.join(request.command),
            environment=MlEnvironment(image=request.image), compute=cluster,
            instance_count=request.instance_count,
            environment_variables=dict(request.environment),
            identity=ManagedIdentityConfiguration(), tags=self.env.all_tags())
        job.limits = CommandJobLimits(timeout=request.max_seconds)
        created = self.call("CreateJob", lambda: self.ml.jobs.create_or_update(
            job, skip_validation=True))
        return self._job(created, spot=request.spot)

    def _job(self, job: Any, spot: bool | None = None) -> Job:
        status = _word(getattr(job, "status", ""))
        size = self.outputs.get("training_instance_type", "")
        resources = getattr(job, "resources", None)
        return Job(job_id=job.name, name=job.display_name or job.name,
                   state=JOB_STATES.get(status, PENDING),
                   detail=status, instance_type=size,
                   instance_count=int(getattr(resources, "instance_count", None) or 1),
                   spot=bool(self.outputs.get("training_spot")) if spot is None else spot,
                   started=as_utc(job.creation_context.created_at)
                   if getattr(job, "creation_context", None) else None)

    def job(self, job_id: str) -> Job:
        return self._job(self.call("GetJob", lambda: self.ml.jobs.get(job_id)))

    def _training_experiment(self) -> str:
        """The experiment training jobs run in: with tracking on, the tracking experiment
        (in Azure ML a job's experiment is its MLflow experiment), else `<project>-<env>`."""
        return self.tracking_variables().get("MLFLOW_EXPERIMENT_NAME") or self.env.prefix

    def running_jobs(self) -> list[Job]:
        found = self.call("ListJobs", lambda: list(self.ml.jobs.list()))
        experiments = {self.env.prefix, self._training_experiment()}
        jobs = [self._job(j) for j in found if j is not None
                and getattr(j, "experiment_name", None) in experiments
                and (getattr(j, "type", None) or "command") == "command"]
        return [j for j in jobs if not j.finished]

    # -- endpoints ---------------------------------------------------------------------

    def _endpoint(self):
        name = self.outputs["endpoint_name"]
        return self.call("GetOnlineEndpoint", lambda: self.ml.online_endpoints.get(name))

    def _deployments(self) -> list[Any]:
        name = self.outputs["endpoint_name"]
        return self.call("ListOnlineDeployments", lambda: list(
            self.ml.online_deployments.list(endpoint_name=name)))

    def endpoints(self) -> list[Endpoint]:
        endpoint = self._endpoint()
        traffic = dict(endpoint.traffic or {})
        deployments, changed = [], None
        for item in self._deployments():
            deployments.append(Deployment(item.name, item.instance_type or "?",
                                          int(item.instance_count or 0),
                                          int(traffic.get(item.name, 0))))
            context = getattr(item, "creation_context", None)
            when = as_utc(getattr(context, "last_modified_at", None) or
                         getattr(context, "created_at", None)) if context else None
            if when and (changed is None or when > changed):
                changed = when
        return [Endpoint(endpoint.name, _word(endpoint.provisioning_state) or "?", deployments,
                         changed)]

    def rollout_steps(self, request: ModelRequest) -> RolloutSteps:
        return _ManagedRollout(self, request)

    def _traffic(self, endpoint: Any, split: dict[str, int]) -> None:
        endpoint.traffic = split
        self.call("UpdateOnlineEndpoint", lambda: self.ml.online_endpoints
                  .begin_create_or_update(endpoint).result(timeout=self.timeout_seconds))

    def _delete_deployment(self, name: str, endpoint_name: str) -> None:
        self.call("DeleteOnlineDeployment", lambda: self.ml.online_deployments
                  .begin_delete(name=name, endpoint_name=endpoint_name)
                  .result(timeout=self.timeout_seconds))

    # -- idle spend --------------------------------------------------------------------

    def invocations(self, endpoint: Endpoint, since: datetime) -> float:
        now = datetime.now(timezone.utc)
        resource = (f"{self.workspace_id}/onlineEndpoints/{endpoint.name}"
                    "/providers/Microsoft.Insights/metrics")
        found = self.arm("ListMetrics", "GET", resource, params={
            "api-version": "2023-10-01", "metricnames": "RequestsPerMinute",
            "aggregation": "Total", "interval": "PT1H",
            "timespan": f"{since:%Y-%m-%dT%H:%M:%SZ}/{now:%Y-%m-%dT%H:%M:%SZ}"})
        return sum(float(point.get("total") or 0) for metric in found.get("value", [])
                   for series in metric.get("timeseries", []) for point in series.get("data", []))

    def notebooks(self) -> list[Notebook]:
        found = self.call("ListComputes", lambda: list(self.ml.compute.list(
            compute_type="ComputeInstance")))
        return [Notebook(c.name, "running" if _word(c.state).lower() == "running"
                         else _word(c.state).lower(), getattr(c, "size", "?") or "?",
                         as_utc(getattr(c, "last_operation", {}).get("operation_time")
                               if isinstance(getattr(c, "last_operation", None), dict)
                               else None) or as_utc(getattr(c, "created_on", None)))
                for c in found]

    def scale_down(self, endpoint: Endpoint) -> str:
        changed = []
        for item in endpoint.deployments:
            if item.instance_count <= 1:
                continue
            current = self.call("GetOnlineDeployment", lambda i=item: self.ml.online_deployments
                                .get(i.name, endpoint_name=endpoint.name))
            current.instance_count = 1
            self.call("UpdateOnlineDeployment", lambda c=current: self.ml.online_deployments
                      .begin_create_or_update(c, skip_script_validation=True)
                      .result(timeout=self.timeout_seconds))
            changed.append(item.name)
        if not changed:
            return "already at 1 instance (set stop_idle.endpoints: delete to remove it)"
        return f"{', '.join(changed)} scaled to 1 instance"

    def delete_deployments(self, endpoint: Endpoint) -> str:
        for item in endpoint.deployments:
            self._delete_deployment(item.name, endpoint.name)
        return f"deleted {len(endpoint.deployments)} deployment(s); the endpoint stays (free)"

    def stop_notebook(self, notebook: Notebook) -> str:
        self.call("StopComputeInstance", lambda: self.ml.compute.begin_stop(notebook.name)
                  .result(timeout=self.timeout_seconds))
        return "compute instance stopped"


_word = word


class _ManagedRollout(RolloutSteps):
    """Azure ML primitives for one rollout: deployments are the endpoint's managed online
    deployments, named `m-<version>`; traffic is the endpoint's `traffic` map."""

    def __init__(self, runtime: AzureRuntime, request: ModelRequest) -> None:
        self.runtime, self.request = runtime, request
        self.endpoint = runtime.outputs["endpoint_name"]
        self.model_id = ""
        self.name = f"m-{request.version}"[:32]  # deployment names: 3 to 32 characters
        self.created = False  # CreateOnlineDeployment was sent
        self._online: Any = None  # the endpoint entity, re-sent with each traffic change

    def register(self) -> str:
        """CreateModel: version `request.version` of the environment's registry model,
        pending approval (`release` approves it once it serves)."""
        rt, request = self.runtime, self.request
        model = rt.call("CreateModel", lambda: rt.ml.models.create_or_update(Model(
            name=rt.model_name, version=request.version, path=request.model_uri,
            type="custom_model", tags={**rt.env.all_tags(), APPROVAL_KEY: PENDING_APPROVAL})))
        self.model_id = f"azureml:{model.name}:{model.version}"
        return self.model_id

    def release(self) -> None:
        """The rolled-out version serves now: approve it in the registry (tag, stage)."""
        self.runtime.set_approval(self.model_id.rsplit(":", 1)[-1], True,
                                  f"rolled out by deploy-model {self.request.version}")

    def adopt(self, model_id: str) -> str:
        """Deploy a version already in the workspace (`azureml:<model>:<version>`, or a bare
        version of the pipeline's model); nothing is registered."""
        self.model_id = versioned(self.runtime.model_name, model_id)
        return self.model_id

    def current_deployments(self) -> dict[str, int]:
        """GetOnlineEndpoint (its traffic map) and ListOnlineDeployments."""
        self._online = self.runtime._endpoint()
        traffic = dict(self._online.traffic or {})
        names = [item.name for item in self.runtime._deployments()]
        return {name: int(traffic.get(name, 0)) for name in dict.fromkeys([*traffic, *names])}

    def create_candidate(self, others: dict[str, int]) -> Candidate:
        """CreateOnlineDeployment (waits for provisioning), then GetOnlineDeployment: a
        deployment that did not provision raises `Unhealthy`. New deployments get no traffic."""
        rt = self.runtime
        size = rt.outputs["serving_instance_type"]
        new = ManagedOnlineDeployment(
            name=self.name, endpoint_name=self.endpoint, model=self.model_id,
            environment=MlEnvironment(image=self.request.image), instance_type=size,
            instance_count=max(int(rt.outputs.get("serving_min_replicas") or 1), 1),
            egress_public_network_access="disabled", tags=rt.env.all_tags(),
            data_collector=_collector(rt.env))
        self.created = True
        rt.call("CreateOnlineDeployment", lambda: rt.ml.online_deployments
                .begin_create_or_update(new, skip_script_validation=True)
                .result(timeout=rt.timeout_seconds))
        self._provisioned()
        return Candidate(self.name, dict(self._online.traffic or {}))

    def set_traffic(self, split: dict[str, int]) -> None:
        """UpdateOnlineEndpoint with `split` as its traffic."""
        self.runtime._traffic(self._online, split)

    def wait_healthy(self, candidate: str) -> None:
        """GetOnlineDeployment: still provisioned after taking traffic (managed deployments
        pass their readiness probe before provisioning succeeds)."""
        self._provisioned()

    def retire(self, old: list[str], candidate: str) -> None:
        """DeleteOnlineDeployment of each old deployment."""
        for name in old:
            self.runtime._delete_deployment(name, self.endpoint)

    def remove_candidate(self, restore: dict[str, int] | None) -> None:
        """UpdateOnlineEndpoint back to `restore`, then DeleteOnlineDeployment of the new one."""
        try:
            if restore is not None:
                self.runtime._traffic(self._online, restore)
        finally:
            if self.created:
                try:
                    self.runtime._delete_deployment(self.name, self.endpoint)
                except (UserError, ResourceNotFoundError):
                    pass

    def _provisioned(self) -> None:
        rt = self.runtime
        created = rt.call("GetOnlineDeployment", lambda: rt.ml.online_deployments.get(
            self.name, endpoint_name=self.endpoint))
        state = _word(created.provisioning_state)
        if state.lower() != "succeeded":
            raise Unhealthy(f"deployment {self.name} is {state or 'unknown'}", self.name)


def _collector(env: CoreEnvironment) -> DataCollector | None:
    """Collect the deployment's inputs and outputs when drift monitoring watches the endpoint
    (the monitor reads them as production data); nothing otherwise."""
    drift = env.monitoring.drift
    if drift is None or not drift.watches_endpoint():
        return None
    return DataCollector(collections={name: DeploymentCollection(enabled="true")
                                      for name in ("model_inputs", "model_outputs")})
