"""What `terraml monitor baseline|run|status` do, cloud-neutrally.

Contract: `prepare` refuses an environment without `monitoring.drift` or a stack without the
drift outputs (`UserError`, exit 2) and applies the guardrails to the monitoring job's machine
(`Blocked`, exit 1), all before the first cloud call; cloud work goes through the
environment's `CloudRuntime` (`start_drift_baseline`, `drift_baseline`, `start_drift_run`,
`drift_runs`). `document` and `html_report` turn runs into the `--json` document and the
`--html` report; `write_report` writes a file whole or not at all.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment as Templates
from jinja2 import FileSystemLoader, StrictUndefined

from adapters.machines import AcceleratorChoice
from adapters.runtime import (
    SUCCEEDED,
    TERMINAL,
    CloudRuntime,
    DriftBaseline,
    DriftRun,
    FeatureDrift,
    machine_chooser,
)
from core.drift import Drift
from core.errors import UserError
from core.outputs import StackOutputs
from core.spec import Environment
from terraml.console import when
from terraml.files import write_atomically
from terraml.runtime import guard, polling

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
REQUIRED_OUTPUTS = ("drift_monitor", "drift_baseline_uri")  # what the commands read
DATA_URI = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")
MAX_LIMIT = 100  # the most runs one list call returns on every cloud (SageMaker's cap)
MAX_SECONDS = 7 * 24 * 3600  # --poll / --timeout: at most a week
FOLLOW_LIMIT = 10  # a run started now is among the newest few, even with schedules firing
Warn = Callable[[str], None]


def drift_spec(env: Environment) -> Drift:
    """The environment's `monitoring.drift`; a `UserError` naming the file and setting."""
    if env.monitoring.drift is None:
        raise UserError(env.where("monitoring.drift", "drift monitoring is off in this "
                                  "environment: add a monitoring.drift: section (see "
                                  "examples/aws-mlops.yaml) and deploy the stack"))
    return env.monitoring.drift


def require_outputs(env: Environment, outputs: StackOutputs) -> None:
    """The drift outputs the commands read; a `UserError` naming the missing ones."""
    missing = [name for name in REQUIRED_OUTPUTS if outputs.get(name) in (None, "")]
    if missing:
        raise UserError(f"{outputs.source}: stack outputs lack {', '.join(missing)}: deploy the "
                        f"stack with monitoring.drift on (cdktf deploy {env.stack_name})")


def monitoring_machine(env: Environment, outputs: StackOutputs) -> AcceleratorChoice:
    """The machine a monitoring job runs on: the deployed stack's `drift_instance_type` when it
    records one, else `monitoring.drift.size` on the environment's cloud."""
    deployed = outputs.get("drift_instance_type")
    if deployed:
        return AcceleratorChoice(str(deployed), None, 0)
    return AcceleratorChoice(machine_chooser(env.cloud).drift_machine(drift_spec(env).size),
                             None, 0)


def prepare(runtime: CloudRuntime, warn: Warn, *, compute: bool) -> Drift:
    """Check the environment, its outputs and (for a job that uses `compute`) the guardrails,
    before any cloud call."""
    spec = drift_spec(runtime.env)
    require_outputs(runtime.env, runtime.outputs)
    if compute:
        machine = monitoring_machine(runtime.env, runtime.outputs)
        guard.enforce(guard.check_drift(runtime.env, str(runtime.outputs["drift_monitor"]),
                                        machine), warn)
    return spec


def check_data_uri(data_uri: str) -> str:
    if not DATA_URI.match(data_uri):
        raise UserError("--data: expected the URI of the training data (CSV with a header "
                        "row), e.g. s3://bucket/train.csv, gs://bucket/train.csv or "
                        f"azureml://datastores/raw/paths/train.csv, found {data_uri!r}")
    return data_uri


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"--limit: expected 1 to {MAX_LIMIT} runs, found {limit}")
    return limit


