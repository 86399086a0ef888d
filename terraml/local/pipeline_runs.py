"""SageMaker Pipelines executions in the embedded emulator: moto stores an execution and calls
it succeeded; here `StartPipelineExecution` walks the stored definition instead. Containers
never run. Installed by `terraml.local.moto_server.install()`.

What is emulated (every execution is finished when StartPipelineExecution returns):

- Parameters: the definition's defaults, overridden by the call's `PipelineParameters`.
- Expressions: `Get` of `Parameters.*`, `Execution.PipelineExecutionId | PipelineExecutionArn
  | PipelineName | StartDateTime | CurrentDateTime` and `Steps.<step>.<property path>`
  (`Outputs['name']` picks a list item by name); `Std:Join`; `Std:JsonGet` on a property file.
- Order: `DependsOn` and the steps a step's arguments refer to; a failed step ends the run.
- Processing and Training steps: moto jobs (completed at once), named `<name kept in the step
  arguments>-<execution id>` (SageMaker's custom job prefix), else
  `pipelines-<execution id>-<step>`. A training job's `ModelArtifacts.S3ModelArtifacts` is
  `<S3OutputPath><job>/output/model.tar.gz`; nothing is written there.
- Property files (the evaluate step's report): read from the step's output location in the
  emulator's S3 (`<output S3Uri>/<FilePath>`). When nothing is there, a report staged at the
  same location with `emulator` in place of the execution id stands in for what the container
  would have written, and is copied to the run's location. When neither exists, the step fails
  and its reason says that containers do not run in the emulator and where to put a report.
- Condition: Equals, GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, In, Not,
  Or (all conditions must hold); the branch taken runs; `Metadata.Condition.Outcome`.
- RegisterModel: a real CreateModelPackage in moto with the resolved group, approval status,
  inference specification, model metrics and customer metadata; `Metadata.RegisterModel.Arn`.
- Fail: the step and the execution fail with its `ErrorMessage`.
- Reading results: DescribePipelineExecution (status, `FailureReason`),
  ListPipelineExecutions (real failure reasons, `SortOrder`/`MaxResults`) and
  ListPipelineExecutionSteps (per-step status, start/end, failure reason, job/package
  metadata). StopPipelineExecution answers that the run has already finished.

Not emulated: containers, caching, retries, parallelism limits, other step types (Lambda,
Callback, EMR, Transform, ...: the step fails naming its type), model artifacts and reports
written by containers. Events: see `terraml.local.events` (it listens through `LISTENERS`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from terraml.local.reports import STAGED  # the execution id of a report staged before a run

_PATH = re.compile(r"\.?([A-Za-z0-9_:-]+)|\['([^']*)'\]|\[(\d+)\]")


class StepFailed(Exception):
    """A step failed: its reason (the run stops there)."""


@dataclass
class Run:
    """One execution's outcome, kept on the moto backend (reset with it)."""

    arn: str
    status: str = "Executing"
    failure_reason: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)  # ListPipelineExecutionSteps
    properties: dict[str, Any] = field(default_factory=dict)  # step name -> its properties
    reports: dict[str, Any] = field(default_factory=dict)  # property file URI -> parsed JSON


# Called after every walk with (backend, pipeline ARN, run): e.g. to emit the status event.
LISTENERS: list[Callable[[SageMakerModelBackend, str, Run], None]] = []


def runs(backend: SageMakerModelBackend) -> dict[str, Run]:
    return backend.__dict__.setdefault("_terraml_pipeline_runs", {})


