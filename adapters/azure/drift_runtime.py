"""Azure runtime for drift monitoring (`terraml monitor`): mixed into `AzureRuntime`.

The monitor is an Azure ML model monitor: a `MonitorSchedule` (name `drift_monitor`) whose
`MonitorDefinition` holds data drift signals comparing production data (`drift_target`: a
data-lake folder through the stack's datastore, or the live online deployment's collected
model inputs) with the baseline, the training data. Azure ML's monitor reads production and
reference data as MLTable (without a preprocessing component), so the training data and a
data-lake target are registered as MLTable data asset versions: an `MLTable` file that reads
the CSV file / folder in place (`read_delimited`), uploaded by the SDK to the workspace's
default datastore (`mltable`).
Scores are Azure ML's normalized Wasserstein distance (numeric features) and Jensen-Shannon
distance (categorical ones); Azure ML holds one threshold per data type and signal, so each
distinct threshold of the file gets a signal of its own (`signal_groups`). Runs execute on
serverless Spark (`drift_instance_type`); alert emails go to `monitoring.emails`, and a run
that breaks a threshold fails, which the stack's `Failed Runs` alert sends to the action
group (adapters/azure/drift.py).

Per-feature scores come from the workspace's MLflow server: Azure ML's metric outputter logs,
per (monitor, signal, metric, feature), one run tagged `azureml.monitor_name`,
`azureml.signal_name`, `azureml.metric_name`, `azureml.group_0` (the feature), whose metric
`value` has one point per monitoring run (step = the run's time in epoch seconds). A
monitoring job gets the points from an hour before it was created up to an hour before the
next newer job was created.

Uses from `AzureRuntime`: `env`, `outputs`, `ml`, `call`, `workspace_id`, `timeout_seconds`,
`_credential`.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
import yaml
from azure.ai.ml import Input
from azure.ai.ml.entities import (
    AlertNotification,
    BaselineDataRange,
    CategoricalDriftMetrics,
    CronTrigger,
    Data,
    DataDriftMetricThreshold,
    DataDriftSignal,
    MonitorDefinition,
    MonitoringTarget,
    MonitorSchedule,
    NumericalDriftMetrics,
    ProductionData,
    ReferenceData,
    ServerlessSparkCompute,
)
from azure.core.exceptions import ResourceNotFoundError

from adapters.azure.states import state, word
from adapters.retry import CloudCallError
from adapters.runtime import (
    FAILED,
    PENDING,
    SUCCEEDED,
    DriftBaseline,
    DriftRun,
    FeatureDrift,
    Progress,
    as_utc,
)
from core.cron import parse
from core.drift import Drift
from core.errors import UserError

SIGNAL = "data_drift"  # the first threshold's signal; the others: data_drift_2, data_drift_3, ...
# The scores the signals compute, as MLflow tags name them (compared without case and "_").
METRICS = ("normalizedwassersteindistance", "jensenshannondistance")
BREACHED_TAG = "azureml_modelmonitor_threshold_breached"
DATA_URI = re.compile(r"^(azureml://\S+|https://[a-z0-9]{3,24}\.blob\.core\.windows\.net/\S+)$")
ARM_SCOPE = "https://management.azure.com/.default"
MATCH_SLACK = timedelta(hours=1)
DATA_TAG = "terraml-data"  # on an MLTable asset: the CSV file / folder its MLTable reads


def mltable(uri: str) -> str:
    """The `MLTable` file reading the CSV file `uri`, or every file of the folder `uri/`."""
    return yaml.safe_dump({
        "type": "mltable",
        "paths": [{"folder" if uri.endswith("/") else "file": uri}],
        "transformations": [{"read_delimited": {
            "delimiter": ",", "header": "all_files_same_headers", "encoding": "utf8"}}]},
        sort_keys=False)


def signal_groups(drift: Drift) -> dict[str, tuple[float, list[str]]]:
    """Signal name -> (threshold, features): one signal per distinct threshold of the watched
    features, named by position in the order the thresholds first appear in `features`
    (`data_drift`, `data_drift_2`, ...); every feature is in exactly one signal, at its own
    threshold."""
    by_threshold: dict[float, list[str]] = {}
    for feature in drift.features:
        by_threshold.setdefault(float(drift.threshold_of(feature)), []).append(feature)
    return {SIGNAL if position == 1 else f"{SIGNAL}_{position}": (threshold, features)
            for position, (threshold, features) in enumerate(by_threshold.items(), 1)}


def lookback(drift: Drift) -> str:
    """The production-data window of one run: the schedule's period (ISO 8601)."""
    hours = drift.period_hours()
    return f"P{hours // 24}D" if hours % 24 == 0 else f"PT{hours}H"


