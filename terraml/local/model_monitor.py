"""Emulator: SageMaker Model Monitor (data-quality job definitions, monitoring schedules and
executions) and the analyzer container's baselining and monitoring runs.

Emulated calls: Create/Describe/Delete/ListDataQualityJobDefinition(s),
Create/Describe/Update/Delete/ListMonitoringSchedule(s) (status `Scheduled` at once; only
the schedule expressions Model Monitor documents),
ListMonitoringExecutions, and tags on both ARNs (AddTags / ListTags / DeleteTags). Schedules
do not fire by the clock: `execute_schedule` plays one scheduled execution on demand.

The analyzer: a CreateProcessingJob whose image is Model Monitor's analyzer
(`.../sagemaker-model-monitor-analyzer`) is played in-process (containers never run). With
`baseline_constraints` / `baseline_statistics` in its environment it is a monitoring run
(statistics.json + constraint_violations.json), else a baselining run (statistics.json +
constraints.json); the container's local paths (`dataset_source`, `baseline_*`,
`output_path`) resolve through the job's ProcessingInputs / ProcessingOutputConfig to S3,
read and written through moto's S3 backend. `dataset_format` is CSV with a header row, or an
endpoint's data capture (`sagemakerCaptureJson`: JSON lines whose `captureData.<index>` holds
CSV rows, plain or BASE64, without a header; columns take the baseline's feature names by
position, `_c<i>` beyond them). The job ends Completed, or Failed with the reason when its data
cannot be read. Math: `terraml.local.drift_analysis`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import posixpath
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from terraml.local import arn_lookups, drift_analysis

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"
# The schedule expressions Model Monitor accepts: hourly, daily at H, every N hours from H.
SCHEDULE = re.compile(r"^cron\(0 (\*|(?P<hour>[01]?\d|2[0-3])(/(?P<every>0?[1-9]|1\d|2[0-4]))?)"
                      r" \? \* \* \*\)$")
DEFINITION_FIELDS = ("DataQualityAppSpecification", "DataQualityBaselineConfig",
                     "DataQualityJobInput", "DataQualityJobOutputConfig", "JobResources",
                     "NetworkConfig", "RoleArn", "StoppingCondition")


# -- state ----------------------------------------------------------------------------------


def definitions(backend: SageMakerModelBackend) -> dict[str, SimpleNamespace]:
    """Data-quality job definitions by name (`.doc` the Describe answer, `.tags`)."""
    return backend.__dict__.setdefault("_terraml_dq_definitions", {})


def schedules(backend: SageMakerModelBackend) -> dict[str, SimpleNamespace]:
    """Monitoring schedules by name (`.doc`, `.tags`, `.executions` newest last)."""
    return backend.__dict__.setdefault("_terraml_monitoring_schedules", {})


def _arn(backend: SageMakerModelBackend, kind: str, name: str) -> str:
    return (f"arn:{backend.partition}:sagemaker:{backend.region_name}:{backend.account_id}:"
            f"{kind}/{name}")


def _find(store: dict[str, SimpleNamespace], name: str, what: str) -> SimpleNamespace:
    found = store.get(name)
    if found is None:
        raise ResourceNotFound(f"{what} {name} does not exist.")
    return found


# -- data-quality job definitions -----------------------------------------------------------


def _create_definition(self: SageMakerResponse) -> ActionResult:
    backend, name = self.sagemaker_backend, self._get_param("JobDefinitionName")
    if name in definitions(backend):
        raise ValidationError(f"Data quality job definition {name} already exists.")
    for required in ("DataQualityAppSpecification", "DataQualityJobInput",
                     "DataQualityJobOutputConfig", "JobResources", "RoleArn"):
        if not self._get_param(required):
            raise ValidationError(f"{required}: expected a value")
    arn = _arn(backend, "data-quality-job-definition", name)
    doc = {key: self._get_param(key) for key in DEFINITION_FIELDS
           if self._get_param(key) is not None}
    doc.update(JobDefinitionArn=arn, JobDefinitionName=name, CreationTime=utcnow())
    definitions(backend)[name] = SimpleNamespace(arn=arn, doc=doc,
                                                 tags=list(self._get_param("Tags") or []))
    return ActionResult({"JobDefinitionArn": arn})


def _describe_definition(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("JobDefinitionName")
    return ActionResult(dict(_find(definitions(self.sagemaker_backend), name,
                                   "Data quality job definition").doc))


def _delete_definition(self: SageMakerResponse) -> ActionResult:
    backend, name = self.sagemaker_backend, self._get_param("JobDefinitionName")
    _find(definitions(backend), name, "Data quality job definition")
    used = [s.doc["MonitoringScheduleName"] for s in schedules(backend).values()
            if s.doc["MonitoringScheduleConfig"].get("MonitoringJobDefinitionName") == name]
    if used:
        raise ValidationError(f"Job definition {name} is used by monitoring schedule "
                              f"{used[0]}.")
    del definitions(backend)[name]
    return ActionResult({})


def _endpoint_of(doc: dict[str, Any]) -> str | None:
    return (doc.get("DataQualityJobInput", {}).get("EndpointInput") or {}).get("EndpointName")


def _list_definitions(self: SageMakerResponse) -> ActionResult:
    endpoint = self._get_param("EndpointName")
    found = [{"MonitoringJobDefinitionName": d.doc["JobDefinitionName"],
              "MonitoringJobDefinitionArn": d.arn, "CreationTime": d.doc["CreationTime"],
              **({"EndpointName": _endpoint_of(d.doc)} if _endpoint_of(d.doc) else {})}
             for d in definitions(self.sagemaker_backend).values()
             if endpoint is None or _endpoint_of(d.doc) == endpoint]
    return ActionResult({"JobDefinitionSummaries": _sorted(self, found)})


def _sorted(self: SageMakerResponse, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = sorted(items, key=lambda item: item["CreationTime"],
                   reverse=self._get_param("SortOrder", "Descending") == "Descending")
    return items[:int(self._get_param("MaxResults") or 100)]


# -- monitoring schedules -------------------------------------------------------------------


def _schedule_doc(backend: SageMakerModelBackend, name: str,
                  config: dict[str, Any]) -> dict[str, Any]:
    definition_name = config.get("MonitoringJobDefinitionName")
    if not definition_name:
        raise ValidationError("MonitoringScheduleConfig.MonitoringJobDefinitionName: expected "
                              "the name of a job definition")
    definition = _find(definitions(backend), definition_name, "Job definition")
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression", "")
    if not SCHEDULE.match(expression) and expression != "NOW":
        raise ValidationError(f"ScheduleExpression: expected cron(0 * ? * * *), "
                              f"cron(0 [00-23] ? * * *) or cron(0 [00-23]/[01-24] ? * * *), "
                              f"found {expression!r}")
    doc = {"MonitoringScheduleName": name, "MonitoringScheduleConfig": config,
           "MonitoringType": config.get("MonitoringType", "DataQuality")}
    endpoint = _endpoint_of(definition.doc)
    if endpoint:
        doc["EndpointName"] = endpoint
    return doc


def _create_schedule(self: SageMakerResponse) -> ActionResult:
    backend, name = self.sagemaker_backend, self._get_param("MonitoringScheduleName")
    if name in schedules(backend):
        raise ValidationError(f"Monitoring schedule {name} already exists.")
    arn = _arn(backend, "monitoring-schedule", name)
    now = utcnow()
    doc = _schedule_doc(backend, name, self._get_param("MonitoringScheduleConfig") or {})
    doc.update(MonitoringScheduleArn=arn, MonitoringScheduleStatus="Scheduled",
               CreationTime=now, LastModifiedTime=now)
    schedules(backend)[name] = SimpleNamespace(arn=arn, doc=doc, executions=[],
                                               tags=list(self._get_param("Tags") or []))
    return ActionResult({"MonitoringScheduleArn": arn})


def _describe_schedule(self: SageMakerResponse) -> ActionResult:
    schedule = _find(schedules(self.sagemaker_backend),
                     self._get_param("MonitoringScheduleName"), "Monitoring schedule")
    doc = dict(schedule.doc)
    if schedule.executions:
        doc["LastMonitoringExecutionSummary"] = schedule.executions[-1]
    return ActionResult(doc)


def _update_schedule(self: SageMakerResponse) -> ActionResult:
    backend, name = self.sagemaker_backend, self._get_param("MonitoringScheduleName")
    schedule = _find(schedules(backend), name, "Monitoring schedule")
    schedule.doc.update(_schedule_doc(backend, name,
                                      self._get_param("MonitoringScheduleConfig") or {}),
                        LastModifiedTime=utcnow())
    return ActionResult({"MonitoringScheduleArn": schedule.arn})


def _delete_schedule(self: SageMakerResponse) -> ActionResult:
    backend, name = self.sagemaker_backend, self._get_param("MonitoringScheduleName")
    _find(schedules(backend), name, "Monitoring schedule")
    del schedules(backend)[name]
    return ActionResult({})


def _list_schedules(self: SageMakerResponse) -> ActionResult:
    endpoint = self._get_param("EndpointName")
    found = [{key: s.doc[key] for key in (
        "MonitoringScheduleName", "MonitoringScheduleArn", "CreationTime", "LastModifiedTime",
        "MonitoringScheduleStatus", "MonitoringType", "EndpointName") if key in s.doc}
        | {"MonitoringJobDefinitionName":
           s.doc["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]}
        for s in schedules(self.sagemaker_backend).values()
        if endpoint is None or s.doc.get("EndpointName") == endpoint]
    return ActionResult({"MonitoringScheduleSummaries": _sorted(self, found)})


def _list_executions(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("MonitoringScheduleName")
    store = schedules(self.sagemaker_backend)
    found = [execution for schedule in store.values() for execution in schedule.executions
             if name is None or schedule.doc["MonitoringScheduleName"] == name]
    return ActionResult({"MonitoringExecutionSummaries": _sorted(self, found)})


def execute_schedule(backend: SageMakerModelBackend, name: str) -> dict[str, Any]:
    """Play one scheduled execution of `name` now (a monitoring run of its job definition over
    its target); returns the execution summary ListMonitoringExecutions shows."""
    schedule = _find(schedules(backend), name, "Monitoring schedule")
    definition = definitions(backend)[
        schedule.doc["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]].doc
    now = utcnow()
    job_name = f"model-monitoring-{now:%Y%m%d%H%M%S}-{len(schedule.executions):04d}"
    baseline = definition.get("DataQualityBaselineConfig", {})
    inputs, environment = _scheduled_inputs(backend, definition)
    for kind, local in (("ConstraintsResource", "/opt/ml/processing/baseline/constraints"),
                        ("StatisticsResource", "/opt/ml/processing/baseline/stats")):
        uri = (baseline.get(kind) or {}).get("S3Uri")
        if uri:
            inputs.append({"InputName": kind, "S3Input": {
                "S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix"}})
            environment["baseline_constraints" if kind == "ConstraintsResource" else
                        "baseline_statistics"] = f"{local}/{posixpath.basename(uri)}"
    output = definition["DataQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    when = f"{now:%Y/%m/%d/%H}"
    where = _endpoint_of(definition) or name
    job = backend.create_processing_job(
        app_specification={"ImageUri": definition["DataQualityAppSpecification"]["ImageUri"]},
        experiment_config=None, network_config=definition.get("NetworkConfig"),
        processing_inputs=inputs, processing_job_name=job_name,
        processing_output_config={
            "Outputs": [{"OutputName": "result", "S3Output": {
                "S3Uri": f"{output['S3Uri'].rstrip('/')}/{where}/{name}/{when}",
                "LocalPath": output.get("LocalPath", "/opt/ml/processing/output"),
                "S3UploadMode": "EndOfJob"}}],
            "KmsKeyId": definition["DataQualityJobOutputConfig"].get("KmsKeyId")},
        role_arn=definition["RoleArn"], tags=[],
        stopping_condition=definition.get("StoppingCondition"))
    job.monitoring_schedule_arn = schedule.arn
    analyze(backend, job, {**environment, "output_path": output.get(
        "LocalPath", "/opt/ml/processing/output")})
    status = {"Completed": "Completed", "Failed": "Failed"}[job.processing_job_status]
    if status == "Completed" and _violations_found(backend, job):
        status = "CompletedWithViolations"
    execution = {"MonitoringScheduleName": name, "ScheduledTime": now, "CreationTime": now,
                 "LastModifiedTime": now, "MonitoringExecutionStatus": status,
                 "ProcessingJobArn": job.arn, "MonitoringType": "DataQuality",
                 "MonitoringJobDefinitionName": definition["JobDefinitionName"]}
    if _endpoint_of(definition):
        execution["EndpointName"] = _endpoint_of(definition)
    if status == "Failed":
        execution["FailureReason"] = job.failure_reason
    schedule.executions.append(execution)
    return execution


def _scheduled_inputs(backend: SageMakerModelBackend,
                      definition: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    job_input = definition["DataQualityJobInput"]
    batch = job_input.get("BatchTransformInput")
    if batch:
        uri, local = batch["DataCapturedDestinationS3Uri"], batch.get("LocalPath")
    else:  # the endpoint's captured requests (where serving.py's data capture writes them)
        endpoint = job_input["EndpointInput"]["EndpointName"]
        config = backend.describe_endpoint_config(
            backend.endpoints[endpoint].endpoint_config_name).get("DataCaptureConfig") or {}
        uri = f"{config.get('DestinationS3Uri', '').rstrip('/')}/{endpoint}"
        local = job_input["EndpointInput"].get("LocalPath")
    local = local or "/opt/ml/processing/input"
    dataset_format = {"csv": {"header": True}} if batch else \
        {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput"]}}
    return ([{"InputName": "dataset", "S3Input": {"S3Uri": uri, "LocalPath": local,
                                                  "S3DataType": "S3Prefix"}}],
            {"dataset_format": json.dumps(dataset_format), "dataset_source": local})


# -- the analyzer ---------------------------------------------------------------------------


def is_analyzer(image: str) -> bool:
    return image.split("/", 1)[-1].split(":")[0] == ANALYZER_REPOSITORY


def _s3(backend: SageMakerModelBackend):
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[backend.account_id][get_partition(backend.region_name)]


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _objects(backend: SageMakerModelBackend, uri: str) -> list[tuple[str, bytes]]:
    """(s3 URI, body) of every object under `uri` (a prefix or one object's key)."""
    bucket, prefix = _split(uri)
    try:
        found = _s3(backend).get_bucket(bucket)
    except ServiceException:
        raise ValueError(f"{uri}: no such bucket") from None
    return [(f"s3://{bucket}/{key}", found.keys[key].value)
            for key in sorted(found.keys.keys())
            if key.startswith(prefix) and not key.endswith("/")]


def _resolve(job: Any, local: str) -> str:
    """The S3 URI behind a container path, through the job's inputs."""
    for item in job.processing_inputs or []:
        s3 = item.get("S3Input") or {}
        root = (s3.get("LocalPath") or "").rstrip("/")
        if root and (local == root or local.startswith(root + "/")):
            rest = local[len(root):].lstrip("/")
            uri = s3["S3Uri"]
            if rest and posixpath.basename(uri) == rest:  # one object, placed by its name
                return uri
            return f"{uri.rstrip('/')}/{rest}" if rest else uri
    raise ValueError(f"{local}: no ProcessingInput is mounted there")


def _output(job: Any, local: str) -> str:
    for item in (job.processing_output_config or {}).get("Outputs", []):
        s3 = item.get("S3Output") or {}
        if (s3.get("LocalPath") or "").rstrip("/") == local.rstrip("/"):
            return s3["S3Uri"].rstrip("/")
    raise ValueError(f"output_path {local}: no ProcessingOutput is mounted there")


def _read_json(backend: SageMakerModelBackend, uri: str) -> dict[str, Any]:
    found = _objects(backend, uri)
    if not found:
        raise ValueError(f"{uri}: not found")
    try:
        return json.loads(found[0][1])
    except ValueError:
        raise ValueError(f"{uri}: not JSON") from None


def _read_dataset(blobs: list[tuple[str, bytes]], dataset_format: str | None,
                  names: list[str]) -> drift_analysis.Table:
    """The table of the job's dataset: CSV with a header row, or data capture JSON lines
    (CSV rows without a header, named `names` by position)."""
    try:
        found = json.loads(dataset_format) if dataset_format else {"csv": {"header": True}}
    except ValueError:
        raise ValueError(f"dataset_format: not JSON: {dataset_format!r}") from None
    capture = found.get("sagemakerCaptureJson") if isinstance(found, dict) else None
    if capture is None:
        return drift_analysis.read_csv(blobs)
    indexes = capture.get("captureIndexNames") or ["endpointInput"]
    rows: list[list[str]] = []
    for name, blob in blobs:
        for number, line in enumerate(blob.decode("utf-8", "replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)["captureData"]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{name}:{number}: expected a data capture record "
                                 "(JSON with captureData)") from None
            for index in indexes:
                item = data.get(index) or {}
                text, encoding = item.get("data", ""), item.get("encoding", "CSV")
                if encoding == "BASE64":
                    try:
                        text = base64.b64decode(text).decode("utf-8")
                    except (binascii.Error, UnicodeDecodeError):
                        raise ValueError(f"{name}:{number}: {index}: not BASE64 CSV") from None
                elif encoding != "CSV":
                    raise ValueError(f"{name}:{number}: {index}: expected CSV or BASE64 data, "
                                     f"found {encoding}")
                rows.extend(row for row in csv.reader(io.StringIO(text)) if row)
    if not rows:
        raise ValueError("no captured requests found")
    width = len(rows[0])
    for row in rows:
        if len(row) != width:
            raise ValueError(f"captured rows: expected {width} fields, found {len(row)}")
    return ([names[i] if i < len(names) else f"_c{i}" for i in range(width)], rows)


def _write(backend: SageMakerModelBackend, uri: str, document: dict[str, Any]) -> None:
    bucket, key = _split(uri)
    _s3(backend).put_object(bucket, key, json.dumps(document, indent=2).encode(),
                            disable_notification=True)


def analyze(backend: SageMakerModelBackend, job: Any, environment: dict[str, str]) -> None:
    """Play the analyzer for `job`; record Completed or Failed (with the reason) on it."""
    job.environment = dict(environment)
    try:
        source = environment.get("dataset_source")
        if not source:
            raise ValueError("environment: dataset_source is required")
        baseline = (_read_json(backend, _resolve(job, environment["baseline_statistics"]))
                    if environment.get("baseline_statistics") else None)
        table = _read_dataset(_objects(backend, _resolve(job, source)),
                              environment.get("dataset_format"),
                              [f["name"] for f in (baseline or {}).get("features", [])])
        output = _output(job, environment.get("output_path", "/opt/ml/processing/output"))
        stats = drift_analysis.statistics(table)
        if baseline is not None:
            limits = (_read_json(backend, _resolve(job, environment["baseline_constraints"]))
                      if environment.get("baseline_constraints") else {})
            _write(backend, f"{output}/statistics.json", stats)
            _write(backend, f"{output}/constraint_violations.json", {
                "violations": drift_analysis.violations(baseline, limits, table)})
        else:
            _write(backend, f"{output}/statistics.json", stats)
            _write(backend, f"{output}/constraints.json", drift_analysis.constraints(stats))
    except (ValueError, KeyError) as exc:
        job.processing_job_status = "Failed"
        job.failure_reason = f"Algorithm Error: {exc}"[:1024]
        job.exit_message = job.failure_reason
        return
    job.processing_job_status = "Completed"
    job.exit_message = "Completed: Job completed successfully with no violations." \
        if not _violations_found(backend, job) else \
        "CompletedWithViolations: Job completed successfully with violations."


def _violations_found(backend: SageMakerModelBackend, job: Any) -> bool:
    try:
        output = _output(job, job.environment.get("output_path", "/opt/ml/processing/output"))
        found = _objects(backend, f"{output}/constraint_violations.json")
    except ValueError:
        return False
    return bool(found) and bool(json.loads(found[0][1]).get("violations"))


_create_processing_job = SageMakerResponse.create_processing_job


def _create_processing_job_playing_the_analyzer(self: SageMakerResponse) -> ActionResult:
    result = _create_processing_job(self)
    image = (self._get_param("AppSpecification") or {}).get("ImageUri", "")
    if is_analyzer(image):
        backend = self.sagemaker_backend
        job = backend.processing_jobs[self._get_param("ProcessingJobName")]
        job.processing_resources = self._get_param("ProcessingResources")
        analyze(backend, job, self._get_param("Environment") or {})
    return result


# -- tags -----------------------------------------------------------------------------------

def _lookup(marker: str, store: Callable[[SageMakerModelBackend], dict[str, Any]]):
    """An ARN lookup for one of this module's kinds (stored by name)."""
    def lookup(self: SageMakerModelBackend, arn: str) -> Any:
        found = store(self).get(arn.rsplit("/", 1)[-1])
        if found is None or found.arn != arn:
            raise ValidationError(f"Could not find {marker.strip(':/')} {arn}")
        return found
    return lookup


def install() -> None:
    """Add these calls to moto's responses."""
    SageMakerResponse.create_data_quality_job_definition = _create_definition
    SageMakerResponse.describe_data_quality_job_definition = _describe_definition
    SageMakerResponse.delete_data_quality_job_definition = _delete_definition
    SageMakerResponse.list_data_quality_job_definitions = _list_definitions
    SageMakerResponse.create_monitoring_schedule = _create_schedule
    SageMakerResponse.describe_monitoring_schedule = _describe_schedule
    SageMakerResponse.update_monitoring_schedule = _update_schedule
    SageMakerResponse.delete_monitoring_schedule = _delete_schedule
    SageMakerResponse.list_monitoring_schedules = _list_schedules
    SageMakerResponse.list_monitoring_executions = _list_executions
    SageMakerResponse.create_processing_job = _create_processing_job_playing_the_analyzer
    for marker, store in ((":data-quality-job-definition/", definitions),
                          (":monitoring-schedule/", schedules)):
        arn_lookups.register(marker, _lookup(marker, store))
    arn_lookups.install()