def check_seconds(flag: str, seconds: float) -> float:
    if not 0 < seconds <= MAX_SECONDS:  # also refuses nan and inf
        raise UserError(f"{flag}: expected a number of seconds above 0 and at most "
                        f"{MAX_SECONDS} (a week), found {seconds:g}")
    return seconds


def check_html_path(path: Path) -> Path:
    """A report path that can be written (checked before any cloud call)."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UserError(f"--html: expected a file to write, found the folder {path}")
    if not parent.is_dir():
        raise UserError(f"--html: expected a file in an existing folder, {parent} does not "
                        "exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"--html: expected a writable file, cannot write {path}")
    return path


def follow_baseline(runtime: CloudRuntime, baseline: DriftBaseline,
                    on_change: Callable[[DriftBaseline], None], poll_seconds: float,
                    timeout_seconds: float) -> DriftBaseline:
    """Poll the baselining job until it is final or `timeout_seconds` passed."""
    return polling.follow(baseline, lambda b: runtime.drift_baseline(b.job), done=finished,
                          progress=_progress, on_change=on_change,
                          poll_seconds=poll_seconds, timeout_seconds=timeout_seconds)


def follow_run(runtime: CloudRuntime, run: DriftRun, on_change: Callable[[DriftRun], None],
               poll_seconds: float, timeout_seconds: float) -> DriftRun:
    """Poll the latest runs until `run` is final or `timeout_seconds` passed."""
    def fetch(current: DriftRun) -> DriftRun:
        return next((r for r in runtime.drift_runs(FOLLOW_LIMIT)
                     if r.run_id == current.run_id), current)
    return polling.follow(run, fetch, done=finished, progress=_progress, on_change=on_change,
                          poll_seconds=poll_seconds, timeout_seconds=timeout_seconds)


def _progress(item: DriftBaseline | DriftRun) -> tuple[str, str]:
    return item.state, item.detail


def ranked(run: DriftRun) -> list[FeatureDrift]:
    """The run's features, worst first: drifted ones, then by score relative to threshold."""
    def key(item: FeatureDrift) -> tuple[bool, float]:
        margin = item.score / item.threshold if item.score is not None and item.threshold \
            else (float("inf") if item.drifted else 0.0)
        return item.drifted, margin
    return sorted(run.features, key=key, reverse=True)


def worst(run: DriftRun) -> FeatureDrift | None:
    return (ranked(run) or [None])[0]


def latest_finished(runs: list[DriftRun]) -> DriftRun | None:
    """The newest run that finished with per-feature scores (`runs` are newest first)."""
    return next((r for r in runs if r.state in TERMINAL and r.features), None)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _feature(item: FeatureDrift) -> dict[str, Any]:
    return {"feature": item.feature, "score": item.score, "threshold": item.threshold,
            "drifted": item.drifted}


def document(env: Environment, outputs: StackOutputs, runs: list[DriftRun]) -> dict[str, Any]:
    """The `--json` document: the monitor, and each run (newest first) with its features."""
    latest = latest_finished(runs)
    return {
        "environment": env.name, "cloud": env.cloud,
        "monitor": outputs.get("drift_monitor"),
        "baseline_uri": outputs.get("drift_baseline_uri"),
        "latest_finished": latest.run_id if latest else None,
        "runs": [{"run_id": run.run_id, "state": run.state, "started": _iso(run.started),
                  "detail": run.detail, "features_checked": len(run.features),
                  "violations": len(run.violations),
                  "worst": _feature(worst(run)) if run.features else None,
                  "features": [_feature(item) for item in run.features]} for run in runs],
    }


# -- the HTML report ----------------------------------------------------------------------

CHART = {"width": 420, "height": 150, "left": 44, "right": 12, "top": 12, "bottom": 28}


def _series(runs: list[DriftRun]) -> dict[str, list[tuple[datetime, FeatureDrift]]]:
    """Each feature's results, oldest first, from the runs that have a start time."""
    series: dict[str, list[tuple[datetime, FeatureDrift]]] = {}
    for run in sorted((r for r in runs if r.started), key=lambda r: r.started):
        for item in run.features:
            series.setdefault(item.feature, []).append((run.started, item))
    return series