class Walker:
    """Runs one execution of `definition` (see the module docstring)."""

    def __init__(self, backend: SageMakerModelBackend, pipeline_name: str, execution_arn: str,
                 definition: dict[str, Any], parameters: list[dict[str, str]] | None) -> None:
        self.backend = backend
        self.pipeline_name = pipeline_name
        self.arn = execution_arn
        self.execution_id = execution_arn.rsplit("/", 1)[-1]
        self.started = utcnow()
        self.definition = definition
        self.parameters = {p["Name"]: p.get("DefaultValue")
                           for p in definition.get("Parameters") or []}
        self.parameters.update({p["Name"]: p["Value"] for p in parameters or []})
        self.run = Run(execution_arn)
        self.by_name = {step["Name"]: step for step in _all_steps(definition.get("Steps") or [])}

    # -- the walk -----------------------------------------------------------------------

    def walk(self) -> Run:
        try:
            for step in _ordered(self.definition.get("Steps") or []):
                self._step(step)
            self.run.status = "Succeeded"
        except StepFailed as exc:
            self.run.status, self.run.failure_reason = "Failed", str(exc)
        return self.run

    def _step(self, step: dict[str, Any]) -> None:
        name, kind = step["Name"], step.get("Type", "")
        record: dict[str, Any] = {"StepName": name, "StartTime": utcnow(), "AttemptCount": 1,
                                  "StepStatus": "Executing", "Metadata": {}}
        if step.get("DisplayName"):
            record["StepDisplayName"] = step["DisplayName"]
        self.run.steps.append(record)
        handler = getattr(self, f"_{kind.lower()}", None)
        try:
            if handler is None:
                raise StepFailed(f"{kind} steps are not emulated locally")
            branch = handler(step, record)
        except StepFailed as exc:
            record.update(StepStatus="Failed", FailureReason=str(exc), EndTime=utcnow())
            raise StepFailed(f"step {name} failed: {exc}") from None
        record.update(StepStatus="Succeeded", EndTime=utcnow())
        for inner in branch or []:
            self._step(inner)

    def _processing(self, step: dict[str, Any], record: dict[str, Any]) -> None:
        args = self.resolve(step.get("Arguments") or {})
        name = self._job_name(step, args.pop("ProcessingJobName", None))
        job = self.backend.create_processing_job(
            app_specification=args.get("AppSpecification"),
            experiment_config=args.get("ExperimentConfig"),
            network_config=args.get("NetworkConfig"),
            processing_inputs=args.get("ProcessingInputs"), processing_job_name=name,
            processing_output_config=args.get("ProcessingOutputConfig"),
            role_arn=args.get("RoleArn"), tags=[], stopping_condition=args.get(
                "StoppingCondition"))
        record["Metadata"] = {"ProcessingJob": {"Arn": job.arn}}
        self.run.properties[step["Name"]] = {**args, "ProcessingJobName": name,
                                             "ProcessingJobArn": job.arn,
                                             "ProcessingJobStatus": "Completed"}
        for declared in step.get("PropertyFiles") or []:
            self._load_report(step["Name"], declared)

    def _training(self, step: dict[str, Any], record: dict[str, Any]) -> None:
        args = self.resolve(step.get("Arguments") or {})
        name = self._job_name(step, args.pop("TrainingJobName", None))
        job = self.backend.create_training_job(
            training_job_name=name, hyper_parameters=args.get("HyperParameters"),
            algorithm_specification=copy.deepcopy(args.get("AlgorithmSpecification") or {}),
            role_arn=args.get("RoleArn"), input_data_config=args.get("InputDataConfig"),
            output_data_config=args.get("OutputDataConfig") or {"S3OutputPath": ""},
            resource_config=args.get("ResourceConfig"), vpc_config=args.get("VpcConfig"),
            stopping_condition=args.get("StoppingCondition"), tags=[],
            enable_network_isolation=args.get("EnableNetworkIsolation", False),
            enable_inter_container_traffic_encryption=args.get(
                "EnableInterContainerTrafficEncryption", False),
            enable_managed_spot_training=args.get("EnableManagedSpotTraining", False),
            checkpoint_config=args.get("CheckpointConfig"), debug_hook_config=None,
            debug_rule_configurations=None, tensor_board_output_config=None,
            experiment_config=None)
        record["Metadata"] = {"TrainingJob": {"Arn": job.arn}}
        self.run.properties[step["Name"]] = self.backend.describe_training_job(name)

    def _condition(self, step: dict[str, Any], record: dict[str, Any]) -> list[dict[str, Any]]:
        args = step.get("Arguments") or {}
        outcome = all(self._holds(condition) for condition in args.get("Conditions") or [])
        record["Metadata"] = {"Condition": {"Outcome": "True" if outcome else "False"}}
        self.run.properties[step["Name"]] = {"Outcome": outcome}
        return list(args.get("IfSteps" if outcome else "ElseSteps") or [])

    def _registermodel(self, step: dict[str, Any], record: dict[str, Any]) -> None:
        args = self.resolve(step.get("Arguments") or {})
        metadata = {k: str(v) for k, v in (args.get("CustomerMetadataProperties") or {}).items()}
        try:
            arn = self.backend.create_model_package(
                model_package_name=None,
                model_package_group_name=args.get("ModelPackageGroupName"),
                model_package_description=args.get("ModelPackageDescription"),
                inference_specification=args.get("InferenceSpecification"),
                validation_specification=None, source_algorithm_specification=None,
                certify_for_marketplace=False, tags=args.get("Tags"),
                model_approval_status=args.get("ModelApprovalStatus"),
                metadata_properties=args.get("MetadataProperties"),
                model_metrics=args.get("ModelMetrics"), client_token=None,
                customer_metadata_properties=metadata or None,
                drift_check_baselines=args.get("DriftCheckBaselines"), domain=None, task=None,
                sample_payload_url=None, additional_inference_specifications=None)
        except ServiceException as exc:  # moto's validation: the step fails with the message
            raise StepFailed(str(getattr(exc, "message", exc))) from None
        record["Metadata"] = {"RegisterModel": {"Arn": arn}}
        self.run.properties[step["Name"]] = {"ModelPackageArn": arn}

    def _fail(self, step: dict[str, Any], record: dict[str, Any]) -> None:
        message = str(self.resolve((step.get("Arguments") or {}).get("ErrorMessage", "")))
        record["Metadata"] = {"Fail": {"ErrorMessage": message}}
        raise StepFailed(message or "Fail step reached")

    # -- expressions --------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(value["Get"])
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return str(join.get("On", "")).join(_text(self.resolve(v))
                                                for v in join.get("Values") or [])
        if set(value) == {"Std:JsonGet"}:
            return self._json_get(value["Std:JsonGet"])
        return {key: self.resolve(item) for key, item in value.items()}

    def _get(self, reference: str) -> Any:
        root, _, rest = reference.partition(".")
        if root == "Parameters":
            if rest not in self.parameters:
                raise StepFailed(f"{reference}: no such parameter")
            return self.parameters[rest]
        if root == "Execution":
            values = {"PipelineExecutionId": self.execution_id,
                      "PipelineExecutionArn": self.arn, "PipelineName": self.pipeline_name,
                      "StartDateTime": self.started.isoformat(),
                      "CurrentDateTime": utcnow().isoformat()}
            if rest not in values:
                raise StepFailed(f"{reference}: no such execution variable")
            return values[rest]
        if root == "Steps":
            step, _, path = rest.partition(".")
            if step not in self.run.properties:
                raise StepFailed(f"{reference}: step {step} has not run")
            found = walk_path(self.run.properties[step], path)
            if found is None:
                raise StepFailed(f"{reference}: not a property of step {step}")
            return found
        raise StepFailed(f"{reference}: unknown reference")

    def _json_get(self, spec: dict[str, Any]) -> Any:
        reference = (spec.get("PropertyFile") or {}).get("Get", "")
        match = re.fullmatch(r"Steps\.([^.]+)\.PropertyFiles\.(.+)", reference)
        if not match:
            raise StepFailed(f"Std:JsonGet: expected a property file, found {reference!r}")
        uri = self._report_uri(match.group(1), match.group(2))
        if uri not in self.run.reports:
            raise StepFailed(f"{reference}: step {match.group(1)} has no report")
        path = spec.get("Path", "")
        report = self.run.reports[uri]
        found = report.get(path) if isinstance(report, dict) and path in report else \
            walk_path(report, path)
        if found is None:
            raise StepFailed(f"{path!r} is not in the report {uri}")
        return found

    def _holds(self, condition: dict[str, Any]) -> bool:
        kind = condition.get("Type")
        if kind == "Not":
            return not self._holds(condition["Expression"])
        if kind == "Or":
            return any(self._holds(inner) for inner in condition.get("Conditions") or [])
        left = self.resolve(condition.get("LeftValue"))
        if kind == "In":
            return left in [self.resolve(v) for v in condition.get("RightValue") or []]
        right = self.resolve(condition.get("RightValue"))
        compare = {"Equals": lambda a, b: a == b, "GreaterThan": lambda a, b: a > b,
                   "GreaterThanOrEqualTo": lambda a, b: a >= b, "LessThan": lambda a, b: a < b,
                   "LessThanOrEqualTo": lambda a, b: a <= b}.get(str(kind))
        if compare is None:
            raise StepFailed(f"condition type {kind} is not emulated locally")
        try:
            return bool(compare(_number(left), _number(right)))
        except TypeError:
            raise StepFailed(f"cannot compare {left!r} with {right!r}") from None

    # -- property files and S3 ----------------------------------------------------------

    def _report_uri(self, step_name: str, file_name: str) -> str:
        step = self.by_name.get(step_name) or {}
        declared = next((f for f in step.get("PropertyFiles") or []
                         if f.get("PropertyFileName") == file_name), None)
        if declared is None or step_name not in self.run.properties:
            raise StepFailed(f"Steps.{step_name}.PropertyFiles.{file_name}: no such report")
        outputs = walk_path(self.run.properties[step_name], "ProcessingOutputConfig.Outputs") or []
        output = next((o for o in outputs if o.get("OutputName") == declared.get("OutputName")),
                      None)
        if output is None:
            raise StepFailed(f"property file {file_name}: step {step_name} has no output "
                             f"{declared.get('OutputName')!r}")
        return f"{output['S3Output']['S3Uri'].rstrip('/')}/{declared['FilePath']}"

    def _load_report(self, step_name: str, declared: dict[str, Any]) -> None:
        uri = self._report_uri(step_name, declared["PropertyFileName"])
        staged = uri.replace(f"/{self.execution_id}/", f"/{STAGED}/")
        body = _read(self.backend, uri)
        if body is None and staged != uri:
            body = _read(self.backend, staged)
            if body is not None:
                _write(self.backend, uri, body)
        if body is None:
            raise StepFailed(
                f"no report at {uri}: containers do not run in the emulator, so nothing writes "
                f"it; put the report the step would write ({declared['FilePath']}) at {staged} "
                "and start the pipeline again")
        try:
            self.run.reports[uri] = json.loads(body)
        except ValueError as exc:
            raise StepFailed(f"the report at {uri} is not JSON ({exc})") from None

    def _job_name(self, step: dict[str, Any], kept: str | None) -> str:
        return f"{kept}-{self.execution_id}" if kept else \
            f"pipelines-{self.execution_id}-{step['Name']}"[:63]


