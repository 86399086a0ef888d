"""GCP runtime: Vertex AI CustomJobs, Model Registry versions, canary deployments on the
stack's endpoint, Cloud Monitoring prediction counts and Workbench instances.

Vertex AI calls use `google-cloud-aiplatform`'s v1 clients over the REST transport;
Cloud Monitoring and Workbench use their REST APIs through the same credentials.
Rollouts are `adapters.rollout`'s template over `_VertexRollout`: a new Model Registry
version is deployed next to the serving models with the canary split in the same
`DeployModel` call, checked available, given all traffic, and the old models undeployed;
a rollback undeploys the new one (restoring the split) and deletes the uploaded version.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import google.auth
import google.auth.exceptions
from google.api_core import exceptions as gexc
from google.auth.transport.requests import AuthorizedSession
from google.cloud import aiplatform_v1 as v1
from google.protobuf import field_mask_pb2

from adapters.gcp.drift_runtime import GcpDriftCalls
from adapters.gcp.pipeline_runtime import GcpPipelineCalls
from adapters.rollout import Candidate, RolloutSteps, Unhealthy
from adapters.runtime import (
    APPROVAL_KEY,
    FAILED,
    PENDING,
    PENDING_APPROVAL,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    CloudCallError,
    CloudRuntime,
    Deployment,
    Endpoint,
    Job,
    ModelRequest,
    Notebook,
    TrainingRequest,
    as_utc,
    split_traffic,
)
from core.errors import UserError

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
MONITORING = "https://monitoring.googleapis.com/v3"
NOTEBOOKS = "https://notebooks.googleapis.com/v2"
JOB_STATES = {"JOB_STATE_QUEUED": PENDING, "JOB_STATE_PENDING": PENDING,
              "JOB_STATE_RUNNING": RUNNING, "JOB_STATE_SUCCEEDED": SUCCEEDED,
              "JOB_STATE_FAILED": FAILED, "JOB_STATE_CANCELLING": STOPPED,
              "JOB_STATE_CANCELLED": STOPPED, "JOB_STATE_EXPIRED": FAILED,
              "JOB_STATE_PAUSED": STOPPED, "JOB_STATE_UPDATING": RUNNING}
TRANSIENT = (gexc.TooManyRequests, gexc.ServiceUnavailable, gexc.InternalServerError,
             gexc.DeadlineExceeded, gexc.GatewayTimeout, gexc.BadGateway)
OPERATION_TIMEOUT = 3600


def credentials():
    """Application default credentials (`gcloud auth application-default login`)."""
    found, _ = google.auth.default(scopes=SCOPES)
    return found


def _label(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]


class GcpRuntime(GcpDriftCalls, GcpPipelineCalls, CloudRuntime):
    cloud = "gcp"

    def __init__(self, env, outputs, *, timeout_seconds: float = OPERATION_TIMEOUT) -> None:
        super().__init__(env, outputs)
        self.timeout_seconds = timeout_seconds
        self.parent = f"projects/{env.project_id}/locations/{env.region}"
        self._credentials = None
        self._session: AuthorizedSession | None = None
        self._clients: dict[str, Any] = {}

    # -- plumbing ----------------------------------------------------------------------

    @property
    def creds(self):
        if self._credentials is None:
            self._credentials = self.call("credentials", credentials)
        return self._credentials

    def client(self, kind: type):
        if kind not in self._clients:
            self._clients[kind] = kind(
                transport="rest", credentials=self.creds,
                client_options={"api_endpoint": f"{self.env.region}-aiplatform.googleapis.com"})
        return self._clients[kind]

    @property
    def jobs(self) -> v1.JobServiceClient:
        return self.client(v1.JobServiceClient)

    @property
    def models(self) -> v1.ModelServiceClient:
        return self.client(v1.ModelServiceClient)

    @property
    def endpoint_client(self) -> v1.EndpointServiceClient:
        return self.client(v1.EndpointServiceClient)

    def rest(self, operation: str, method: str, url: str, *, raw: bool = False,
             missing_ok: bool = False, **options: Any) -> Any:
        """A REST call with the same credentials (Cloud Monitoring, Workbench, Artifact
        Registry): the JSON body (`raw`: the text); `missing_ok`: None on 404."""
        if self._session is None:
            self._session = AuthorizedSession(self.creds)

        def send() -> Any:
            response = self._session.request(method, url, timeout=60, **options)
            if missing_ok and response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise gexc.from_http_response(response)
            if raw:
                return response.text
            return response.json() if response.content else {}
        return self.call(operation, send)

    def translate(self, operation: str, exc: Exception) -> CloudCallError | None:
        if isinstance(exc, google.auth.exceptions.DefaultCredentialsError):
            return CloudCallError(operation, "NoCredentials", "no Google credentials found (run "
                                  "`gcloud auth application-default login`)", transient=False)
        if isinstance(exc, gexc.GoogleAPICallError):
            status, text = _error(exc)
            transient = isinstance(exc, TRANSIENT)
            if isinstance(exc, gexc.TooManyRequests):  # rate limits pass; resource quotas do not
                lowered = text.lower()
                transient = "quota" not in lowered or "per minute" in lowered
            return CloudCallError(operation, status, text, transient=transient)
        if isinstance(exc, (ConnectionError, TimeoutError)) or \
                type(exc).__module__.startswith("requests"):
            return CloudCallError(operation, type(exc).__name__, str(exc), transient=True)
        return None

    def _labels(self) -> dict[str, str]:
        return {_label(k): _label(v) for k, v in self.env.all_tags().items()}

    def _encryption(self) -> v1.EncryptionSpec:
        return v1.EncryptionSpec(kms_key_name=self.outputs["training_kms_key"])

    # -- training ----------------------------------------------------------------------

    def submit_training(self, request: TrainingRequest) -> Job:
        out = self.outputs
        role, network, output_uri = out.require("training_role", "training_network",
                                                "training_output_uri")
        machine = request.machine
        spec = v1.MachineSpec(machine_type=machine.instance_type)
        if machine.accelerator_type:
            spec.accelerator_type = v1.AcceleratorType[machine.accelerator_type]
            spec.accelerator_count = machine.count
        pool = v1.WorkerPoolSpec(
            machine_spec=spec, replica_count=request.instance_count,
            container_spec=v1.ContainerSpec(
                image_uri=request.image, command=request.command[:1], args=request.command[1:],
                env=[v1.EnvVar(name=k, value=v) for k, v in request.environment.items()]))
        strategy = v1.Scheduling.Strategy.SPOT if request.spot else v1.Scheduling.Strategy.STANDARD
        job = v1.CustomJob(
            display_name=request.job_name, labels=self._labels(),
            encryption_spec=self._encryption(),
            job_spec=v1.CustomJobSpec(
                worker_pool_specs=[pool], service_account=role, network=network,
                scheduling=v1.Scheduling(timeout=f"{request.max_seconds}s", strategy=strategy),
                base_output_directory=v1.GcsDestination(
                    output_uri_prefix=f"{output_uri}{request.job_name}/"),
                # with tracking on, logs written to AIP_TENSORBOARD_LOG_DIR stream to the
                # environment's TensorBoard (request.environment carries the tracking variables)
                tensorboard=self.outputs.get("tracking_uri") or ""))
        created = self.call("CreateCustomJob", lambda: self.jobs.create_custom_job(
            parent=self.parent, custom_job=job))
        return self._job(created)

    def _job(self, job: v1.CustomJob) -> Job:
        pools = job.job_spec.worker_pool_specs
        spec = pools[0].machine_spec if pools else v1.MachineSpec()
        accelerator = v1.AcceleratorType(spec.accelerator_type).name \
            if spec.accelerator_count else None
        spot = job.job_spec.scheduling.strategy == v1.Scheduling.Strategy.SPOT
        return Job(job_id=job.name, name=job.display_name,
                   state=JOB_STATES.get(v1.JobState(job.state).name, PENDING),
                   detail=job.error.message if job.error.message else
                   v1.JobState(job.state).name.removeprefix("JOB_STATE_").lower(),
                   instance_type=spec.machine_type,
                   instance_count=sum(int(p.replica_count) for p in pools) or 1, spot=spot,
                   accelerator_type=accelerator, accelerator_count=int(spec.accelerator_count),
                   started=as_utc(job.start_time) if job.start_time else None)

    def job(self, job_id: str) -> Job:
        return self._job(self.call("GetCustomJob", lambda: self.jobs.get_custom_job(name=job_id)))

    def running_jobs(self) -> list[Job]:
        found = self.call("ListCustomJobs", lambda: list(self.jobs.list_custom_jobs(
            request=v1.ListCustomJobsRequest(parent=self.parent,
                                             filter=f'labels.env="{_label(self.env.name)}"'))))
        return [job for job in map(self._job, found) if not job.finished]

    # -- endpoints ---------------------------------------------------------------------

    @property
    def endpoint_path(self) -> str:
        return f"{self.parent}/endpoints/{self.outputs['endpoint_name']}"

    def _endpoint(self) -> v1.Endpoint:
        return self.call("GetEndpoint", lambda: self.endpoint_client.get_endpoint(
            name=self.endpoint_path))

    def endpoints(self) -> list[Endpoint]:
        found = self._endpoint()
        split = dict(found.traffic_split)
        deployments = []
        changed = as_utc(found.update_time) if found.update_time else None
        for model in found.deployed_models:
            resources = model.dedicated_resources
            spec = resources.machine_spec
            deployments.append(Deployment(
                name=model.id, instance_type=spec.machine_type or "automatic",
                instance_count=int(resources.min_replica_count or 1),
                traffic_percent=int(split.get(model.id, 0)),
                accelerator_type=v1.AcceleratorType(spec.accelerator_type).name
                if spec.accelerator_count else None,
                accelerator_count=int(spec.accelerator_count)))
            created = as_utc(model.create_time) if model.create_time else None
            if created and (changed is None or created > changed):
                changed = created
        return [Endpoint(self.outputs["endpoint_name"], "deployed" if deployments else "empty",
                         deployments, changed)]

    def _resources(self) -> v1.DedicatedResources:
        out = self.outputs
        spec = v1.MachineSpec(machine_type=out["serving_instance_type"])
        accelerator = out.get("serving_accelerator_type")
        if accelerator:
            spec.accelerator_type = v1.AcceleratorType[accelerator]
            spec.accelerator_count = 1
        # Vertex v1 needs >= 1 replica; "scale to zero" environments rely on stop-idle.
        return v1.DedicatedResources(
            machine_spec=spec, min_replica_count=max(int(out.get("serving_min_replicas", 1)), 1),
            max_replica_count=max(int(out.get("serving_max_replicas", 1)), 1))

    def _model_parent(self) -> str | None:
        """The environment's registry model (`registry_model`, display name = its id) if it
        exists yet; pipeline and deploy-model versions share it."""
        display = self.registry_model().rsplit("/", 1)[-1]
        found = self.call("ListModels", lambda: list(self.models.list_models(
            request=v1.ListModelsRequest(parent=self.parent,
                                         filter=f'display_name="{display}"'))))
        return found[0].name if found else None

    def rollout_steps(self, request: ModelRequest) -> RolloutSteps:
        return _VertexRollout(self, request)

    def _set_traffic(self, split: dict[str, int]) -> None:
        endpoint = v1.Endpoint(name=self.endpoint_path, traffic_split=split)
        self.call("UpdateEndpoint", lambda: self.endpoint_client.update_endpoint(
            endpoint=endpoint, update_mask=field_mask_pb2.FieldMask(paths=["traffic_split"])))

    def _undeploy(self, deployed_id: str, split: dict[str, int] | None) -> None:
        remaining = {k: v for k, v in (split or {}).items() if k != deployed_id}
        if remaining and sum(remaining.values()) != 100:
            remaining = split_traffic(100, list(remaining), remaining)
        self.call("UndeployModel", lambda: self.endpoint_client.undeploy_model(
            endpoint=self.endpoint_path, deployed_model_id=deployed_id,
            traffic_split=remaining).result(timeout=self.timeout_seconds))

    def _delete_version(self, version: str, whole_model: bool) -> None:
        name = version.split("@")[0] if whole_model else version
        operation = "DeleteModel" if whole_model else "DeleteModelVersion"
        try:
            self.call(operation, lambda: (self.models.delete_model(name=name) if whole_model
                                          else self.models.delete_model_version(name=name))
                      .result(timeout=self.timeout_seconds))
        except Exception:  # noqa: BLE001, S110 - the rollout error is the one to report
            pass

    # -- idle spend --------------------------------------------------------------------

    def invocations(self, endpoint: Endpoint, since: datetime) -> float:
        now = datetime.now(timezone.utc)
        seconds = max(int((now - since).total_seconds()), 60)
        found = self.rest("ListTimeSeries", "GET",
                          f"{MONITORING}/projects/{self.env.project_id}/timeSeries", params={
                              "filter": 'metric.type="aiplatform.googleapis.com/prediction/'
                                        'online/prediction_count" AND resource.labels.'
                                        f'endpoint_id="{endpoint.name}"',
                              "interval.startTime": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "interval.endTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "aggregation.alignmentPeriod": f"{seconds}s",
                              "aggregation.perSeriesAligner": "ALIGN_SUM",
                              "aggregation.crossSeriesReducer": "REDUCE_SUM"})
        total = 0.0
        for series in found.get("timeSeries", []):
            for point in series.get("points", []):
                value = point.get("value", {})
                total += float(value.get("int64Value", value.get("doubleValue", 0)))
        return total

    def notebooks(self) -> list[Notebook]:
        found = self.rest("ListInstances", "GET", f"{NOTEBOOKS}/projects/{self.env.project_id}"
                                                  "/locations/-/instances")
        mine = [i for i in found.get("instances", [])
                if (i.get("labels") or {}).get("env") == _label(self.env.name)
                or i["name"].rsplit("/", 1)[-1].startswith(self.env.prefix)]
        return [Notebook(i["name"], "running" if i.get("state") == "ACTIVE" else
                         str(i.get("state", "?")).lower(),
                         (i.get("gceSetup") or {}).get("machineType", "?").rsplit("/", 1)[-1],
                         as_utc(i.get("updateTime") or i.get("createTime"))) for i in mine]

    def scale_down(self, endpoint: Endpoint) -> str:
        changed = []
        for deployment in endpoint.deployments:
            if deployment.instance_count <= 1:
                continue
            resources = v1.DedicatedResources(min_replica_count=1, max_replica_count=max(
                int(self.outputs.get("serving_max_replicas", 1)), 1))
            model = v1.DeployedModel(id=deployment.name, dedicated_resources=resources)
            self.call("MutateDeployedModel", lambda m=model: self.endpoint_client
                      .mutate_deployed_model(endpoint=self.endpoint_path, deployed_model=m,
                                             update_mask=field_mask_pb2.FieldMask(paths=[
                                                 "dedicated_resources.min_replica_count"]))
                      .result(timeout=self.timeout_seconds))
            changed.append(deployment.name)
        if not changed:
            return "already at 1 replica (set stop_idle.endpoints: delete to undeploy)"
        return f"min replicas of {', '.join(changed)} set to 1"

    def delete_deployments(self, endpoint: Endpoint) -> str:
        remaining = [d.name for d in endpoint.deployments]
        for deployment in endpoint.deployments:
            remaining.remove(deployment.name)
            self._undeploy(deployment.name, split_traffic(100, remaining, {}) if remaining else None)
        return f"undeployed {len(endpoint.deployments)} model(s); the endpoint stays (free)"

    def stop_notebook(self, notebook: Notebook) -> str:
        self.rest("StopInstance", "POST", f"{NOTEBOOKS}/{notebook.name}:stop", json={})
        return "notebook stopped"


def _error(exc: gexc.GoogleAPICallError) -> tuple[str, str]:
    """The API's status word (RESOURCE_EXHAUSTED, ...) and message, from the JSON error body
    when there is one."""
    try:
        error = exc.response.json()["error"]
        return error["status"], error["message"]
    except Exception:  # noqa: BLE001 - no JSON body: fall back to the exception's own fields
        code = exc.grpc_status_code.name if exc.grpc_status_code else type(exc).__name__
        return code, exc.message or str(exc)


class _VertexRollout(RolloutSteps):
    """Vertex AI primitives for one rollout: deployments are the endpoint's deployed models,
    named by their ids; traffic is the endpoint's `traffic_split`."""

    def __init__(self, runtime: GcpRuntime, request: ModelRequest) -> None:
        self.runtime, self.request = runtime, request
        self.endpoint = runtime.endpoint_path
        self.version = ""  # <model>@<version id> once uploaded
        self.new_model = False  # the upload created the registry model itself
        self.deployed_id = ""

    def register(self) -> str:
        """UploadModel as a new version of the environment's registry model (or its first,
        named `registry_model`), pending approval."""
        rt, request = self.runtime, self.request
        parent_model = rt._model_parent()
        model_id = rt.registry_model().rsplit("/", 1)[-1]
        model = v1.Model(display_name=model_id, artifact_uri=request.model_uri,
                         container_spec=v1.ModelContainerSpec(image_uri=request.image),
                         encryption_spec=rt._encryption(),
                         labels={**rt._labels(), APPROVAL_KEY: PENDING_APPROVAL},
                         version_aliases=[request.version])
        uploaded = rt.call("UploadModel", lambda: rt.models.upload_model(
            request=v1.UploadModelRequest(parent=rt.parent, model=model,
                                          parent_model=parent_model or "",
                                          model_id="" if parent_model else model_id)).result(
            timeout=rt.timeout_seconds))
        self.version = f"{uploaded.model}@{uploaded.model_version_id}"
        self.new_model = parent_model is None
        return self.version

    def adopt(self, model_id: str) -> str:
        """GetModel of the registry version `model_id` (`<model>@<version>`): it serves with
        the container it was registered with, so `--image` must name that image."""
        rt = self.runtime
        name = model_id if "/" in model_id else f"{rt.registry_model()}@{model_id}"
        found = rt.call("GetModel", lambda: rt.models.get_model(name=name))
        image = found.container_spec.image_uri
        if image and image != self.request.image:
            raise UserError(f"--image: registry version {name.rsplit('@', 1)[-1]} serves with "
                            f"the image it was registered with ({image}); on gcp a version's "
                            f"serving container is fixed at registration: pass --image {image}")
        self.version = name
        return name

    def release(self) -> None:
        """The rolled-out version serves now: approve it in the registry (labels, aliases)."""
        self.runtime.decide(self.version, True,
                            f"rolled out by deploy-model {self.request.version}")

    def current_deployments(self) -> dict[str, int]:
        """GetEndpoint: its deployed models with their `traffic_split` shares."""
        found = self.runtime._endpoint()
        split = dict(found.traffic_split)
        return {model.id: int(split.get(model.id, 0)) for model in found.deployed_models}

    def create_candidate(self, others: dict[str, int]) -> Candidate:
        """DeployModel with the canary split (Vertex names the model being deployed "0")."""
        rt = self.runtime
        (role,) = rt.outputs.require("serving_role")
        split = {"0": 100 - sum(others.values()), **others}
        deployed = v1.DeployedModel(model=self.version,
                                    display_name=f"{rt.env.prefix}-{self.request.version}",
                                    dedicated_resources=rt._resources(), service_account=role)
        result = rt.call("DeployModel", lambda: rt.endpoint_client.deploy_model(
            endpoint=rt.endpoint_path, deployed_model=deployed,
            traffic_split=split).result(timeout=rt.timeout_seconds))
        self.deployed_id = result.deployed_model.id
        return Candidate(self.deployed_id, {self.deployed_id: split.pop("0"), **split})

    def set_traffic(self, split: dict[str, int]) -> None:
        """UpdateEndpoint of `traffic_split` only."""
        self.runtime._set_traffic(split)

    def wait_healthy(self, candidate: str) -> None:
        """GetEndpoint: the deployed model is there and has available replicas (or no error).
        DeployModel's operation only finishes once the replicas are up, so one read does."""
        for model in self.runtime._endpoint().deployed_models:
            if model.id == candidate:
                if model.status.message and not model.status.available_replica_count:
                    raise Unhealthy(model.status.message)
                return
        raise Unhealthy("the deployed model is missing from the endpoint")

    def retire(self, old: list[str], candidate: str) -> None:
        """UndeployModel of each old model, leaving all traffic on `candidate`."""
        for model_id in old:
            self.runtime._undeploy(model_id, {candidate: 100})

    def remove_candidate(self, restore: dict[str, int] | None) -> None:
        """UndeployModel of the candidate with `restore` as the remaining split."""
        if self.deployed_id:
            self.runtime._undeploy(self.deployed_id, restore)

    def unregister(self) -> None:
        """DeleteModelVersion (DeleteModel when the upload created the registry model)."""
        if self.version:
            self.runtime._delete_version(self.version, self.new_model)
