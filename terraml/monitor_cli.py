"""`terraml monitor baseline|run|status`: drift monitoring of a deployed environment.

## Drift monitoring

With a `monitoring.drift:` section in the environment file (see `examples/aws-mlops.yaml`; the
same file works on GCP and Azure), the stack watches production data against a baseline made
from the training data. Each feature gets a drift score from 0 (same distribution as the
baseline) to 1 (disjoint); a score above the feature's threshold is a violation, and any
violation raises the stack's alert.

```bash
# once, after `cdktf deploy ml-dev`: summarize the training data (CSV with a header row)
terraml monitor baseline --env dev --data s3://ml-dev-raw/churn/train.csv
# a drift check now (the schedule in monitoring.drift.schedule runs them anyway)
terraml monitor run --env dev
# the latest runs, the latest finished run per feature; a report with a chart per feature
terraml monitor status --env dev --limit 30 --html drift.html
terraml monitor status --env dev --json > drift.json
```

Every command takes `--env-dir`, `--outputs FILE` (`terraform output -json`) and `--out`
like the other runtime commands; `baseline` and `run` take `--no-wait`, `--poll` and
`--timeout`. A monitoring job runs on `monitoring.drift.size` (the stack's
`drift_instance_type`), checked against `guardrails.allowed_instance_types` before it starts.
Exit codes: 0 done (drifted features are reported, not an error), 1 blocked by a guardrail,
2 bad input (no `monitoring.drift`, a stack deployed without it, a bad option), 3 the baseline
/ run failed or did not finish within `--timeout`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from core.errors import EXIT_FAILED
from terraml.console import when
from terraml.runtime_cli import EnvDir, EnvName, Outdir, OutputsFile, _console, _context

monitor_app = typer.Typer(no_args_is_help=True, help="Drift monitoring: build the baseline, "
                          "run a drift check, read the runs and their per-feature scores.")

Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the job to its end.")]
Poll = Annotated[float, typer.Option("--poll", help="Seconds between checks.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for the end.")]


def _warn(message: str) -> None:
    _console()[1].print(f"[yellow]warning[/] {message}")


def _status_line(item) -> str:
    return f"status: {item.state}{' - ' + item.detail if item.detail else ''}"


def _conclude(final, wait: bool, timeout: float, still_running: str) -> None:
    """Print the job's final status; exit 3 when it failed or, followed, did not finish
    within `timeout` (`still_running` says where to look next)."""
    from terraml.runtime import drift

    out, err = _console()
    out.print(_status_line(final), markup=False, highlight=False)
    if drift.failed(final):
        raise typer.Exit(EXIT_FAILED)
    if wait and not drift.finished(final):
        err.print(f"not finished after {timeout:g}s: {still_running}", markup=False,
                  highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)


def _feature_table(run, title: str) -> Table:
    from terraml.runtime.drift import ranked

    table = Table("feature", "score", "threshold", "drifted", title=title)
    for item in ranked(run):
        table.add_row(item.feature, "-" if item.score is None else f"{item.score:.3f}",
                      f"{item.threshold:g}", "[red]DRIFTED[/]" if item.drifted else "no")
    return table


def _open(env: str, env_dir: Path, outputs: Path | None, outdir: str, *, compute: bool):
    """The runtime, after the environment, outputs and guardrails were checked."""
    from terraml.runtime import drift

    target, opener = _context(env, env_dir, outputs, outdir)
    drift.drift_spec(target)  # refuse before reading any outputs
    runtime = opener()
    drift.prepare(runtime, _warn, compute=compute)
    return runtime


@monitor_app.command("baseline")
def baseline(env: EnvName,
             data: Annotated[str, typer.Option("--data", help="Training data URI (CSV with a "
                                               "header row).")],
             wait: Wait = True, poll: Poll = 15.0, timeout: Timeout = 3600.0,
             env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
             outdir: Outdir = "cdktf.out") -> None:
    """Summarize the training data into the baseline the monitor compares against."""
    from terraml.runtime import drift

    out, err = _console()
    drift.check_data_uri(data)
    drift.check_seconds("--poll", poll)
    drift.check_seconds("--timeout", timeout)
    runtime = _open(env, env_dir, outputs, outdir, compute=True)
    with err.status("starting the baseline") as spinner:
        started = runtime.start_drift_baseline(data, lambda m: spinner.update(m))
    out.print(f"baseline job: {started.job}")
    final = started
    if wait and not drift.finished(started):
        with err.status(f"baseline {started.state}") as spinner:
            final = drift.follow_baseline(
                runtime, started, lambda b: spinner.update(f"baseline {b.state} {b.detail}"),
                poll, timeout)
    out.print(f"baseline: {final.uri or runtime.outputs['drift_baseline_uri']}", markup=False,
              highlight=False)
    if final.features:
        out.print(f"features: {', '.join(final.features)} ({len(final.features)})")
    _conclude(final, wait, timeout, "follow it with the job id above")


@monitor_app.command("run")
def run(env: EnvName, wait: Wait = True, poll: Poll = 15.0, timeout: Timeout = 3600.0,
        env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
        outdir: Outdir = "cdktf.out") -> None:
    """Run one drift check now (guardrails first), on the production data so far."""
    from terraml.runtime import drift

    out, err = _console()
    drift.check_seconds("--poll", poll)
    drift.check_seconds("--timeout", timeout)
    runtime = _open(env, env_dir, outputs, outdir, compute=True)
    started = runtime.start_drift_run()
    out.print(f"run: {started.run_id}")
    final = started
    if wait and not drift.finished(started):
        with err.status(f"drift run {started.state}") as spinner:
            final = drift.follow_run(
                runtime, started, lambda r: spinner.update(f"drift run {r.state} {r.detail}"),
                poll, timeout)
    if final.features:
        out.print(_feature_table(final, f"run {final.run_id}"))
        out.print(f"{len(final.violations)} of {len(final.features)} features drifted")
    _conclude(final, wait, timeout, f"see `terraml monitor status --env {env}`")


@monitor_app.command("status")
def status(env: EnvName,
           limit: Annotated[int, typer.Option("--limit", help="How many runs (1 to 100).")] = 10,
           as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document "
                                                 "instead of tables.")] = False,
           html: Annotated[Path | None, typer.Option("--html", help="Also write a "
                                                     "self-contained HTML report here.")] = None,
           env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
           outdir: Outdir = "cdktf.out") -> None:
    """The latest runs, and the latest finished run's score per feature."""
    from terraml.runtime import drift

    out, _ = _console()
    drift.check_limit(limit)
    if html is not None:
        drift.check_html_path(html)
    runtime = _open(env, env_dir, outputs, outdir, compute=False)
    runs = runtime.drift_runs(limit)[:limit]
    if html is not None:
        drift.write_report(html, drift.html_report(runtime.env, runtime.outputs, runs))
    if as_json:
        sys.stdout.write(json.dumps(drift.document(runtime.env, runtime.outputs, runs),
                                    indent=2) + "\n")
        return
    monitor = runtime.outputs["drift_monitor"]
    if not runs:
        out.print(f"{monitor}: no monitoring runs yet (start one with `terraml monitor run "
                  f"--env {env}`)")
    else:
        table = Table("run", "started", "state", "features checked", "violations",
                      "worst feature", "score", title=f"{monitor} runs ({runtime.env.cloud})")
        for item in runs:
            worst = drift.worst(item)
            table.add_row(item.run_id, when(item.started), item.state, str(len(item.features)),
                          str(len(item.violations)) if item.features else "-",
                          worst.feature if worst else "-",
                          "-" if worst is None or worst.score is None else f"{worst.score:.3f}")
        out.print(table)
        latest = drift.latest_finished(runs)
        if latest:
            out.print(_feature_table(latest, f"latest finished run {latest.run_id} "
                                             f"({when(latest.started)})"))
            out.print(f"{len(latest.violations)} of {len(latest.features)} features drifted")
        else:
            out.print("no run has finished with per-feature scores yet")
    if html is not None:
        out.print(f"report: {html}")


@monitor_app.command("stage-data")
def stage_data(env: EnvName,
               file: Annotated[Path, typer.Argument(help="A local file (CSV with a header row).")],
               to: Annotated[str, typer.Option("--to", help="<bucket>/<prefix> in the data lake, "
                                               "e.g. raw/inference-requests/")],
               env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
               outdir: Outdir = "cdktf.out") -> None:
    """Local deploys only: copy a file into the emulator's data lake (training data for the
    baseline, or requests the serving code would have written for a drift run)."""
    from terraml.local.reports import stage_file
    from terraml.runtime.outputs import load_outputs

    out, _ = _console()
    target, _opener = _context(env, env_dir, outputs, outdir)
    uri = stage_file(load_outputs(target, outputs, outdir), file, to, "--to")
    out.print(f"staged {file.name} at {uri}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")
