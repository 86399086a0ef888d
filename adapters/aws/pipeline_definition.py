"""The SageMaker Pipelines definition (JSON, Version 2020-12-01) of one environment's pipeline.

Contract: `definition(inputs)` turns the neutral `pipeline:` spec plus the AWS names it runs
with (`DefinitionInputs`: roles, buckets, key, network, machines, model package group,
tracking; plain strings or Terraform tokens) into the definition as Python data, ready for
`json.dumps`. It makes no cloud call and creates no resource; the same inputs always give the
same definition. Shape (step names are fixed, so runs, alerts and the emulator can name them):

- Parameters: `InputDataUri` (String): where the first step reads; default the
  `on_new_data` location, else the `raw` bucket.
- `prepare` (Processing, when set): reads InputDataUri, writes `prepared` under the features
  bucket, per run.
- `train` (Training): reads `prepared` (else InputDataUri) as channel `train`; machine, spot,
  runtime limit, checkpoints, VPC and KMS as the training layer's outputs say.
- `evaluate` (Processing, when set): reads the model and the data, writes `evaluation` under
  the artifacts bucket per run; its report `METRICS_FILE` is the property file
  `EvaluationReport`.
- `gate` (Condition, only with evaluate and a metric): `Std:JsonGet` of the metric
  (`min` -> GreaterThanOrEqualTo, `max` -> LessThanOrEqualTo; both must hold); If:
  `register`, Else: `gate-failed` (Fail). Without a gate, `register` runs after its inputs.
- `register` (RegisterModel): a version in the model package group, `PendingManualApproval`
  when `register.approval` is manual, else `Approved`; metadata `metric:<name>` (the gated
  value) and `pipeline_execution`.

Every job runs as `job_role` in the private subnets and jobs security group, with the volume
key (except on instances with local NVMe, which SageMaker encrypts itself), and gets the
variables of `core.pipeline.STEP_VARIABLES` mapped to SageMaker's paths (`STEP_PATHS`), plus
`MLFLOW_TRACKING_URI` / `MLFLOW_EXPERIMENT_NAME` when tracking is on. Job names are kept in the
step arguments (`<prefix>-<step>`): SageMaker Pipelines then uses them as the jobs' name
prefix (the SDK's `use_custom_job_prefix`), so the execution role is scoped to `<prefix>-*`
job ARNs. Every output location includes the execution id, so runs never overwrite each other.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.aws.machines import has_local_nvme
from core.pipeline import METRICS_FILE, Pipeline

VERSION = "2020-12-01"
INPUT_PARAMETER = "InputDataUri"
REPORT = "EvaluationReport"  # the evaluate step's property file
PREPARED, EVALUATION = "prepared", "evaluation"  # output names
GATE, REGISTER, GATE_FAILED = "gate", "register", "gate-failed"
# CustomerMetadataProperties key of the gated metric (what `terraml models` reads back:
# adapters/aws/pipeline_runtime.py)
METRIC_PREFIX = "metric:"
PROCESSING_VOLUME_GB, TRAINING_VOLUME_GB = 30, 50
MAX_PROCESSING_SECONDS = 5 * 24 * 3600  # SageMaker's limit for a processing job
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}

# Where each step's container finds what STEP_VARIABLES name, on SageMaker.
PROCESSING = "/opt/ml/processing"
STEP_PATHS: dict[str, dict[str, str]] = {
    "prepare": {"TERRAML_INPUT": f"{PROCESSING}/input", "TERRAML_OUTPUT": f"{PROCESSING}/output"},
    "train": {"TERRAML_INPUT": "/opt/ml/input/data/train", "TERRAML_MODEL_DIR": "/opt/ml/model"},
    "evaluate": {"TERRAML_INPUT": f"{PROCESSING}/input",
                 # SageMaker hands the evaluate step the packed model (model.tar.gz) here
                 "TERRAML_MODEL_DIR": f"{PROCESSING}/model",
                 "TERRAML_METRICS_FILE": f"{PROCESSING}/{EVALUATION}/{METRICS_FILE}"},
}


@dataclass(frozen=True)
class DefinitionInputs:
    spec: Pipeline
    pipeline_name: str
    job_prefix: str  # jobs are named `<job_prefix>-<step>-...`
    job_role: str  # the role every job runs as (the training role)
    key: str  # KMS key ARN: volumes and outputs
    subnets: Sequence[str]
    security_group: str
    buckets: Mapping[str, str]  # neutral bucket name -> bucket name
    machines: Mapping[str, str]  # step name -> instance type
    spot: bool  # managed spot for the train step
    max_runtime_seconds: int  # training.max_runtime_hours, the limit of every job
    model_group: str
    approval: str  # manual | auto
    tracking: tuple[str, str] | None = None  # (tracking URI, experiment name)


def join(*values: Any, on: str = "/") -> dict[str, Any]:
    return {"Std:Join": {"On": on, "Values": list(values)}}


def run_location(bucket: str, pipeline_name: str, step: str) -> dict[str, Any]:
    """`s3://<bucket>/pipelines/<pipeline>/<execution id>/<step>`."""
    return join(f"s3://{bucket}/pipelines/{pipeline_name}", EXECUTION_ID, step)


def step_output(step: str, output: str) -> dict[str, str]:
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri"}


MODEL_ARTIFACTS = {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"}


def definition(inputs: DefinitionInputs) -> dict[str, Any]:
    """The pipeline definition (see the module contract)."""
    spec = inputs.spec
    steps = spec.steps
    default_input = (f"s3://{inputs.buckets[spec.trigger_bucket()]}/{spec.trigger_prefix()}"
                     if spec.on_new_data else f"s3://{inputs.buckets['raw']}/")
    data: Any = {"Get": f"Parameters.{INPUT_PARAMETER}"}
    top: list[dict[str, Any]] = []
    if steps.prepare is not None:
        destination = run_location(inputs.buckets["features"], inputs.pipeline_name, "prepare")
        top.append(_processing(inputs, "prepare", [("input", data, "TERRAML_INPUT")],
                               (PREPARED, destination, STEP_PATHS["prepare"]["TERRAML_OUTPUT"])))
        data = step_output("prepare", PREPARED)
    top.append(_training(inputs, data))
    register = _register(inputs)
    evaluate = steps.evaluate
    if evaluate is not None:
        report = run_location(inputs.buckets["artifacts"], inputs.pipeline_name, "evaluate")
        step = _processing(inputs, "evaluate", [("model", MODEL_ARTIFACTS, "TERRAML_MODEL_DIR"),
                                                ("input", data, "TERRAML_INPUT")],
                           (EVALUATION, report,
                            posixpath.dirname(STEP_PATHS["evaluate"]["TERRAML_METRICS_FILE"])))
        step["PropertyFiles"] = [{"PropertyFileName": REPORT, "OutputName": EVALUATION,
                                  "FilePath": METRICS_FILE}]
        top.append(step)
        register["Arguments"]["ModelMetrics"] = {"ModelQuality": {"Statistics": {
            "ContentType": "application/json",
            "S3Uri": join(step_output("evaluate", EVALUATION), METRICS_FILE)}}}
    if evaluate is not None and evaluate.metric:
        value = metric_value(evaluate.metric)
        bounds = gate_text(evaluate.min, evaluate.max)
        register["Arguments"]["CustomerMetadataProperties"][METRIC_PREFIX + evaluate.metric] = \
            join(value, on="")
        top.append({"Name": GATE, "Type": "Condition", "Arguments": {
            "Conditions": _conditions(value, evaluate.min, evaluate.max),
            "IfSteps": [register],
            "ElseSteps": [{"Name": GATE_FAILED, "Type": "Fail", "Arguments": {
                "ErrorMessage": join(f"{evaluate.metric} = ", value,
                                     f" is outside the gate ({bounds}); model not registered",
                                     on="")}}],
        }})
    else:
        top.append(register)
    return {
        "Version": VERSION,
        "Metadata": {},
        "Parameters": [{"Name": INPUT_PARAMETER, "Type": "String",
                        "DefaultValue": default_input}],
        "Steps": top,
    }


def metric_value(metric: str) -> dict[str, Any]:
    """The metric as the evaluate step's report gives it (`{"<metric>": value}`)."""
    return {"Std:JsonGet": {"PropertyFile": {"Get": f"Steps.evaluate.PropertyFiles.{REPORT}"},
                            "Path": metric}}


