"""GCP runtime for drift monitoring (`terraml monitor`): Vertex AI Model Monitoring v2 over
its v1beta1 REST API, mixed into `GcpRuntime` (calls go through its `rest` helper).

Terraform made the grants, the alert and the `drift_*` outputs (adapters/gcp/drift.py);
`start_drift_baseline` puts in place what it cannot:
1. the training CSV is copied (GCS rewrite, the stack's key) to `drift_baseline_uri`, so the
   monitor reads only the stack's bucket, where the Vertex AI service agent may read;
2. its header and first rows give the schema: a column whose sampled values are all numbers
   is numeric (Jensen-Shannon divergence), any other categorical (L-infinity distance);
3. the model monitor `drift_monitor` (created, or patched when it exists) targets the model
   version the endpoint serves (largest traffic share) when `drift_target` is the endpoint,
   else the newest version of the registry model `drift_model`, with the copy as its training
   dataset, the feature drift spec (features, `drift_thresholds` as alert conditions), the
   stack's notification channels plus Cloud Logging, the reports directory and the CMEK key;
4. a Vertex AI schedule (`drift_schedule`, UTC) creates a monitoring job on `drift_target`
   each time; schedules an earlier baseline made are deleted.

A drift run is one monitoring job; its per-feature scores come from
`searchModelMonitoringStats` (distribution deviation, threshold, anomaly flag) and
`searchModelMonitoringAlerts` (a feature alerted without a data point counts as drifted,
score unknown).
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

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
    as_utc,
)
from core.errors import UserError

STORAGE = "https://storage.googleapis.com/storage/v1"
OBJECTIVE = "raw-feature-drift"
NUMERIC_METRIC = "jensen_shannon_divergence"
CATEGORICAL_METRIC = "l_infinity"
BASELINE_FILE = "training.csv"  # the copy under drift_baseline_uri the monitor reads
SAMPLE_BYTES = 1 << 20  # the schema is inferred from the first MiB of the CSV
POLL_SECONDS = 2.0
MAX_PAGES = 10
CSV_URI = re.compile(r"^gs://([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])/(\S+\.csv)$", re.IGNORECASE)
JOB_STATES = {"JOB_STATE_QUEUED": PENDING, "JOB_STATE_PENDING": PENDING,
              "JOB_STATE_RUNNING": RUNNING, "JOB_STATE_SUCCEEDED": SUCCEEDED,
              "JOB_STATE_PARTIALLY_SUCCEEDED": SUCCEEDED, "JOB_STATE_FAILED": FAILED,
              "JOB_STATE_CANCELLING": STOPPED, "JOB_STATE_CANCELLED": STOPPED,
              "JOB_STATE_EXPIRED": FAILED, "JOB_STATE_PAUSED": STOPPED,
              "JOB_STATE_UPDATING": RUNNING}
UPDATED = ("displayName", "modelMonitoringTarget", "trainingDataset", "modelMonitoringSchema",
           "tabularObjective", "notificationSpec", "outputSpec")


class GcpDriftCalls:
    """`start_drift_baseline`, `drift_baseline`, `start_drift_run`, `drift_runs` on GCP."""

    # -- names -----------------------------------------------------------------------

    @property
    def _beta(self) -> str:
        return f"https://{self.env.region}-aiplatform.googleapis.com/v1beta1"

    def _monitor(self) -> tuple[str, str]:
        """(the model monitor's id, its resource name)."""
        (monitor,) = self.outputs.require("drift_monitor")
        return monitor, f"{self.parent}/modelMonitors/{monitor}"

    # -- baseline --------------------------------------------------------------------

    def start_drift_baseline(self, data_uri: str, progress: Progress) -> DriftBaseline:
        """Copy the training CSV under `drift_baseline_uri`, create or update the model monitor
        on the served (endpoint target) or newest registered model version, and replace its
        schedule."""
        found = CSV_URI.match(data_uri.strip())
        if not found:
            raise UserError(f"--data: expected the training data as one CSV object, "
                            f"gs://<bucket>/<path>.csv, found {data_uri!r}")
        bucket, name = found.groups()
        monitor, monitor_name = self._monitor()
        baseline_uri, reports_uri, key, cron = self.outputs.require(
            "drift_baseline_uri", "drift_reports_uri", "drift_kms_key", "drift_schedule")
        progress(f"reading the header of {data_uri}")
        schema = self._schema(bucket, name, data_uri)
        copy = f"{baseline_uri.rstrip('/')}/{BASELINE_FILE}"
        progress(f"copying {data_uri} to {copy}")
        self._copy(bucket, name, copy, key)
        model, version = self._latest_version()
        body = self._monitor_body(monitor, model, version, schema, copy, reports_uri, key)
        if self.rest("GetModelMonitor", "GET", f"{self._beta}/{monitor_name}",
                     missing_ok=True) is None:
            progress(f"creating the model monitor {monitor} on {model}@{version}")
            operation = self.rest("CreateModelMonitor", "POST",
                                  f"{self._beta}/{self.parent}/modelMonitors",
                                  params={"modelMonitorId": monitor}, json=body)
        else:
            progress(f"updating the model monitor {monitor} to {model}@{version}")
            operation = self.rest("UpdateModelMonitor", "PATCH", f"{self._beta}/{monitor_name}",
                                  params={"updateMask": ",".join(UPDATED)}, json=body)
        self._wait("ModelMonitor", operation)
        schedule = self._replace_schedule(monitor, monitor_name, body, cron, progress)
        return DriftBaseline(job=monitor_name, state=SUCCEEDED, uri=baseline_uri,
                             features=[f["name"] for f in schema],
                             detail=f"{model}@{version}; schedule {schedule} ({cron} UTC)")

    def drift_baseline(self, job: str) -> DriftBaseline:
        """The monitor `job` and its schedule: succeeded when both are in place."""
        (baseline_uri,) = self.outputs.require("drift_baseline_uri")
        found = self.rest("GetModelMonitor", "GET", f"{self._beta}/{job}", missing_ok=True)
        if found is None:
            return DriftBaseline(job=job, state=FAILED, uri=baseline_uri,
                                 detail="no model monitor: run terraml monitor baseline again")
        spec = found.get("tabularObjective", {}).get("featureDriftSpec", {})
        features = list(spec.get("features") or [
            f["name"] for f in found.get("modelMonitoringSchema", {}).get("featureFields", [])])
        schedules = self._schedules(found.get("displayName") or job.rsplit("/", 1)[-1])
        states = {s.get("state", "") for s in schedules}
        if "ACTIVE" in states:
            state, detail = SUCCEEDED, "monitor and schedule in place"
        elif states:
            state, detail = STOPPED, f"schedule {', '.join(sorted(states)).lower()}"
        else:
            state, detail = PENDING, "no schedule yet"
        return DriftBaseline(job=job, state=state, uri=baseline_uri, features=features,
                             detail=detail)

    def _schema(self, bucket: str, name: str, data_uri: str) -> list[dict[str, str]]:
        """The watched features of the CSV's header with their monitoring data types."""
        text = self.rest("ReadTrainingData", "GET", _object_url(bucket, name), raw=True,
                         params={"alt": "media"},
                         headers={"Range": f"bytes=0-{SAMPLE_BYTES - 1}"})
        if len(text.encode()) >= SAMPLE_BYTES and "\n" in text:
            text = text[:text.rindex("\n")]  # drop the last row, maybe cut short
        rows = list(csv.reader(io.StringIO(text)))
        header = [column.strip() for column in rows[0]] if rows else []
        if not header or not any(header):
            raise UserError(f"--data: {data_uri} has no header row (expected CSV with the "
                            "column names first)")
        watched = list(self.outputs.get("drift_features") or header)
        missing = [feature for feature in watched if feature not in header]
        if missing:
            raise UserError(self.env.where("monitoring.drift.features",
                                           f"{data_uri} has no column {missing[0]!r}; its "
                                           f"header is {', '.join(header)}"))
        columns = {column: [row[i] for row in rows[1:] if i < len(row) and row[i].strip()]
                   for i, column in enumerate(header)}
        return [{"name": feature, "dataType": _data_type(columns[feature])}
                for feature in watched]

    def _copy(self, bucket: str, name: str, target: str, key: str) -> None:
        """GCS rewrite of the object to `target` with the stack's key (repeated until done)."""
        target_bucket, _, target_name = target.removeprefix("gs://").partition("/")
        url = f"{_object_url(bucket, name)}/rewriteTo/b/{target_bucket}/o/{quote(target_name, safe='')}"
        params: dict[str, str] = {"destinationKmsKeyName": key}
        while True:
            done = self.rest("CopyTrainingData", "POST", url, params=params, json={})
            if done.get("done", True):
                return
            params["rewriteToken"] = done["rewriteToken"]

    def _latest_version(self) -> tuple[str, str]:
        """(model, version) to monitor: for an endpoint target, the one the endpoint serves
        (the deployed model with the largest traffic share); for a data-lake target, the
        registry model's newest version. `UserError` before any version."""
        target = self.outputs.get("drift_target") or ""
        if target and not target.startswith("gs://"):
            return self._served_version(target)
        model = self.outputs.get("drift_model") or self.registry_model()
        found = self.rest("ListModelVersions", "GET", f"{self._beta}/{model}:listVersions",
                          params={"pageSize": 1000}, missing_ok=True) or {}
        versions = [m.get("versionId", "") for m in found.get("models", [])]
        versions = sorted((v for v in versions if v.isdigit()), key=int)
        if not versions:
            raise UserError(f"{model}: no model version in the registry yet: register one "
                            "(terraml deploy-model or the pipeline) before terraml monitor "
                            "baseline")
        return model, versions[-1]

    def _served_version(self, endpoint: str) -> tuple[str, str]:
        """GetEndpoint: (model, version) of the deployed model with the largest traffic
        share; `UserError` when nothing is deployed."""
        found = self.rest("GetEndpoint", "GET", f"{self._beta}/{endpoint}",
                          missing_ok=True) or {}
        split = found.get("trafficSplit") or {}
        deployed = [m for m in found.get("deployedModels", []) if m.get("model")]
        if not deployed:
            raise UserError(f"{endpoint}: no model deployed on the endpoint yet: deploy one "
                            "(terraml deploy-model) before terraml monitor baseline")
        served = max(deployed, key=lambda m: int(split.get(m.get("id", ""), 0)))
        model, _, alias = served["model"].partition("@")
        return model, served.get("modelVersionId") or alias

    def _monitor_body(self, monitor: str, model: str, version: str,
                      schema: list[dict[str, str]], baseline: str, reports: str,
                      key: str) -> dict[str, Any]:
        limits = dict(self.outputs.get("drift_thresholds") or {})
        default = float(limits.pop("default", 0.3))
        features = [field["name"] for field in schema]
        channels = self.outputs.get("drift_channels") or []
        return {
            "displayName": monitor,
            "modelMonitoringTarget": {"vertexModel": {"model": model,
                                                      "modelVersionId": version}},
            "trainingDataset": _csv_input(baseline),
            "modelMonitoringSchema": {"featureFields": schema},
            "tabularObjective": {"featureDriftSpec": {
                "features": features,
                "numericMetricType": NUMERIC_METRIC,
                "categoricalMetricType": CATEGORICAL_METRIC,
                "defaultNumericAlertCondition": {"threshold": default},
                "defaultCategoricalAlertCondition": {"threshold": default},
                "featureAlertConditions": {f: {"threshold": float(limits.get(f, default))}
                                           for f in features}}},
            "notificationSpec": {"enableCloudLogging": True,
                                 "notificationChannelConfigs": [{"notificationChannel": c}
                                                                for c in channels]},
            "outputSpec": {"gcsBaseDirectory": {"outputUriPrefix": reports}},
            "encryptionSpec": {"kmsKeyName": key},
        }

    def _job_spec(self, monitor: dict[str, Any]) -> dict[str, Any]:
        """A monitoring job's spec: the monitor's objective and baseline on `drift_target`."""
        target, window = self.outputs.require("drift_target")[0], \
            self.outputs.get("drift_window") or ""
        if target.startswith("gs://"):
            data = _csv_input(f"{target.rstrip('/')}/**.csv")  # every CSV under the prefix
        else:
            data = {"vertexEndpointLogs": {"endpoints": [target]}}
            if window:
                data["timeOffset"] = {"window": window}
        return {"objectiveSpec": {"tabularObjective": monitor["tabularObjective"],
                                  "baselineDataset": monitor["trainingDataset"],
                                  "targetDataset": data},
                "notificationSpec": monitor["notificationSpec"],
                "outputSpec": monitor["outputSpec"]}

    def _schedules(self, display: str) -> list[dict[str, Any]]:
        found = self.rest("ListSchedules", "GET", f"{self._beta}/{self.parent}/schedules",
                          params={"filter": f'display_name="{display}"'})
        return found.get("schedules", [])

    def _replace_schedule(self, monitor: str, monitor_name: str, body: dict[str, Any],
                          cron: str, progress: Progress) -> str:
        old = self._schedules(monitor)
        progress(f"scheduling monitoring jobs {cron} UTC")
        created = self.rest("CreateSchedule", "POST", f"{self._beta}/{self.parent}/schedules",
                            json={"displayName": monitor, "cron": f"TZ=UTC {cron}",
                                  "maxConcurrentRunCount": 1,
                                  "createModelMonitoringJobRequest": {
                                      "parent": monitor_name,
                                      "modelMonitoringJob": {
                                          "displayName": f"{monitor}-scheduled",
                                          "modelMonitoringSpec": self._job_spec(body)}}})
        for item in old:
            progress(f"removing the previous schedule {item['name'].rsplit('/', 1)[-1]}")
            self.rest("DeleteSchedule", "DELETE", f"{self._beta}/{item['name']}")
        return created["name"].rsplit("/", 1)[-1]

    def _wait(self, what: str, operation: dict[str, Any]) -> dict[str, Any]:
        """Poll a long-running operation until done (`timeout_seconds`); its response."""
        deadline = time.monotonic() + self.timeout_seconds
        while not operation.get("done"):
            if time.monotonic() > deadline:
                raise UserError(f"{what}: {operation.get('name', 'operation')} still running "
                                f"after {int(self.timeout_seconds)} s")
            time.sleep(POLL_SECONDS)
            operation = self.rest("GetOperation", "GET", f"{self._beta}/{operation['name']}")
        error = operation.get("error")
        if error:
            raise UserError(f"{what}: {error.get('message') or error}")
        return operation.get("response", {})

    # -- runs ------------------------------------------------------------------------

    def start_drift_run(self) -> DriftRun:
        """CreateModelMonitoringJob now, with the scheduled jobs' spec."""
        monitor, monitor_name = self._monitor()
        found = self.rest("GetModelMonitor", "GET", f"{self._beta}/{monitor_name}",
                          missing_ok=True)
        if found is None:
            raise UserError(f"{monitor}: no model monitor yet: run terraml monitor baseline "
                            f"--env {self.env.name} --data gs://<bucket>/<training>.csv first")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        job = self.rest("CreateModelMonitoringJob", "POST",
                        f"{self._beta}/{monitor_name}/modelMonitoringJobs",
                        json={"displayName": f"{monitor}-{stamp}",
                              "modelMonitoringSpec": self._job_spec(found)})
        return _run(job, [])

    def drift_runs(self, limit: int = 20) -> list[DriftRun]:
        """The monitor's jobs newest first, with per-feature scores (none before the first
        baseline)."""
        _monitor, monitor_name = self._monitor()
        jobs: list[dict[str, Any]] = []
        params: dict[str, Any] = {"pageSize": 100}
        for _ in range(MAX_PAGES):
            page = self.rest("ListModelMonitoringJobs", "GET",
                             f"{self._beta}/{monitor_name}/modelMonitoringJobs", params=params,
                             missing_ok=True) or {}
            jobs += page.get("modelMonitoringJobs", [])
            if not page.get("nextPageToken"):
                break
            params["pageToken"] = page["nextPageToken"]
        jobs.sort(key=lambda j: j.get("createTime", ""), reverse=True)
        jobs = jobs[:limit]
        if not jobs:
            return []
        since = min(j.get("createTime", "") for j in jobs)
        window = {"startTime": since,
                  "endTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        points = self._stats(monitor_name, window)
        alerted = self._alerts(monitor_name, window)
        return [_run(job, self._features(job["name"], points, alerted)) for job in jobs]

    def _stats(self, monitor_name: str, window: dict[str, str]) -> dict[str, dict[str, Any]]:
        """job name -> feature -> its newest feature-drift data point."""
        found: dict[str, dict[str, Any]] = {}
        body: dict[str, Any] = {"statsFilter": {"tabularStatsFilter": {
            "objectiveType": OBJECTIVE}}, "timeInterval": window, "pageSize": 1000}
        for _ in range(MAX_PAGES):
            page = self.rest("SearchModelMonitoringStats", "POST",
                             f"{self._beta}/{monitor_name}:searchModelMonitoringStats",
                             json=body)
            for stats in page.get("monitoringStats", []):
                tabular = stats.get("tabularStats", {})
                for point in tabular.get("dataPoints", []):
                    per_job = found.setdefault(point.get("modelMonitoringJob", ""), {})
                    per_job.setdefault(tabular.get("statsName", ""), point)  # newest first
            if not page.get("nextPageToken"):
                break
            body["pageToken"] = page["nextPageToken"]
        return found

    def _alerts(self, monitor_name: str, window: dict[str, str]) -> set[tuple[str, str]]:
        """(job name, feature) of every feature-drift alert in `window`."""
        found: set[tuple[str, str]] = set()
        body: dict[str, Any] = {"objectiveType": OBJECTIVE, "alertTimeInterval": window,
                                "pageSize": 1000}
        for _ in range(MAX_PAGES):
            page = self.rest("SearchModelMonitoringAlerts", "POST",
                             f"{self._beta}/{monitor_name}:searchModelMonitoringAlerts",
                             json=body)
            for alert in page.get("modelMonitoringAlerts", []):
                job = alert.get("anomaly", {}).get("modelMonitoringJob", "")
                found.add((job, alert.get("statsName", "")))
            if not page.get("nextPageToken"):
                break
            body["pageToken"] = page["nextPageToken"]
        return found

    def _features(self, job: str, points: dict[str, dict[str, Any]],
                  alerted: set[tuple[str, str]]) -> list[FeatureDrift]:
        limits = dict(self.outputs.get("drift_thresholds") or {})
        default = float(limits.get("default", 0.3))
        watched = list(self.outputs.get("drift_features") or [])
        scored = points.get(job, {})
        flagged = {feature for name, feature in alerted if name == job}
        names = [f for f in watched if f in scored or f in flagged] + \
            sorted((set(scored) | flagged) - set(watched))
        features = []
        for name in names:
            point = scored.get(name)
            threshold = float(limits.get(name, default))
            if point is None:
                features.append(FeatureDrift(name, None, threshold, True))
                continue
            score = _score(point)
            threshold = float(point.get("thresholdValue") or threshold)
            drifted = bool(point.get("hasAnomaly")) or name in flagged or \
                (score is not None and score > threshold)
            features.append(FeatureDrift(name, score, threshold, drifted))
        return features


def _object_url(bucket: str, name: str) -> str:
    return f"{STORAGE}/b/{bucket}/o/{quote(name, safe='')}"


def _csv_input(uri: str) -> dict[str, Any]:
    return {"columnizedDataset": {"gcsSource": {"gcsUri": uri, "format": "CSV"}}}


def _data_type(values: list[str]) -> str:
    """`integer` / `float` when every sampled value is a number, else `categorical`."""
    if not values:
        return "categorical"
    try:
        for value in values:
            int(value)
        return "integer"
    except ValueError:
        pass
    try:
        for value in values:
            float(value)
        return "float"
    except ValueError:
        return "categorical"


def _score(point: dict[str, Any]) -> float | None:
    current = point.get("currentStats", {})
    if "distributionValue" in current:
        value = current["distributionValue"].get("distributionDeviation")
    else:
        value = current.get("doubleValue")
    return None if value is None else float(value)


def _run(job: dict[str, Any], features: list[FeatureDrift]) -> DriftRun:
    raw = job.get("state", "JOB_STATE_PENDING")
    detail = job.get("jobExecutionDetail", {})
    messages = [detail.get("error", {}).get("message", "")] + \
        [s.get("message", "") for s in detail.get("objectiveStatus", {}).values()]
    text = "; ".join(m for m in messages if m)
    if raw == "JOB_STATE_PARTIALLY_SUCCEEDED":
        text = f"partially succeeded{': ' + text if text else ''}"
    return DriftRun(run_id=job["name"], state=JOB_STATES.get(raw, PENDING),
                    started=as_utc(job.get("createTime")), features=features, detail=text)