# -- helpers ------------------------------------------------------------------------------


def walk_path(value: Any, path: str) -> Any:
    """`a.b['name'].c[0]` in nested data; a string index on a list picks the item whose
    `*Name` field equals it (SageMaker's `Outputs['evaluation']`). None when absent."""
    for match in _PATH.finditer(path):
        key, named, index = match.groups()
        if isinstance(value, dict) and (key or named) is not None:
            value = value.get(key if key is not None else named)
        elif isinstance(value, list) and named is not None:
            value = next((item for item in value if isinstance(item, dict) and any(
                k.endswith("Name") and v == named for k, v in item.items())), None)
        elif isinstance(value, list) and index is not None:
            value = value[int(index)] if int(index) < len(value) else None
        else:
            return None
    return value


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list, bool)) else str(value)


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _all_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for step in steps:
        found.append(step)
        args = step.get("Arguments") or {}
        if step.get("Type") == "Condition":
            found += _all_steps(args.get("IfSteps") or []) + _all_steps(args.get("ElseSteps") or [])
    return found


def references(value: Any) -> set[str]:
    """The step names `value` refers to (`Get: Steps.<name>...`)."""
    if isinstance(value, list):
        return set().union(*(references(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = set()
    if isinstance(value.get("Get"), str) and value["Get"].startswith("Steps."):
        found.add(value["Get"].split(".")[1])
    return found.union(*(references(item) for item in value.values()))


def _ordered(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Top-level steps, each after the steps it depends on or refers to."""
    names = {step["Name"] for step in steps}
    needs = {step["Name"]: (set(step.get("DependsOn") or []) | references(step))
             & (names - {step["Name"]}) for step in steps}
    done: list[dict[str, Any]] = []
    pending = list(steps)
    while pending:
        ready = next((s for s in pending if needs[s["Name"]] <= {d["Name"] for d in done}),
                     pending[0])  # a cycle: take the first (SageMaker refuses cycles)
        done.append(ready)
        pending.remove(ready)
    return done


def _s3(backend: SageMakerModelBackend):
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[backend.account_id][get_partition(backend.region_name)]


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _read(backend: SageMakerModelBackend, uri: str) -> bytes | None:
    bucket, key = _split(uri)
    try:
        found = _s3(backend).get_object(bucket, key)
    except ServiceException:  # a missing bucket: no report
        return None
    return found.value if found is not None else None


def _write(backend: SageMakerModelBackend, uri: str, body: bytes) -> None:
    bucket, key = _split(uri)
    _s3(backend).put_object(bucket, key, body, disable_notification=True)


# -- the calls ----------------------------------------------------------------------------


_start = SageMakerResponse.start_pipeline_execution
_describe = SageMakerResponse.describe_pipeline_execution
_list = SageMakerResponse.list_pipeline_executions


def _execution(backend: SageMakerModelBackend, arn: str):
    for pipeline in backend.pipelines.values():
        if arn in pipeline.pipeline_executions:
            return pipeline, pipeline.pipeline_executions[arn]
    raise ResourceNotFound(f"Pipeline execution {arn} does not exist.")


def start_execution(backend: SageMakerModelBackend, arn: str) -> Run:
    """Walk the execution `arn` that moto just stored; record the outcome on it."""
    pipeline, execution = _execution(backend, arn)
    try:
        definition = json.loads(execution.pipeline_definition_for_execution or "{}")
    except ValueError as exc:
        run = Run(arn, "Failed", f"the pipeline definition is not JSON ({exc})")
    else:
        run = Walker(backend, pipeline.pipeline_name, arn, definition,
                     execution.pipeline_parameters).walk()
    runs(backend)[arn] = run
    execution.pipeline_execution_status = run.status
    execution.pipeline_execution_failure_reason = run.failure_reason or None
    execution.last_modified_time = utcnow()
    for listener in LISTENERS:
        listener(backend, pipeline.arn, run)
    return run


def start_pipeline(backend: SageMakerModelBackend, pipeline_name: str,
                   parameters: list[dict[str, str]] | None, description: str) -> Run:
    """What StartPipelineExecution does, for starts that are not API calls (event targets)."""
    name = next((n for n in backend.pipelines if n.lower() == pipeline_name.lower()),
                pipeline_name)
    started = backend.start_pipeline_execution(name, None, parameters, description, None, None)
    return start_execution(backend, started["PipelineExecutionArn"])


def _start_and_walk(self: SageMakerResponse) -> ActionResult:
    result = _start(self)
    start_execution(self.sagemaker_backend, result.result["PipelineExecutionArn"])
    return result


def _describe_with_reason(self: SageMakerResponse) -> ActionResult:
    response = dict(_describe(self).result)
    run = runs(self.sagemaker_backend).get(response["PipelineExecutionArn"])
    if run is not None and run.failure_reason:
        response["FailureReason"] = run.failure_reason
    else:
        response.pop("FailureReason", None)
    response.pop("PipelineExperimentConfig", None)  # none unless the definition sets one
    return ActionResult(response)


def _list_sorted(self: SageMakerResponse) -> ActionResult:
    summaries = _list(self).result["PipelineExecutionSummaries"]
    known = runs(self.sagemaker_backend)
    for summary in summaries:
        run = known.get(summary["PipelineExecutionArn"])
        reason = run.failure_reason if run is not None else ""
        if reason:
            summary["PipelineExecutionFailureReason"] = reason
        else:
            summary.pop("PipelineExecutionFailureReason", None)
    summaries.sort(key=lambda s: s["StartTime"] or datetime.min,
                   reverse=self._get_param("SortOrder", "Descending") == "Descending")
    limit = self._get_param("MaxResults")
    return ActionResult({"PipelineExecutionSummaries": summaries[:limit] if limit else summaries})


def _list_steps(self: SageMakerResponse) -> ActionResult:
    arn = self._get_param("PipelineExecutionArn")
    _execution(self.sagemaker_backend, arn)
    run = runs(self.sagemaker_backend).get(arn)
    steps = [dict(step) for step in (run.steps if run else [])]
    if self._get_param("SortOrder", "Descending") == "Descending":
        steps.reverse()
    limit = self._get_param("MaxResults")
    return ActionResult({"PipelineExecutionSteps": steps[:limit] if limit else steps})


def _stop(self: SageMakerResponse) -> ActionResult:
    arn = self._get_param("PipelineExecutionArn")
    _, execution = _execution(self.sagemaker_backend, arn)
    raise ValidationError(f"Pipeline execution {arn} is already "
                          f"{execution.pipeline_execution_status}: runs finish at once in the "
                          "local emulator")


def install() -> None:
    SageMakerResponse.start_pipeline_execution = _start_and_walk
    SageMakerResponse.describe_pipeline_execution = _describe_with_reason
    SageMakerResponse.list_pipeline_executions = _list_sorted
    SageMakerResponse.list_pipeline_execution_steps = _list_steps
    SageMakerResponse.stop_pipeline_execution = _stop


