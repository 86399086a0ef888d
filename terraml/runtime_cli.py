"""`terraml train | deploy-model | status | stop-idle`: the runtime commands.

Bad input is one line and exit 2; a guardrail refusal is one line naming the rule and
exit 1, before any cloud call; a failed job or rollback exits 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from core.errors import EXIT_FAILED, UserError

EnvName = Annotated[str, typer.Option("--env", "-e", help="Environment name.")]
EnvDir = Annotated[Path, typer.Option("--env-dir", help="Folder of environment files.")]
OutputsFile = Annotated[Path | None, typer.Option(
    "--outputs", help="Stack outputs (`terraform output -json`); default: the local deploy "
                      "or the synthesized stack folder.")]
Outdir = Annotated[str, typer.Option("--out", help="Synthesis folder (cdktf.out).")]


def _context(env_name: str, env_dir: Path, outputs: Path | None, outdir: str, **options):
    """The environment, and an opener for its runtime that reports retries on stderr."""
    from terraml.console import one_environment as _one
    from terraml.runtime.commands import open_runtime

    env = _one(env_dir, env_name)

    def opener():
        runtime = open_runtime(env, outputs, outdir, **options)
        _retry_notice(runtime)
        return runtime
    return env, opener


def _console():
    from terraml.console import err, out

    return out, err


def _retry_notice(runtime) -> None:
    _, err = _console()
    runtime.on_retry = lambda exc, wait: err.print(
        f"[yellow]retrying[/] {exc.operation} in {wait:.1f}s ({exc.code})")


def _environment_vars(pairs: list[str] | None) -> dict[str, str]:
    found = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--env-var: expected NAME=VALUE, found {pair!r}")
        found[key] = value
    return found


def train(env: EnvName,
          image: Annotated[str, typer.Option("--image", help="Training container image.")],
          entry: Annotated[str, typer.Option("--entry", help="Command run in the container.")],
          accelerator: Annotated[str | None, typer.Option(
              "--accelerator", help="T4, A10G, L4, A100 or H100 (default: the env's).")] = None,
          count: Annotated[int | None, typer.Option("--count", help="GPUs per instance.")] = None,
          instance_type: Annotated[str | None, typer.Option("--instance-type")] = None,
          instances: Annotated[int, typer.Option("--instances", help="Machines.")] = 1,
          spot: Annotated[bool | None, typer.Option("--spot/--no-spot")] = None,
          max_hours: Annotated[float | None, typer.Option("--max-hours")] = None,
          name: Annotated[str | None, typer.Option("--name", help="Job name.")] = None,
          env_var: Annotated[list[str] | None, typer.Option(
              "--env-var", help="NAME=VALUE for the container (repeatable).")] = None,
          wait: Annotated[bool, typer.Option("--wait", help="Follow the job to its end.")] = False,
          env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
          outdir: Outdir = "cdktf.out") -> None:
    """Submit a training job (SageMaker / Vertex AI CustomJob / Azure ML command job)."""
    from terraml.runtime import commands

    out, err = _console()
    target, opener = _context(env, env_dir, outputs, outdir)
    warn = lambda m: err.print(f"[yellow]warning[/] {m}")
    request = commands.plan_training(
        target, image=image, entry=entry, accelerator=accelerator, count=count,
        instance_type=instance_type, instances=instances, spot=spot, max_hours=max_hours,
        name=name, environment=_environment_vars(env_var), warn=warn)
    runtime = opener()
    machine = request.machine
    out.print(f"submitting {request.job_name}: {machine.instance_type} x{request.instance_count}"
              f"{' spot' if request.spot else ''}, max {request.max_seconds / 3600:g} h")
    job = commands.train(runtime, request, wait=wait, progress=lambda m: err.print(m))
    out.print(f"job: {job.job_id}")
    out.print(f"status: {job.state}{' - ' + job.detail if job.detail else ''}")
    if job.state in ("failed", "stopped"):
        raise typer.Exit(EXIT_FAILED)


def deploy_model(env: EnvName,
                 image: Annotated[str, typer.Option("--image", help="Serving image.")],
                 model: Annotated[str | None, typer.Option(
                     "--model", help="Model artifact URI (registered now; dev only unless "
                                     "the model_approval guardrail allows it).")] = None,
                 model_version: Annotated[str | None, typer.Option(
                     "--model-version", help="A registry version (terraml models).")] = None,
                 latest_approved: Annotated[bool, typer.Option(
                     "--latest-approved", help="The newest approved registry version.")] = False,
                 version: Annotated[str | None, typer.Option(
                     "--version", help="Label of this rollout (default: v<timestamp>).")] = None,
                 timeout: Annotated[float, typer.Option(
                     "--timeout", help="Seconds to wait for health.")] = 3600.0,
                 env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
                 outdir: Outdir = "cdktf.out") -> None:
    """Roll a model onto the environment's endpoint (rolls back on failure): a registry
    version (--model-version / --latest-approved) or an artifact (--model, registered now).
    Outside dev only approved versions (guardrail model_approval)."""
    from terraml.runtime import commands
    from terraml.runtime.pipeline import find_version

    out, err = _console()
    if timeout <= 0:
        raise UserError(f"--timeout: expected a positive number of seconds, found {timeout:g}")
    chosen = [flag for flag, value in (("--model", model), ("--model-version", model_version),
                                       ("--latest-approved", latest_approved)) if value]
    if len(chosen) != 1:
        raise UserError("deploy-model: expected exactly one of --model, --model-version, "
                        f"--latest-approved, found {', '.join(chosen) or 'none'}")
    target, opener = _context(env, env_dir, outputs, outdir, timeout_seconds=timeout)
    runtime = opener()
    registered = find_version(runtime, model_version, latest_approved) \
        if model is None else None
    request = commands.plan_deployment(target, runtime, model=model or "", image=image,
                                       version=version, registered=registered,
                                       warn=lambda m: err.print(f"[yellow]warning[/] {m}"))
    with err.status(f"deploying {request.version}") as spinner:
        rollout = runtime.deploy_model(request, lambda m: spinner.update(m))
    out.print(f"model: {rollout.model_id}")
    out.print(f"endpoint: {rollout.endpoint} -> {rollout.deployment}")
    out.print(f"status: {'healthy' if rollout.healthy else 'FAILED'} - {rollout.detail}")
    if not rollout.healthy:
        raise typer.Exit(EXIT_FAILED)


def status(env: EnvName, env_dir: EnvDir = Path("environments"),
           outputs: OutputsFile = None, outdir: Outdir = "cdktf.out") -> None:
    """Running jobs, endpoints and notebooks with the hourly burn rate from the catalog."""
    from terraml.runtime import commands

    out, _ = _console()
    target, opener = _context(env, env_dir, outputs, outdir)
    runtime = opener()
    rows = commands.status(runtime)
    table = Table("kind", "name", "machines", "state", "$/hour", "note",
                  title=f"{target.stack_name} ({target.cloud}, {target.region})")
    total, unpriced = 0.0, 0
    for row in rows:
        shown = "?" if row.usd_per_hour is None else f"{row.usd_per_hour:,.4f}"
        total += row.usd_per_hour or 0.0
        unpriced += row.usd_per_hour is None
        table.add_row(row.what, row.name, row.machines, row.state, shown, row.note)
    out.print(table if rows else f"{target.stack_name}: nothing running")
    out.print(f"burn rate: ${total:,.2f}/hour (${total * 730:,.0f}/month if left running)"
              + (f"; {unpriced} item(s) not in the catalog" if unpriced else ""))


def stop_idle(env: EnvName,
              idle_hours: Annotated[float | None, typer.Option(
                  "--idle-hours", help="Idle time (default: the env's stop_idle.hours).")] = None,
              dry_run: Annotated[bool, typer.Option("--dry-run", help="Change nothing.")] = False,
              env_dir: EnvDir = Path("environments"), outputs: OutputsFile = None,
              outdir: Outdir = "cdktf.out") -> None:
    """Delete / scale down idle endpoints and stop idle notebooks per the env's policy."""
    from terraml.runtime import commands

    out, _ = _console()
    target, opener = _context(env, env_dir, outputs, outdir)
    runtime = opener()
    actions = commands.stop_idle(runtime, hours=idle_hours, dry_run=dry_run)
    table = Table("kind", "name", "finding", "action", "result",
                  title=f"{target.stack_name} idle check"
                        f" ({idle_hours or target.stop_idle.hours:g} h){' - dry run' if dry_run else ''}")
    for action in actions:
        table.add_row(action.what, action.name, action.finding, action.action, action.result)
    out.print(table if actions else f"{target.stack_name}: no endpoints or notebooks found")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command("deploy-model")(deploy_model)
    app.command()(status)
    app.command("stop-idle")(stop_idle)