class AzureDriftCalls:
    """`start_drift_baseline`, `drift_baseline`, `start_drift_run`, `drift_runs` on Azure."""

    env: Any
    outputs: Any
    ml: Any
    call: Any
    workspace_id: str
    timeout_seconds: float
    _credential: Any

    def start_drift_baseline(self, data_uri: str, progress: Progress) -> DriftBaseline:
        """CreateDataVersion (MLTable `<drift_monitor>-baseline`, version = UTC time, reading
        `data_uri`), then GetOnlineEndpoint when the target is the endpoint (its live
        deployment) or CreateDataVersion (MLTable `<drift_monitor>-production` reading the
        data-lake target), then CreateSchedule: the monitor schedule with one data drift signal
        per threshold."""
        spec = self._drift()
        if not DATA_URI.match(data_uri or ""):
            raise UserError(f"--data: expected the training data (CSV) as an azureml:// URI or "
                            f"https://<account>.blob.core.windows.net/<container>/<path>, "
                            f"found {data_uri!r}")
        name, target = self.outputs.require("drift_monitor", "drift_target")
        version = f"{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
        progress(f"registering the baseline {name}-baseline:{version} from {data_uri}")
        asset = self._mltable(f"{name}-baseline", version, data_uri,
                              "drift baseline (training data)")
        reference = ReferenceData(input_data=Input(
            type="mltable", path=f"azureml:{asset.name}:{asset.version}"),
            data_context="training")
        monitored, production = self._production(spec, str(target), version)
        signals = {signal: DataDriftSignal(
            production_data=production, reference_data=reference,
            features=features,
            metric_thresholds=DataDriftMetricThreshold(
                numerical=NumericalDriftMetrics(normalized_wasserstein_distance=threshold),
                categorical=CategoricalDriftMetrics(jensen_shannon_distance=threshold)),
            alert_enabled=True)
            for signal, (threshold, features) in signal_groups(spec).items()}
        instance, runtime = self.outputs.require("drift_instance_type", "drift_spark_runtime")
        emails = list(self.env.monitoring.emails)
        cron = parse(spec.schedule).unix()
        schedule = MonitorSchedule(
            name=name, display_name=name, tags=dict(self.env.all_tags()), is_enabled=True,
            description=f"terraml {self.env.name}: drift of {target} against the baseline",
            trigger=CronTrigger(expression=cron, time_zone="UTC"),
            create_monitor=MonitorDefinition(
                compute=ServerlessSparkCompute(instance_type=instance, runtime_version=runtime),
                monitoring_target=monitored, monitoring_signals=signals,
                alert_notification=AlertNotification(emails=emails) if emails else None))
        progress(f"scheduling the monitor {name}: '{cron}' UTC on {instance}")
        self.call("CreateSchedule", lambda: self.ml.schedules.begin_create_or_update(schedule)
                  .result(timeout=self.timeout_seconds))
        return DriftBaseline(job=f"azureml:{asset.name}:{asset.version}", state=SUCCEEDED,
                             uri=data_uri, features=list(spec.features),
                             detail=f"monitor {name} compares {target} with it on '{cron}' UTC")

    def drift_baseline(self, job: str) -> DriftBaseline:
        """GetDataVersion of the baseline `job` (`azureml:<name>:<version>`) and GetSchedule:
        succeeded once both exist (Azure ML summarizes the baseline in every run)."""
        self._drift()
        found = re.fullmatch(r"azureml:([^:]+):([^:]+)", job or "")
        if not found:
            raise UserError(f"--job: expected the baseline as azureml:<name>:<version> (what "
                            f"`terraml monitor baseline` printed), found {job!r}")
        asset = self.call("GetDataVersion", lambda: self.ml.data.get(
            found.group(1), version=found.group(2)))
        name = self.outputs.require("drift_monitor")[0]
        schedule = self.call("GetSchedule", lambda: self._schedule(name))
        if schedule is None:
            return DriftBaseline(job=job, state=FAILED, uri=_read(asset),
                                 detail=f"no monitor schedule {name}: run `terraml monitor "
                                        "baseline` again")
        return DriftBaseline(job=job, state=SUCCEEDED, uri=_read(asset),
                             features=list(self._drift().features),
                             detail=f"monitor {name} is "
                                    f"{'enabled' if schedule.is_enabled else 'disabled'}")

    def start_drift_run(self) -> DriftRun:
        """GetSchedule, then TriggerSchedule: one run of the monitor now."""
        self._drift()
        name = self.outputs.require("drift_monitor")[0]
        if self.call("GetSchedule", lambda: self._schedule(name)) is None:
            raise UserError(f"drift monitor {name} does not exist yet: run `terraml monitor "
                            "baseline --data ...` first")
        result = self.call("TriggerSchedule", lambda: self.ml.schedules.trigger(name))
        return DriftRun(run_id=str(result.job_name), state=PENDING,
                        started=datetime.now(timezone.utc), detail="triggered")

    def drift_runs(self, limit: int = 20) -> list[DriftRun]:
        """ListJobs created by the monitor schedule, newest first, each with its per-feature
        scores from MLflow (GetExperimentByName, SearchRuns, GetMetricHistory)."""
        spec = self._drift()
        name = self.outputs.require("drift_monitor")[0]
        jobs = self.call("ListJobs", lambda: list(self.ml.jobs.list(
            schedule_defined=True, scheduled_job_name=name)))
        jobs = [job for job in jobs if job is not None]
        jobs.sort(key=_created, reverse=True)
        jobs = jobs[:limit]
        if not jobs:
            return []
        points = self._scores(name, spec)
        runs, newer = [], None
        for job in jobs:
            start = _created(job) - MATCH_SLACK
            end = newer - MATCH_SLACK if newer else None
            newer = _created(job)
            runs.append(_run(job, spec, {feature: score for feature, series in points.items()
                                         if (score := _latest(series, start, end)) is not None}))
        return runs

    # -- plumbing ----------------------------------------------------------------------

    def _drift(self) -> Drift:
        spec = self.env.monitoring.drift
        if spec is None:
            raise UserError(self.env.where("monitoring.drift", "this environment has no drift "
                                           "monitoring: expected a monitoring.drift section"))
        return spec

    def _schedule(self, name: str) -> Any:
        try:
            return self.ml.schedules.get(name)
        except ResourceNotFoundError:
            return None

    def _mltable(self, name: str, version: str, uri: str, what: str) -> Data:
        """CreateDataVersion: the MLTable data asset `name`:`version` reading `uri` in place,
        a local folder holding only its `MLTable` file, which the SDK uploads."""
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "MLTable").write_text(mltable(uri))
            return self.call("CreateDataVersion", lambda: self.ml.data.create_or_update(Data(
                name=name, version=version, type="mltable", path=folder,
                description=f"terraml {self.env.name}: {what}, MLTable over {uri}",
                tags={**dict(self.env.all_tags()), DATA_TAG: uri})))

    def _production(self, spec: Drift, target: str, version: str
                    ) -> tuple[MonitoringTarget | None, ProductionData | None]:
        """(monitoring target, production data): the live deployment (Azure ML reads its
        collected model inputs) or the data-lake folder `target`, registered as the MLTable
        `<drift_monitor>-production`:`version`."""
        if not spec.watches_endpoint():
            name = self.outputs.require("drift_monitor")[0]
            folder = target if target.endswith("/") else f"{target}/"
            asset = self._mltable(f"{name}-production", version, folder,
                                  "drift production data")
            return None, ProductionData(
                input_data=Input(type="mltable", path=f"azureml:{asset.name}:{asset.version}"),
                data_context="model_inputs",
                data_window=BaselineDataRange(lookback_window_size=lookback(spec),
                                              lookback_window_offset="P0D"))
        endpoint = target.removeprefix("azureml:")
        online = self.call("GetOnlineEndpoint", lambda: self.ml.online_endpoints.get(endpoint))
        traffic = {k: int(v) for k, v in (online.traffic or {}).items() if int(v) > 0}
        if not traffic:
            raise UserError(f"monitoring.drift.target: endpoint {endpoint} serves no deployment "
                            "yet: run `terraml deploy-model` first")
        live = max(traffic, key=lambda k: (traffic[k], k))
        return MonitoringTarget(endpoint_deployment_id=f"azureml:{endpoint}:{live}",
                                ml_task="classification"), None

    def _mlflow(self, operation: str, method: str, path: str, **options: Any) -> dict:
        """One call to the workspace's MLflow REST API (same credential as the SDK)."""
        _ = self.ml  # credential and subscription checks
        token = self._credential.get_token(ARM_SCOPE).token
        base = (f"https://{self.env.region}.api.azureml.ms/mlflow/v2.0{self.workspace_id}"
                "/api/2.0/mlflow")

        def send() -> dict:
            response = requests.request(method, f"{base}/{path}", timeout=60,
                                        headers={"Authorization": f"Bearer {token}"}, **options)
            if response.status_code == 404:
                return {}
            if response.status_code >= 400:
                raise CloudCallError(operation, str(response.status_code), response.text[:200],
                                     transient=response.status_code in (429, 500, 502, 503, 504))
            return response.json() if response.content else {}
        return self.call(operation, send)

    def _scores(self, name: str, spec: Drift) -> dict[str, list[tuple[int, float]]]:
        """feature -> [(step in epoch seconds, score)] of the monitor's drift signals."""
        experiment = self._mlflow("GetExperimentByName", "GET", "experiments/get-by-name",
                                  params={"experiment_name": name}).get("experiment")
        if not experiment:
            return {}
        found = self._mlflow("SearchRuns", "POST", "runs/search", json={
            "experiment_ids": [experiment["experiment_id"]], "max_results": 1000,
            "filter": f"tags.azureml.monitor_name = '{name}'"}).get("runs", [])
        signals = signal_groups(spec)
        points: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for run in found:
            tags = {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}
            feature = tags.get("azureml.group_0")
            if (tags.get("azureml.signal_name") not in signals or not feature
                    or _plain(tags.get("azureml.metric_name")) not in METRICS):
                continue
            run_id = run["info"]["run_id"]
            history = self._mlflow("GetMetricHistory", "GET", "metrics/get-history",
                                   params={"run_id": run_id, "metric_key": "value"})
            points[feature].extend((int(m.get("step") or 0), float(m["value"]))
                                   for m in history.get("metrics", []))
        return points