def chart(results: list[tuple[datetime, FeatureDrift]], threshold: float) -> dict[str, Any]:
    """One feature's line chart geometry: x by time, y linear in the score from 0 at the
    bottom to `top` (the largest score or threshold with headroom, rounded up to 0.05, at most
    1). Results without a score (a violation the cloud reported without one) are flags on
    the top edge instead of points."""
    c = CHART
    width, height = c["width"] - c["left"] - c["right"], c["height"] - c["top"] - c["bottom"]
    points = [(when, item) for when, item in results if item.score is not None]
    top = min(1.0, math.ceil(max([threshold] + [p.score for _, p in points]) * 1.15 * 20) / 20)
    times = [when.timestamp() for when, _ in results]
    span = (max(times) - min(times)) if times else 0

    def x(when: datetime) -> float:
        offset = (when.timestamp() - min(times)) / span * width if span else width / 2
        return round(c["left"] + offset, 1)

    def y(score: float) -> float:
        return round(c["top"] + (1 - min(score, top) / top) * height, 1)

    def label(when: datetime, item: FeatureDrift) -> str:
        found = "drifted, no score reported" if item.score is None else f"{item.score:.3f}"
        return f"{when:%Y-%m-%d %H:%M} UTC: {found} (threshold {item.threshold:g})"

    dots = [{"x": x(when), "y": y(p.score), "drifted": p.drifted, "label": label(when, p)}
            for when, p in points]
    flags = [{"x": x(when), "label": label(when, item)} for when, item in results
             if item.score is None and item.drifted]
    day = "%Y-%m-%d" if span >= 2 * 86400 else "%Y-%m-%d %H:%M"
    return {**c, "points": " ".join(f"{d['x']},{d['y']}" for d in dots), "dots": dots,
            "flags": flags, "threshold_y": y(threshold), "threshold": threshold, "top": top,
            "top_y": y(top), "bottom_y": y(0), "plot_right": c["width"] - c["right"],
            "first": f"{results[0][0]:{day}}" if results else "",
            "last": f"{results[-1][0]:{day}}" if len(results) > 1 else ""}


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def html_report(env: Environment, outputs: StackOutputs, runs: list[DriftRun],
                now: datetime | None = None) -> str:
    """A self-contained page (inline CSS and SVG; no scripts, no external assets): the runs,
    the latest finished run's features, and a score-over-time chart per feature with its
    threshold line."""
    latest = latest_finished(runs)
    series = _series(runs)
    charts = []
    for feature, results in sorted(series.items()):  # each has a result: the latest's
        latest_result = results[-1][1]  # threshold is the one the feature is held to now
        charts.append({"feature": feature, "chart": chart(results, latest_result.threshold),
                       "drifted": latest_result.drifted})
    templates = Templates(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                          autoescape=True)
    return templates.get_template("drift_status.html.j2").render(
        env=env, monitor=outputs.get("drift_monitor"),
        baseline_uri=outputs.get("drift_baseline_uri"),
        generated=when(now or datetime.now(timezone.utc)), runs=runs, latest=latest,
        latest_features=ranked(latest) if latest else [], worst=worst, charts=charts,
        when=when, score=_score)


def write_report(path: Path, text: str) -> None:
    """Write `text` to `path` whole (a sibling file renamed over it); nothing is left behind
    when that fails."""
    try:
        write_atomically(path, text)
    except OSError as exc:
        path.with_name(path.name + ".tmp").unlink(missing_ok=True)
        raise UserError(f"--html: cannot write {path}: {exc.strerror or exc}") from None


def finished(item: DriftBaseline | DriftRun) -> bool:
    return item.state in TERMINAL


def failed(item: DriftBaseline | DriftRun) -> bool:
    """Final without success: the command exits 3 (`EXIT_FAILED`), like a failed
    `pipeline run`."""
    return item.state in TERMINAL and item.state != SUCCEEDED