def gate_text(low: float | None, high: float | None) -> str:
    return " and ".join(part for part in (f">= {low:g}" if low is not None else "",
                                          f"<= {high:g}" if high is not None else "") if part)


def _conditions(value: dict[str, Any], low: float | None,
                high: float | None) -> list[dict[str, Any]]:
    found = []
    if low is not None:
        found.append({"Type": "GreaterThanOrEqualTo", "LeftValue": value,
                      "RightValue": float(low)})
    if high is not None:
        found.append({"Type": "LessThanOrEqualTo", "LeftValue": value, "RightValue": float(high)})
    return found


def _environment(inputs: DefinitionInputs, step: str) -> dict[str, str]:
    variables = dict(STEP_PATHS[step])
    if inputs.tracking is not None:
        uri, experiment = inputs.tracking
        variables.update(MLFLOW_TRACKING_URI=uri, MLFLOW_EXPERIMENT_NAME=experiment)
    return variables


def _network(inputs: DefinitionInputs) -> dict[str, Any]:
    return {"Subnets": list(inputs.subnets), "SecurityGroupIds": [inputs.security_group]}


def _s3_input(name: str, uri: Any, local: str) -> dict[str, Any]:
    return {"InputName": name, "AppManaged": False, "S3Input": {
        "S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated"}}


