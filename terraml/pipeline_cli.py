"""`terraml pipeline deploy|run|status`, `terraml models`, `terraml approve`: continuous
training and the approval step before deploy.

Bad input is one line and exit 2; a guardrail refusal is one line naming the rule and exit
1, before any cloud call; a failed pipeline run exits 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from terraml.console import when
from terraml.runtime_cli import EnvDir, EnvName, Outdir, OutputsFile, _console, _context

pipeline_app = typer.Typer(no_args_is_help=True, help="The environment's training pipeline: "
                           "deploy its template and schedule, run it, follow it.")


def _warn(message: str) -> None:
    _console()[1].print(f"[yellow]warning[/] {message}")


def _step_table(run, title: str) -> Table:
    table = Table("step", "state", "started", "ended", "detail", title=title)
    for step in run.steps:
        table.add_row(step.name, step.state, when(step.started), when(step.ended), step.detail)
    return table


@pipeline_app.command("deploy")
def deploy(env: EnvName, env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
           outdir: Outdir = "cdktf.out") -> None:
    """Put the pipeline template and its schedule in place (what Terraform cannot)."""
    from terraml.runtime import pipeline

    out, err = _console()
    target, opener = _context(env, env_dir, outputs, outdir)
    pipeline.check(target, _warn)
    runtime = opener()
    with err.status("deploying the pipeline") as spinner:
        done = runtime.deploy_pipeline(lambda m: spinner.update(m))
    out.print(done)


@pipeline_app.command("run")
def run(env: EnvName,
        wait: Annotated[bool, typer.Option("--wait/--no-wait",
                                           help="Follow the run to its end.")] = True,
        poll: Annotated[float, typer.Option("--poll", help="Seconds between checks.")] = 15.0,
        env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
        outdir: Outdir = "cdktf.out") -> None:
    """Start one run now (guardrails first) and follow it step by step."""
    from core.errors import EXIT_FAILED, UserError
    from terraml.runtime import pipeline

    out, _err = _console()
    if poll <= 0:
        raise UserError(f"--poll: expected a positive number of seconds, found {poll:g}")
    target, opener = _context(env, env_dir, outputs, outdir)
    machines = pipeline.check(target, _warn)
    runtime = opener()
    started = runtime.start_pipeline()
    out.print(f"run: {started.run_id}")
    final = started
    if wait and not started.finished:
        final = _follow(runtime, started, list(machines), poll)
    out.print(_step_table(final, f"{target.prefix}-training ({target.cloud})"))
    out.print(f"status: {final.state}{' - ' + final.detail if final.detail else ''}")
    if final.state in ("failed", "stopped"):
        raise typer.Exit(EXIT_FAILED)


def _follow(runtime, started, step_names: list[str], poll: float):
    from terraml.runtime import pipeline

    _, err = _console()
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[state]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bars:
        total = max(len(started.steps), len(step_names) + 1)  # + register
        task = bars.add_task("pipeline", total=total, state=started.state)

        def update(current) -> None:
            done = sum(s.state in ("succeeded", "failed", "stopped") for s in current.steps)
            running = [s.name for s in current.steps if s.state == "running"]
            bars.update(task, completed=done, total=max(total, len(current.steps)),
                        state=f"{current.state} {', '.join(running)}".strip())
        update(started)
        return pipeline.follow(runtime, started, update, poll_seconds=poll)


@pipeline_app.command("status")
def status(env: EnvName,
           run_id: Annotated[str | None, typer.Option("--run", help="One run (default: the "
                                                     "latest).")] = None,
           env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
           outdir: Outdir = "cdktf.out") -> None:
    """The latest runs, and the steps of one run."""
    out, _ = _console()
    target, opener = _context(env, env_dir, outputs, outdir)
    runtime = opener()
    runs = runtime.pipeline_runs()
    table = Table("run", "state", "started", "detail", title=f"{target.prefix}-training runs")
    for item in runs:
        table.add_row(item.run_id, item.state, when(item.started), item.detail)
    out.print(table if runs else f"{target.prefix}-training: no runs yet")
    chosen = run_id or (runs[0].run_id if runs else None)
    if chosen:
        one = runtime.pipeline_run(chosen)
        out.print(_step_table(one, f"run {chosen}"))
        out.print(f"status: {one.state}{' - ' + one.detail if one.detail else ''}")


@pipeline_app.command("stage-report")
def stage_report(env: EnvName,
                 metric: Annotated[list[str], typer.Option(
                     "--metric", help="NAME=NUMBER for the evaluation report (repeatable).")],
                 env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
                 outdir: Outdir = "cdktf.out") -> None:
    """Local deploys only: stage the report the evaluate step would write (containers do
    not run in the emulator), for the next `pipeline run` to gate on."""
    from terraml.console import one_environment
    from terraml.local.reports import parse_metrics, stage_report
    from terraml.runtime.outputs import load_outputs

    out, _ = _console()
    metrics = parse_metrics(metric)
    target = one_environment(env_dir, env)
    uri = stage_report(load_outputs(target, outputs, outdir), metrics)
    out.print(f"staged {', '.join(f'{k}={v:g}' for k, v in metrics.items())} at {uri}")


def models(env: EnvName, env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
           outdir: Outdir = "cdktf.out") -> None:
    """Model versions in the environment's registry, with metrics and approval state."""
    out, _ = _console()
    target, opener = _context(env, env_dir, outputs, outdir)
    runtime = opener()
    versions = runtime.model_versions()
    table = Table("version", "created", "approval", "metrics", "model", "reason",
                  title=f"{target.stack_name} model registry ({target.cloud})")
    for item in versions:
        metrics = ", ".join(f"{k}={v:g}" for k, v in sorted(item.metrics.items())) or "-"
        table.add_row(item.version, when(item.created), item.approval, metrics,
                      item.model_uri or "-", item.detail or "")
    out.print(table if versions else f"{target.stack_name}: no model versions yet")


def approve(env: EnvName,
            version: Annotated[str, typer.Option("--version", help="The version (terraml "
                                                 "models).")],
            reject: Annotated[bool, typer.Option("--reject", help="Reject it instead.")] = False,
            reason: Annotated[str, typer.Option("--reason", help="Why (required to "
                                                "reject).")] = "",
            env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
            outdir: Outdir = "cdktf.out") -> None:
    """Approve (or --reject) a model version; deploy-model deploys only approved versions
    outside dev."""
    from terraml.runtime import pipeline

    out, _ = _console()
    _target, opener = _context(env, env_dir, outputs, outdir)
    runtime = opener()
    item = pipeline.approve(runtime, version, reject=reject, reason=reason)
    out.print(f"version {item.version}: {item.approval}"
              f"{' (' + item.detail + ')' if item.detail else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")
    app.command()(models)
    app.command()(approve)