def _read(asset: Any) -> str:
    """The data an asset holds: the CSV file / folder its MLTable reads."""
    return str((getattr(asset, "tags", None) or {}).get(DATA_TAG) or asset.path or "")


def _plain(metric: str | None) -> str:
    return (metric or "").replace("_", "").lower()


def _created(job: Any) -> datetime:
    context = getattr(job, "creation_context", None)
    return as_utc(getattr(context, "created_at", None)) or datetime.min.replace(
        tzinfo=timezone.utc)


def _latest(series: list[tuple[int, float]], start: datetime,
            end: datetime | None) -> float | None:
    """The score with the latest step in [start, end)."""
    low, high = start.timestamp(), end.timestamp() if end else float("inf")
    inside = [(step, score) for step, score in series if low <= step < high]
    return max(inside)[1] if inside else None


def _run(job: Any, spec: Drift, scores: dict[str, float]) -> DriftRun:
    """A monitoring job as a `DriftRun`: a job that failed because features broke their
    thresholds did its check (succeeded, with violations)."""
    status = word(getattr(job, "status", ""))
    breached = (getattr(job, "tags", None) or {}).get(BREACHED_TAG, "")
    neutral = SUCCEEDED if breached and state(status) == FAILED else state(status)
    watched = spec.features or sorted(scores)
    features = [FeatureDrift(feature=f, score=scores.get(f), threshold=spec.threshold_of(f),
                             drifted=scores.get(f) is not None
                             and scores[f] > spec.threshold_of(f))
                for f in watched if f in scores]
    context = getattr(job, "creation_context", None)
    return DriftRun(run_id=job.name, state=neutral,
                    started=as_utc(getattr(context, "created_at", None)), features=features,
                    detail=breached or status)