def _processing(inputs: DefinitionInputs, name: str, reads: list[tuple[str, Any, str]],
                output: tuple[str, Any, str]) -> dict[str, Any]:
    """A Processing step; `reads` are (input name, S3 URI, variable naming its local path),
    `output` is (output name, S3 URI, local path)."""
    step = getattr(inputs.spec.steps, name)
    argv = step.argv()
    instance = inputs.machines[name]
    cluster: dict[str, Any] = {"InstanceCount": 1, "InstanceType": instance,
                               "VolumeSizeInGB": PROCESSING_VOLUME_GB}
    if not has_local_nvme(instance):  # SageMaker rejects a volume key there
        cluster["VolumeKmsKeyId"] = inputs.key
    paths = STEP_PATHS[name]
    output_name, destination, local = output
    return {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingJobName": f"{inputs.job_prefix}-{name}",
        "ProcessingResources": {"ClusterConfig": cluster},
        "AppSpecification": {"ImageUri": step.image, "ContainerEntrypoint": argv[:1],
                             **({"ContainerArguments": argv[1:]} if argv[1:] else {})},
        "RoleArn": inputs.job_role,
        "Environment": _environment(inputs, name),
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": True,
                          "EnableNetworkIsolation": False, "VpcConfig": _network(inputs)},
        "ProcessingInputs": [_s3_input(input_name, uri, paths[variable])
                             for input_name, uri, variable in reads],
        "ProcessingOutputConfig": {"KmsKeyId": inputs.key, "Outputs": [{
            "OutputName": output_name, "AppManaged": False,
            "S3Output": {"S3Uri": destination, "LocalPath": local,
                         "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": min(inputs.max_runtime_seconds,
                                                         MAX_PROCESSING_SECONDS)},
    }}


def _training(inputs: DefinitionInputs, data: Any) -> dict[str, Any]:
    step = inputs.spec.steps.train
    argv = step.argv()
    instance = inputs.machines["train"]
    resources: dict[str, Any] = {"InstanceType": instance, "InstanceCount": 1,
                                 "VolumeSizeInGB": TRAINING_VOLUME_GB}
    if not has_local_nvme(instance):  # SageMaker rejects a volume key there
        resources["VolumeKmsKeyId"] = inputs.key
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": inputs.max_runtime_seconds}
    arguments: dict[str, Any] = {
        "TrainingJobName": f"{inputs.job_prefix}-train",
        "AlgorithmSpecification": {"TrainingImage": step.image, "TrainingInputMode": "File",
                                   "ContainerEntrypoint": argv[:1],
                                   **({"ContainerArguments": argv[1:]} if argv[1:] else {})},
        "RoleArn": inputs.job_role,
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": data,
            "S3DataDistributionType": "FullyReplicated"}}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{inputs.buckets['models']}/training-output/",
                             "KmsKeyId": inputs.key},
        "ResourceConfig": resources,
        "VpcConfig": _network(inputs),
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": inputs.spot,
        "EnableInterContainerTrafficEncryption": True,
        "Environment": _environment(inputs, "train"),
    }
    if inputs.spot:  # spot capacity can be reclaimed: wait up to 2x, resume from checkpoints
        stopping["MaxWaitTimeInSeconds"] = inputs.max_runtime_seconds * 2
        arguments["CheckpointConfig"] = {"S3Uri": join(
            f"s3://{inputs.buckets['artifacts']}/checkpoints/{inputs.pipeline_name}",
            EXECUTION_ID)}
    return {"Name": "train", "Type": "Training", "Arguments": arguments}


def _register(inputs: DefinitionInputs) -> dict[str, Any]:
    return {"Name": REGISTER, "Type": "RegisterModel", "Arguments": {
        "ModelPackageGroupName": inputs.model_group,
        "ModelApprovalStatus": "PendingManualApproval" if inputs.approval == "manual"
        else "Approved",
        # The image the model was trained with; `terraml deploy-model --image` picks the
        # serving image when the version is deployed.
        "InferenceSpecification": {
            "Containers": [{"Image": inputs.spec.steps.train.image,
                            "ModelDataUrl": MODEL_ARTIFACTS}],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"]},
        "CustomerMetadataProperties": {
            "pipeline_execution": {"Get": "Execution.PipelineExecutionArn"}},
    }}
