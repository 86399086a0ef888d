"""AWS runtime: SageMaker training jobs, model packages, blue/green endpoint updates,
CloudWatch invocation metrics and notebook instances (boto3).

Rollouts use SageMaker's blue/green update: the new endpoint configuration comes up
on a new fleet, a canary share of traffic moves first, and SageMaker rolls back by
itself when the stack's latency / 5xx alarms fire. terraml then waits for the endpoint
and, on failure, removes the configuration and model it created and rejects the package.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from adapters.aws.machines import has_local_nvme
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
    Progress,
    Rollout,
    TrainingRequest,
)

TRANSIENT_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException",
                   "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure",
                   "InternalServerError", "RequestTimeout", "RequestTimeoutException"}
JOB_STATES = {"InProgress": RUNNING, "Completed": SUCCEEDED, "Failed": FAILED,
              "Stopping": STOPPED, "Stopped": STOPPED}
SETTLED = {"InService", "Failed", "OutOfService"}
TRAINING_VOLUME_GB = 50
CANARY_PERCENT = 10
CANARY_WAIT_SECONDS = 300
DEPLOYED_PREFIX = "m-"  # names of configs/models made by deploy-model: <prefix>-m-<version>


class AwsRuntime(CloudRuntime):
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

    def deploy_model(self, request: ModelRequest, progress: Progress) -> Rollout:
        out = self.outputs
        group, role, endpoint_name = out.require("model_registry", "serving_role",
                                                 "endpoint_name")
        name = f"{self.env.prefix}-{DEPLOYED_PREFIX}{request.version}"
        undo: list[tuple[str, dict[str, Any]]] = []
        package = self.sm(
            "CreateModelPackage", ModelPackageGroupName=group,
            ModelPackageDescription=f"terraml deploy-model {request.version}",
            InferenceSpecification={
                "Containers": [{"Image": request.image, "ModelDataUrl": request.model_uri}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"]},
            ModelApprovalStatus="PendingManualApproval", Tags=self._tags())["ModelPackageArn"]
        progress(f"registered {package}")
        current = self._describe_endpoint()
        try:
            previous = self.sm("DescribeEndpointConfig",
                               EndpointConfigName=current["EndpointConfigName"]) \
                if current else None
            serverless = out.get("serving_mode") == "serverless"
            model: dict[str, Any] = {"ModelName": name, "ExecutionRoleArn": role,
                                     "PrimaryContainer": {"ModelPackageName": package},
                                     "EnableNetworkIsolation": True, "Tags": self._tags()}
            if not serverless:
                model["VpcConfig"] = {"Subnets": list(out["training_subnet_ids"]),
                                      "SecurityGroupIds": [out["training_security_group_id"]]}
            self.sm("CreateModel", **model)
            undo.append(("DeleteModel", {"ModelName": name}))
            self.sm("CreateEndpointConfig", **self._config(name, previous, serverless))
            undo.append(("DeleteEndpointConfig", {"EndpointConfigName": name}))
            if current is None:
                progress(f"creating endpoint {endpoint_name}")
                self.sm("CreateEndpoint", EndpointName=endpoint_name, EndpointConfigName=name,
                        Tags=self._tags())
                undo.insert(0, ("DeleteEndpoint", {"EndpointName": endpoint_name}))
            else:
                progress(f"blue/green update of {endpoint_name}: "
                         + ("all at once" if serverless else f"{CANARY_PERCENT}% canary first"))
                self.sm("UpdateEndpoint", EndpointName=endpoint_name, EndpointConfigName=name,
                        DeploymentConfig=self._blue_green(endpoint_name, serverless))
            final = self._wait(endpoint_name, progress)
        except BaseException:
            self._undo(undo, package)
            raise
        healthy = final.get("EndpointStatus") == "InService" and \
            final.get("EndpointConfigName") == name
        if not healthy:
            detail = final.get("FailureReason") or (
                f"SageMaker rolled back to {final.get('EndpointConfigName')}"
                if final.get("EndpointStatus") == "InService" else final.get("EndpointStatus"))
            self._undo(undo, package)
            return Rollout(package, endpoint_name, name, False, f"rolled back: {detail}")
        self.sm("UpdateModelPackage", ModelPackageArn=package, ModelApprovalStatus="Approved")
        if previous is not None:
            self._retire(previous)
        return Rollout(package, endpoint_name, name, True, "InService")

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

    def _blue_green(self, endpoint_name: str, serverless: bool) -> dict[str, Any]:
        routing: dict[str, Any] = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        if not serverless:
            routing = {"Type": "CANARY", "WaitIntervalInSeconds": CANARY_WAIT_SECONDS,
                       "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": CANARY_PERCENT}}
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

    def _wait(self, endpoint_name: str, progress: Progress) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            found = self.sm("DescribeEndpoint", EndpointName=endpoint_name)
            status = found.get("EndpointStatus", "")
            if status in SETTLED:
                return found
            if time.monotonic() > deadline:
                return {**found, "FailureReason": f"still {status} after "
                                                  f"{self.timeout_seconds:.0f}s"}
            progress(f"{endpoint_name}: {status}")
            time.sleep(self.poll_seconds)

    def _undo(self, undo: list[tuple[str, dict[str, Any]]], package: str) -> None:
        """Remove what a failed rollout created (newest first) and reject the package."""
        for operation, params in reversed(undo):
            try:
                self.sm(operation, **params)
            except Exception:  # noqa: BLE001, S112 - best effort: keep undoing the rest
                continue
        try:
            self.sm("UpdateModelPackage", ModelPackageArn=package, ModelApprovalStatus="Rejected")
        except Exception:  # noqa: BLE001, S110 - the rollout error is the one to report
            pass

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
