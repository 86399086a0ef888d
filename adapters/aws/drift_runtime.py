"""Aws runtime for drift monitoring (`terraml monitor`): mixed into `AwsRuntime`.

Terraform creates the Model Monitor job definition and schedule (adapters/aws/drift.py); the
runtime runs AWS's analyzer image as SageMaker processing jobs: a baselining job
(`<prefix>-drift-baseline-<stamp>`) over the training data, writing `statistics.json` and
`constraints.json` to `drift_baseline_uri`, and one-off monitoring runs
(`<prefix>-drift-run-<stamp>`) over the target data, writing `statistics.json` and
`constraint_violations.json` under `drift_reports_uri`. Once a baseline succeeded, its
distribution thresholds are set to 0 so that Model Monitor reports every feature's distance
(`baseline_drift_check`); terraml holds each feature to its own threshold (`drift_thresholds`),
as the stack's CloudWatch alarms do.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from adapters.runtime import (
    FAILED,
    PENDING,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    DriftBaseline,
    DriftRun,
    FeatureDrift,
    Progress,
)
from core.errors import UserError

# Where `monitor baseline --data` may read training data (the monitoring role reads them).
TRAINING_DATA_BUCKETS = ("raw", "features")
JOB_STATES = {"InProgress": RUNNING, "Completed": SUCCEEDED, "Failed": FAILED,
              "Stopping": STOPPED, "Stopped": STOPPED}
EXECUTION_STATES = {"Pending": PENDING, "InProgress": RUNNING, "Completed": SUCCEEDED,
                    "CompletedWithViolations": SUCCEEDED, "Failed": FAILED,
                    "Stopped": STOPPED}
OUTPUT_PATH = "/opt/ml/processing/output"
DATASET_PATH = "/opt/ml/processing/input/dataset"
CONSTRAINTS_PATH = "/opt/ml/processing/baseline/constraints"
STATISTICS_PATH = "/opt/ml/processing/baseline/stats"
DRIFT_CHECK = "baseline_drift_check"
CSV_FORMAT = {"csv": {"header": True}}  # the training data and data-lake targets
CAPTURE_FORMAT = {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput"]}}
MAX_RESULTS = 100  # the List* calls' ceiling
VOLUME_GB = 20
_DISTANCE = re.compile(r"distance:\s*([0-9.eE+-]+)")


class AwsDriftCalls:
    """`start_drift_baseline`, `drift_baseline`, `start_drift_run`, `drift_runs` on Aws."""

    def start_drift_baseline(self, data_uri: str, progress: Progress) -> DriftBaseline:
        """CreateProcessingJob: the analyzer over `data_uri` (s3://, CSV with a header row),
        output to `drift_baseline_uri`; the schedule is Terraform's."""
        if not data_uri.startswith("s3://") or len(data_uri) <= len("s3://"):
            raise UserError(f"--data: expected the s3:// URI of the training data (CSV with "
                            f"a header row), found {data_uri!r}")
        baseline = self._drift_output("drift_baseline_uri")
        readable = [self.outputs.get(f"bucket_{name}") for name in TRAINING_DATA_BUCKETS]
        if _split(data_uri)[0] not in {*readable, _split(baseline)[0]}:
            raise UserError(f"--data: the monitoring role reads training data from the "
                            f"{' or '.join(TRAINING_DATA_BUCKETS)} bucket "
                            f"({', '.join(map(str, readable))}) only, found {data_uri!r}")
        name = self._drift_job_name("baseline")
        self._analyzer_job(name, data_uri, baseline, {})
        progress(f"baselining {data_uri} into {baseline} ({name})")
        return self.drift_baseline(name)

    def drift_baseline(self, job: str) -> DriftBaseline:
        """DescribeProcessingJob; once it succeeded, the features of its statistics.json
        (and the baseline's thresholds set to 0: see the module docstring)."""
        found = self.sm("DescribeProcessingJob", ProcessingJobName=job)
        state = JOB_STATES.get(found.get("ProcessingJobStatus", ""), PENDING)
        uri = _output_uri(found) or self._drift_output("drift_baseline_uri")
        features: list[str] = []
        if state == SUCCEEDED:
            stats = self._s3_json(f"{uri}/statistics.json") or {}
            features = [f["name"] for f in stats.get("features", [])]
            self._report_every_distance(f"{uri}/constraints.json")
        return DriftBaseline(job=job, state=state, uri=uri, features=features,
                             detail=found.get("FailureReason", ""))

    def start_drift_run(self) -> DriftRun:
        """CreateProcessingJob: the analyzer over the target data against the baseline,
        output under `drift_reports_uri/runs/<job>`."""
        baseline = self._drift_output("drift_baseline_uri")
        reports = self._drift_output("drift_reports_uri").rstrip("/")
        target = self._drift_output("drift_target")
        dataset_format = CSV_FORMAT
        if not target.startswith("s3://"):  # the endpoint's captured requests
            target, dataset_format = self._capture_uri(target), CAPTURE_FORMAT
        name = self._drift_job_name("run")
        self._analyzer_job(name, target, f"{reports}/runs/{name}", {
            "baseline_constraints": f"{CONSTRAINTS_PATH}/constraints.json",
            "baseline_statistics": f"{STATISTICS_PATH}/statistics.json",
            "dataset_format": json.dumps(dataset_format),
        }, extra_inputs=[("constraints", f"{baseline}/constraints.json", CONSTRAINTS_PATH),
                         ("statistics", f"{baseline}/statistics.json", STATISTICS_PATH)])
        return self._run(self.sm("DescribeProcessingJob", ProcessingJobName=name),
                         self._reported_above())

    def drift_runs(self, limit: int = 20) -> list[DriftRun]:
        """ListMonitoringExecutions of the schedule and ListProcessingJobs of the one-off
        runs, newest first; finished runs with their per-feature drift."""
        monitor = self._drift_output("drift_monitor")
        executions = self.sm("ListMonitoringExecutions", MonitoringScheduleName=monitor,
                             SortBy="CreationTime", SortOrder="Descending",
                             MaxResults=min(limit, MAX_RESULTS)).get(
            "MonitoringExecutionSummaries", [])
        oneoff = self.sm("ListProcessingJobs", NameContains=f"{self.env.prefix}-drift-run-",
                         SortBy="CreationTime", SortOrder="Descending",
                         MaxResults=min(limit, MAX_RESULTS)).get("ProcessingJobSummaries", [])
        floor = self._reported_above()  # one read of the baseline's constraints for all runs
        found: list[tuple[datetime | None, DriftRun]] = []
        for execution in executions:
            arn = execution.get("ProcessingJobArn")
            state = EXECUTION_STATES.get(execution.get("MonitoringExecutionStatus", ""),
                                         PENDING)
            if arn and state == SUCCEEDED:
                run = self._run(self.sm("DescribeProcessingJob",
                                        ProcessingJobName=arn.rsplit("/", 1)[-1]), floor)
            else:
                run = DriftRun(run_id=arn or str(execution.get("ScheduledTime", "")),
                               state=state, started=execution.get("CreationTime"),
                               detail=execution.get("FailureReason", ""))
            found.append((execution.get("CreationTime"), run))
        for job in oneoff:
            run = self._run(self.sm("DescribeProcessingJob",
                                    ProcessingJobName=job["ProcessingJobName"]), floor)
            found.append((job.get("CreationTime"), run))
        found.sort(key=lambda item: item[0] or datetime.min.replace(tzinfo=timezone.utc),
                   reverse=True)
        return [run for _, run in found[:limit]]

    # -- helpers ------------------------------------------------------------------------

    def _drift_output(self, name: str) -> Any:
        value = self.outputs.get(name)
        if value in (None, ""):
            raise UserError(f"{self.outputs.source}: stack output {name!r} is missing: "
                            f"{self.env.name} is deployed without drift monitoring; add "
                            "monitoring.drift and deploy the stack")
        return value

    def _drift_job_name(self, kind: str) -> str:
        now = datetime.now(timezone.utc)
        return f"{self.env.prefix}-drift-{kind}-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"

    def _analyzer_job(self, name: str, data_uri: str, output_uri: str,
                      environment: dict[str, str],
                      extra_inputs: list[tuple[str, str, str]] = ()) -> None:
        """One analyzer processing job as the monitoring role, in the private network, with
        the environment key on its volume and output."""
        key = self._drift_output("drift_kms_key")
        inputs = [{"InputName": "dataset", "S3Input": {
            "S3Uri": data_uri, "LocalPath": DATASET_PATH, "S3DataType": "S3Prefix",
            "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}]
        for input_name, uri, local in extra_inputs:
            inputs.append({"InputName": input_name, "S3Input": {
                "S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix",
                "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}})
        self.sm("CreateProcessingJob", ProcessingJobName=name,
                RoleArn=self._drift_output("drift_role"),
                AppSpecification={"ImageUri": self._drift_output("drift_image")},
                Environment={"dataset_format": json.dumps(CSV_FORMAT),
                             "dataset_source": DATASET_PATH, "output_path": OUTPUT_PATH,
                             "publish_cloudwatch_metrics": "Disabled", **environment},
                ProcessingInputs=inputs,
                ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output",
                                                     "S3Output": {
                    "S3Uri": output_uri, "LocalPath": OUTPUT_PATH,
                    "S3UploadMode": "EndOfJob"}}], "KmsKeyId": key},
                ProcessingResources={"ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": self._drift_output("drift_instance_type"),
                    "VolumeSizeInGB": VOLUME_GB, "VolumeKmsKeyId": key}},
                NetworkConfig={"EnableInterContainerTrafficEncryption": True,
                               "EnableNetworkIsolation": True, "VpcConfig": {
                    "Subnets": list(self._drift_output("drift_subnet_ids")),
                    "SecurityGroupIds": [self._drift_output("drift_security_group_id")]}},
                StoppingCondition={"MaxRuntimeInSeconds": int(
                    self.outputs.get("drift_max_runtime_seconds") or 3600)},
                Tags=self._tags())

    def _capture_uri(self, endpoint: str) -> str:
        """Where the endpoint's data capture writes (its configuration's destination)."""
        found = self.sm("DescribeEndpoint", EndpointName=endpoint)
        config = self.sm("DescribeEndpointConfig",
                         EndpointConfigName=found["EndpointConfigName"])
        destination = (config.get("DataCaptureConfig") or {}).get("DestinationS3Uri")
        if not destination:
            raise UserError(f"endpoint {endpoint} captures no requests (no data capture in "
                            "its configuration): deploy it with serving.data_capture_percent")
        return f"{destination.rstrip('/')}/{endpoint}/"

    def _run(self, job: dict[str, Any], floor: float | None) -> DriftRun:
        """One run; `floor` is `_reported_above()`, read once by the caller."""
        state = JOB_STATES.get(job.get("ProcessingJobStatus", ""), PENDING)
        features: list[FeatureDrift] = []
        if state == SUCCEEDED:
            features = self._features(_output_uri(job), floor)
        return DriftRun(run_id=job.get("ProcessingJobName", job.get("ProcessingJobArn", "")),
                        state=state, started=job.get("CreationTime"), features=features,
                        detail=job.get("FailureReason", ""))

    def _features(self, output: str | None, floor: float | None) -> list[FeatureDrift]:
        """Per-feature drift of the declared features in one finished run, from its
        constraint_violations.json (the distances; a missing column, type change or other
        violation counts as drifted) and statistics.json (the features it saw)."""
        if not output:
            return []
        limits = self.outputs.get("drift_thresholds") or {}
        default = float(limits.get("default", 0.3))
        violations = (self._s3_json(f"{output}/constraint_violations.json") or {}).get(
            "violations", [])
        stats = self._s3_json(f"{output}/statistics.json") or {}
        seen = [f["name"] for f in stats.get("features", [])]
        watched = list(self.outputs.get("drift_features") or [])
        scores: dict[str, float | None] = {}
        broken: set[str] = set()  # missing column, type change, ...: drifted, whatever distance
        for violation in violations:
            feature = violation.get("feature_name", "")
            match = _DISTANCE.search(violation.get("description", ""))
            if violation.get("constraint_check_type") == DRIFT_CHECK and match:
                scores[feature] = float(match.group(1))
            elif violation.get("constraint_check_type") != DRIFT_CHECK:
                scores.setdefault(feature, None)
                broken.add(feature)
        result = []
        for feature in watched:
            threshold = float(limits.get(feature, default))
            if feature in scores:
                score = scores[feature]
                drifted = feature in broken or score is None or score > threshold
            else:
                score = 0.0 if feature in seen and floor == 0 else None
                drifted = feature not in seen
            result.append(FeatureDrift(feature=feature, score=score, threshold=threshold,
                                       drifted=drifted))
        return result

    def _reported_above(self) -> float | None:
        """The distance above which the baseline makes Model Monitor report a feature (0
        once terraml set it; None when unknown)."""
        uri = self.outputs.get("drift_baseline_uri")
        constraints = self._s3_json(f"{uri}/constraints.json") if uri else None
        config = ((constraints or {}).get("monitoring_config") or {}).get(
            "distribution_constraints") or {}
        values = {config.get("comparison_threshold"),
                  config.get("categorical_comparison_threshold")}
        return 0.0 if values == {0} else None

    def _report_every_distance(self, uri: str) -> None:
        constraints = self._s3_json(uri)
        if constraints is None:
            return
        config = constraints.setdefault("monitoring_config", {}).setdefault(
            "distribution_constraints", {})
        wanted = {"perform_comparison": "Enabled", "comparison_threshold": 0.0,
                  "categorical_comparison_threshold": 0.0}
        if all(config.get(k) == v for k, v in wanted.items()):
            return
        config.update(wanted)
        bucket, key = _split(uri)
        body = json.dumps(constraints, indent=2).encode()
        self.call("PutObject", lambda: self.client("s3").put_object(
            Bucket=bucket, Key=key, Body=body, ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self._drift_output("drift_kms_key")))

    def _s3_json(self, uri: str) -> dict[str, Any] | None:
        """The JSON document at `uri`; None when there is none."""
        bucket, key = _split(uri)
        s3 = self.client("s3")

        def get() -> bytes | None:
            try:
                return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except s3.exceptions.NoSuchKey:
                return None
        body = self.call("GetObject", get)
        if body is None:
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise UserError(f"{uri}: not a JSON document") from None


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _output_uri(job: dict[str, Any]) -> str | None:
    outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    return outputs[0]["S3Output"]["S3Uri"].rstrip("/") if outputs else None
