"""AWS runtime: SageMaker training jobs, model packages, blue/green endpoint updates,
CloudWatch invocation metrics and notebook instances (boto3).

Rollouts are `adapters.rollout`'s template over `_BlueGreenRollout`, whose traffic steps
are SageMaker's native blue/green update: one `UpdateEndpoint` brings the new endpoint
configuration up on a new fleet, moves a canary of `adapters.runtime.CANARY_PERCENT`
capacity first, bakes it, then shifts the rest, and rolls back by itself when the stack's
latency / 5xx alarms fire.
terraml waits for the endpoint to settle and, on failure, removes the configuration and
model it created and rejects the package.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from adapters.aws.drift_runtime import AwsDriftCalls
from adapters.aws.machines import has_local_nvme
from adapters.aws.pipeline_runtime import AwsPipelineCalls
from adapters.rollout import Candidate, RolloutSteps, Unhealthy
from adapters.runtime import (
    FAILED,
    PENDING,
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
)

TRANSIENT_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException",
                   "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure",
                   "InternalServerError", "RequestTimeout", "RequestTimeoutException"}
JOB_STATES = {"InProgress": RUNNING, "Completed": SUCCEEDED, "Failed": FAILED,
              "Stopping": STOPPED, "Stopped": STOPPED}
SETTLED = {"InService", "Failed", "OutOfService"}
TRAINING_VOLUME_GB = 50
CANARY_WAIT_SECONDS = 300
DEPLOYED_PREFIX = "m-"  # names of configs/models made by deploy-model: <prefix>-m-<version>


class AwsRuntime(AwsDriftCalls, AwsPipelineCalls, CloudRuntime):
    cloud = "aws"

    def __init__(self, env, outputs, *, poll_seconds: float = 10.0,
                 timeout_seconds: float = 3600.0) -> None:
        super().__init__(env, outputs)
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self._clients: dict[str, Any] = {}

    # -- plumbing ----------------------------------------------------------------------

    def client(self, service: str):
        if service not in self._clients:
            options: dict[str, Any] = {"region_name": self.env.region,
                                       "config": Config(retries={"total_max_attempts": 1})}
            if self.outputs.endpoint:  # the local emulator: fixed test credentials
                options.update(endpoint_url=self.outputs.endpoint, aws_access_key_id="test",
                               aws_secret_access_key="test")
            self._clients[service] = boto3.client(service, **options)
        return self._clients[service]

    def translate(self, operation: str, exc: Exception) -> CloudCallError | None:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = error.get("Code", "Error")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return CloudCallError(operation, code, error.get("Message", str(exc)),
                                  transient=code in TRANSIENT_CODES or status >= 500)
        if isinstance(exc, NoCredentialsError):
            return CloudCallError(operation, "NoCredentials", "no AWS credentials found (set "
                                  "AWS_PROFILE or run `aws sso login`)", transient=False)
        if isinstance(exc, BotoCoreError):
            return CloudCallError(operation, type(exc).__name__, str(exc), transient=True)
        return None

    def sm(self, operation: str, **params: Any) -> dict[str, Any]:
        """One SageMaker call by its API name (`CreateTrainingJob`), translated and retried."""
        method = getattr(self.client("sagemaker"), _snake(operation))
        return self.call(operation, lambda: method(**params))

    def _tags(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in sorted(self.env.all_tags().items())]

    # -- training ----------------------------------------------------------------------

    def submit_training(self, request: TrainingRequest) -> Job:
        out = self.outputs
        role, output_uri, key, subnets, group = out.require(
            "training_role", "training_output_uri", "training_kms_key", "training_subnet_ids",
            "training_security_group_id")
        algorithm: dict[str, Any] = {"TrainingImage": request.image, "TrainingInputMode": "File",
                                     "ContainerEntrypoint": request.command[:1]}
        if request.command[1:]:
            algorithm["ContainerArguments"] = request.command[1:]
        resources: dict[str, Any] = {"InstanceType": request.machine.instance_type,
                                     "InstanceCount": request.instance_count,
                                     "VolumeSizeInGB": TRAINING_VOLUME_GB}
        if not has_local_nvme(request.machine.instance_type):  # SageMaker rejects a key there
            resources["VolumeKmsKeyId"] = key
        stopping = {"MaxRuntimeInSeconds": request.max_seconds}
        params: dict[str, Any] = {
            "TrainingJobName": request.job_name, "AlgorithmSpecification": algorithm,
            "RoleArn": role, "OutputDataConfig": {"S3OutputPath": output_uri, "KmsKeyId": key},
            "ResourceConfig": resources,
            "VpcConfig": {"Subnets": list(subnets), "SecurityGroupIds": [group]},
            "StoppingCondition": stopping, "EnableManagedSpotTraining": request.spot,
            "EnableInterContainerTrafficEncryption": True,
            "Environment": dict(request.environment), "Tags": self._tags(),
        }
        if request.spot:  # spot capacity can be reclaimed: wait up to 2x, resume from checkpoints
            stopping["MaxWaitTimeInSeconds"] = request.max_seconds * 2
            checkpoints = out.get("training_checkpoint_uri")
            if checkpoints:
                params["CheckpointConfig"] = {"S3Uri": f"{checkpoints}{request.job_name}/"}
        self.sm("CreateTrainingJob", **params)
        return self.job(request.job_name)

    def job(self, job_id: str) -> Job:
        found = self.sm("DescribeTrainingJob", TrainingJobName=job_id)
        state = JOB_STATES.get(found.get("TrainingJobStatus", ""), PENDING)
        secondary = found.get("SecondaryStatus", "")
        if state == RUNNING and secondary in ("Starting", "Pending"):
            state = PENDING
        detail = "; ".join(x for x in (secondary, found.get("FailureReason", "")) if x)
        resources = found.get("ResourceConfig", {})
        return Job(job_id=found.get("TrainingJobName", job_id), name=job_id, state=state,
                   detail=detail, instance_type=resources.get("InstanceType", ""),
                   instance_count=int(resources.get("InstanceCount", 1)),
                   spot=bool(found.get("EnableManagedSpotTraining")),
                   started=found.get("TrainingStartTime") or found.get("CreationTime"))

    def running_jobs(self) -> list[Job]:
        jobs = []
        for status in ("InProgress", "Stopping"):
            listed = self.sm("ListTrainingJobs", StatusEquals=status,
                             NameContains=f"{self.env.prefix}-", MaxResults=100)
            jobs += [self.job(s["TrainingJobName"]) for s in listed.get("TrainingJobSummaries", [])]
        return jobs

    # -- endpoints ---------------------------------------------------------------------

    def _describe_endpoint(self) -> dict[str, Any] | None:
        name = self.outputs["endpoint_name"]
        try:
            return self.sm("DescribeEndpoint", EndpointName=name)
        except Exception as exc:
            if "Could not find endpoint" in str(exc):
                return None
            raise

    def endpoints(self) -> list[Endpoint]:
        found = self._describe_endpoint()
        if found is None:
            return []
        config = self.sm("DescribeEndpointConfig", EndpointConfigName=found["EndpointConfigName"])
        types = {v["VariantName"]: v for v in config.get("ProductionVariants", [])}
        deployments = []
        for variant in found.get("ProductionVariants", []):
            spec = types.get(variant["VariantName"], {})
            serverless = bool(variant.get("CurrentServerlessConfig") or spec.get("ServerlessConfig"))
            deployments.append(Deployment(
                name=variant["VariantName"],
                instance_type="serverless" if serverless else spec.get("InstanceType", "?"),
                instance_count=0 if serverless else int(variant.get("CurrentInstanceCount", 0)),
                traffic_percent=100 if len(found["ProductionVariants"]) == 1 else
                round(float(variant.get("CurrentWeight", 0)) * 100)))
        return [Endpoint(found["EndpointName"], found.get("EndpointStatus", "?"), deployments,
                         found.get("LastModifiedTime") or found.get("CreationTime"))]

    def rollout_steps(self, request: ModelRequest) -> RolloutSteps:
        return _BlueGreenRollout(self, request)

    def _config(self, name: str, previous: dict[str, Any] | None,
                serverless: bool) -> dict[str, Any]:
        """The new endpoint configuration: the previous one with the new model, or (no
        endpoint left, e.g. after stop-idle) one built from the environment."""
        if previous is not None:
            variants = [{k: v for k, v in variant.items() if k != "ModelName"} | {"ModelName": name}
                        for variant in previous["ProductionVariants"]]
            config = {"EndpointConfigName": name, "ProductionVariants": variants,
                      "Tags": self._tags()}
            for field in ("DataCaptureConfig", "KmsKeyId"):
                if previous.get(field):
                    config[field] = previous[field]
            return config
        spec = self.env.serving
        if serverless:
            variant = {"VariantName": "primary", "ModelName": name, "ServerlessConfig": {
                "MemorySizeInMB": spec.memory_mb, "MaxConcurrency": spec.max_concurrency}}
        else:
            variant = {"VariantName": "primary", "ModelName": name,
                       "InstanceType": self.outputs["serving_instance_type"],
                       "InitialInstanceCount": max(spec.min_instances, 1),
                       "InitialVariantWeight": 1.0}
        return {"EndpointConfigName": name, "ProductionVariants": [variant], "Tags": self._tags()}

    def _blue_green(self, endpoint_name: str, serverless: bool, canary: int) -> dict[str, Any]:
        """UpdateEndpoint's DeploymentConfig: a `canary`% capacity canary baked for
        `CANARY_WAIT_SECONDS`, then all of it (serverless: all at once, SageMaker has no
        canary there), rolled back by SageMaker when one of the endpoint's alarms fires."""
        routing: dict[str, Any] = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        if not serverless:
            routing = {"Type": "CANARY", "WaitIntervalInSeconds": CANARY_WAIT_SECONDS,
                       "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary}}
        config: dict[str, Any] = {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing, "TerminationWaitInSeconds": 120,
            "MaximumExecutionTimeoutInSeconds": int(self.timeout_seconds)}}
        alarms = self._endpoint_alarms(endpoint_name)
        if alarms:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
        return config

    def _endpoint_alarms(self, endpoint_name: str) -> list[str]:
        cloudwatch = self.client("cloudwatch")
        found = self.call("DescribeAlarms", lambda: cloudwatch.describe_alarms(
            AlarmNamePrefix=self.env.prefix))
        return sorted(a["AlarmName"] for a in found.get("MetricAlarms", [])
                      if any(d.get("Value") == endpoint_name for d in a.get("Dimensions", [])))

    def _wait(self, endpoint_name: str) -> dict[str, Any]:
        """DescribeEndpoint until it settles (InService, Failed, OutOfService) or the timeout
        passes (then `FailureReason` says so)."""
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            found = self.sm("DescribeEndpoint", EndpointName=endpoint_name)
            status = found.get("EndpointStatus", "")
            if status in SETTLED:
                return found
            if time.monotonic() > deadline:
                return {**found, "FailureReason": f"still {status} after "
                                                  f"{self.timeout_seconds:.0f}s"}
            time.sleep(self.poll_seconds)

    def _retire(self, previous: dict[str, Any]) -> None:
        """Delete the configuration and model of the previous terraml rollout (never the
        stack's placeholder, which Terraform owns)."""
        name = previous["EndpointConfigName"]
        if not name.startswith(f"{self.env.prefix}-{DEPLOYED_PREFIX}"):
            return
        self.sm("DeleteEndpointConfig", EndpointConfigName=name)
        for variant in previous.get("ProductionVariants", []):
            self.sm("DeleteModel", ModelName=variant["ModelName"])

    # -- idle spend --------------------------------------------------------------------

    def invocations(self, endpoint: Endpoint, since: datetime) -> float:
        cloudwatch = self.client("cloudwatch")
        now = datetime.now(timezone.utc)
        seconds = max((now - since).total_seconds(), 60)
        period = max(60, int(seconds // 1440 // 60 + 1) * 60)  # at most 1,440 datapoints
        total = 0.0
        for deployment in endpoint.deployments:
            found = self.call("GetMetricStatistics", lambda d=deployment: (
                cloudwatch.get_metric_statistics(
                    Namespace="AWS/SageMaker", MetricName="Invocations",
                    Dimensions=[{"Name": "EndpointName", "Value": endpoint.name},
                                {"Name": "VariantName", "Value": d.name}],
                    StartTime=since, EndTime=now + timedelta(minutes=1), Period=period,
                    Statistics=["Sum"])))
            total += sum(p.get("Sum", 0.0) for p in found.get("Datapoints", []))
        return total

    def notebooks(self) -> list[Notebook]:
        found = self.sm("ListNotebookInstances", NameContains=self.env.prefix, MaxResults=100)
        return [Notebook(n["NotebookInstanceName"],
                         "running" if n.get("NotebookInstanceStatus") == "InService"
                         else n.get("NotebookInstanceStatus", "?"),
                         n.get("InstanceType", "?"),
                         n.get("LastModifiedTime") or n.get("CreationTime"))
                for n in found.get("NotebookInstances", [])]

    def scale_down(self, endpoint: Endpoint) -> str:
        changes = [{"VariantName": d.name, "DesiredInstanceCount": 1}
                   for d in endpoint.deployments if not d.serverless and d.instance_count > 1]
        if not changes:
            return "already at SageMaker's minimum of 1 instance per variant " \
                   "(set stop_idle.endpoints: delete to stop it)"
        self.sm("UpdateEndpointWeightsAndCapacities", EndpointName=endpoint.name,
                DesiredWeightsAndCapacities=changes)
        return f"scaled {', '.join(c['VariantName'] for c in changes)} to 1 instance"

    def delete_deployments(self, endpoint: Endpoint) -> str:
        self.sm("DeleteEndpoint", EndpointName=endpoint.name)
        return "endpoint deleted (configuration and model kept: `terraml deploy-model` or " \
               "`cdktf deploy` brings it back)"

    def stop_notebook(self, notebook: Notebook) -> str:
        self.sm("StopNotebookInstance", NotebookInstanceName=notebook.name)
        return "notebook stopped"


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


class _BlueGreenRollout(RolloutSteps):
    """SageMaker primitives for one rollout. A deployment here is an endpoint configuration
    (SageMaker's unit of blue/green; its variants keep their names), named
    `<prefix>-m-<version>`; the registered model is a model package.

    What SageMaker does natively: `set_traffic` with the canary split starts the blue/green
    `UpdateEndpoint` (canary of the candidate's share, bake, shift everything, auto-rollback
    on the endpoint's alarms), so the template's later `set_traffic({candidate: 100})` has
    nothing left to do, and a rollback's traffic is already restored by SageMaker when
    `wait_healthy` sees the update fail.
    """

    def __init__(self, runtime: AwsRuntime, request: ModelRequest) -> None:
        self.runtime, self.request = runtime, request
        self.endpoint = runtime.outputs["endpoint_name"]
        self.name = f"{runtime.env.prefix}-{DEPLOYED_PREFIX}{request.version}"
        self.serverless = runtime.outputs.get("serving_mode") == "serverless"
        self.package = ""
        self.container: dict[str, str] | None = None  # an adopted version on another image
        self.previous: dict[str, Any] | None = None  # the live endpoint configuration
        self.undo: list[tuple[str, dict[str, Any]]] = []  # what create_candidate made, in order

    def register(self) -> str:
        """CreateModelPackage in the stack's group, pending approval."""
        rt, request = self.runtime, self.request
        group, _, _ = rt.outputs.require("model_registry", "serving_role", "endpoint_name")
        self.package = rt.sm(
            "CreateModelPackage", ModelPackageGroupName=group,
            ModelPackageDescription=f"terraml deploy-model {request.version}",
            InferenceSpecification={
                "Containers": [{"Image": request.image, "ModelDataUrl": request.model_uri}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"]},
            ModelApprovalStatus="PendingManualApproval", Tags=rt._tags())["ModelPackageArn"]
        return self.package

    def adopt(self, model_id: str) -> str:
        """The approved model package `model_id` (an ARN) is what the candidate serves, with
        `--image` as its serving container when that differs from the registered one
        (DescribeModelPackage)."""
        self.package = model_id
        found = self.runtime.sm("DescribeModelPackage", ModelPackageName=model_id)
        container = found.get("InferenceSpecification", {}).get("Containers", [{}])[0]
        if container.get("Image") != self.request.image:
            self.container = {"Image": self.request.image,
                              "ModelDataUrl": container.get("ModelDataUrl", "")}
        return model_id

    def current_deployments(self) -> dict[str, int]:
        """DescribeEndpoint and its DescribeEndpointConfig: the live configuration has all
        the traffic; nothing when the endpoint was deleted (e.g. by stop-idle)."""
        current = self.runtime._describe_endpoint()
        if current is None:
            return {}
        self.previous = self.runtime.sm("DescribeEndpointConfig",
                                        EndpointConfigName=current["EndpointConfigName"])
        return {current["EndpointConfigName"]: 100}

    def create_candidate(self, others: dict[str, int]) -> Candidate:
        """CreateModel and CreateEndpointConfig (the live configuration with the new model,
        or one from the environment); with no endpoint, CreateEndpoint on it, which gives
        it all traffic at once."""
        rt, out = self.runtime, self.runtime.outputs
        model: dict[str, Any] = {"ModelName": self.name, "ExecutionRoleArn": out["serving_role"],
                                 "PrimaryContainer": self.container or
                                 {"ModelPackageName": self.package},
                                 "EnableNetworkIsolation": True, "Tags": rt._tags()}
        if not self.serverless:
            model["VpcConfig"] = {"Subnets": list(out["training_subnet_ids"]),
                                  "SecurityGroupIds": [out["training_security_group_id"]]}
        rt.sm("CreateModel", **model)
        self.undo.append(("DeleteModel", {"ModelName": self.name}))
        rt.sm("CreateEndpointConfig", **rt._config(self.name, self.previous, self.serverless))
        self.undo.append(("DeleteEndpointConfig", {"EndpointConfigName": self.name}))
        if self.previous is not None:
            return Candidate(self.name, {self.previous["EndpointConfigName"]: 100})
        self.undo.append(("DeleteEndpoint", {"EndpointName": self.endpoint}))
        rt.sm("CreateEndpoint", EndpointName=self.endpoint, EndpointConfigName=self.name,
              Tags=rt._tags())
        return Candidate(self.name, {self.name: 100})

    def set_traffic(self, split: dict[str, int]) -> None:
        """UpdateEndpoint to the candidate with a blue/green canary of its share in `split`;
        nothing when `split` gives it everything (the blue/green update already did)."""
        share = split.get(self.name, 0)
        if share >= 100:
            return
        self.runtime.sm("UpdateEndpoint", EndpointName=self.endpoint,
                        EndpointConfigName=self.name, DeploymentConfig=self.runtime._blue_green(
                            self.endpoint, self.serverless, share))

    def wait_healthy(self, candidate: str) -> None:
        """DescribeEndpoint until it settles: healthy when InService on the candidate; else
        `Unhealthy` with SageMaker's failure reason or the configuration it rolled back to."""
        final = self.runtime._wait(self.endpoint)
        status = final.get("EndpointStatus")
        if status == "InService" and final.get("EndpointConfigName") == candidate:
            return
        raise Unhealthy(final.get("FailureReason") or (
            f"SageMaker rolled back to {final.get('EndpointConfigName')}"
            if status == "InService" else str(status)))

    def release(self) -> None:
        """UpdateModelPackage to Approved."""
        self.runtime.sm("UpdateModelPackage", ModelPackageArn=self.package,
                        ModelApprovalStatus="Approved")

    def retire(self, old: list[str], candidate: str) -> None:
        """DeleteEndpointConfig and DeleteModel of the previous terraml rollout (the stack's
        placeholder is Terraform's and stays)."""
        if self.previous is not None:
            self.runtime._retire(self.previous)

    def remove_candidate(self, restore: dict[str, int] | None) -> None:
        """Delete what create_candidate made, newest first (DeleteEndpoint, DeleteEndpoint-
        Config, DeleteModel); `restore` needs no call: SageMaker's rollback keeps or puts back
        the previous configuration."""
        for operation, params in reversed(self.undo):
            try:
                self.runtime.sm(operation, **params)
            except Exception:  # noqa: BLE001, S112 - best effort: keep undoing the rest
                continue

    def unregister(self) -> None:
        """UpdateModelPackage to Rejected (packages are immutable records; best effort)."""
        try:
            self.runtime.sm("UpdateModelPackage", ModelPackageArn=self.package,
                            ModelApprovalStatus="Rejected")
        except Exception:  # noqa: BLE001, S110 - the rollout error is the one to report
            pass
