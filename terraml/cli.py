"""`terraml` command line. Bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import typer
from rich.table import Table

from core.errors import EXIT_BAD_INPUT, EXIT_BLOCKED, EXIT_FAILED, Blocked, UserError
from terraml.console import err, one_environment, out, select_environments

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ML platforms on AWS, GCP and Azure from one YAML file per environment.")

EnvDir = Annotated[Path, typer.Option("--env-dir", help="Folder of environment files.")]
EnvNames = Annotated[list[str] | None, typer.Option("--env", "-e",
                                                    help="Environment name (repeatable).")]


@app.command()
def synth(env_dir: EnvDir = Path("environments"), env: EnvNames = None,
          outdir: Annotated[str, typer.Option("--out")] = "cdktf.out") -> None:
    """Synthesize environments to Terraform JSON (cdktf.out/stacks/ml-<env>)."""
    from stacks.app import build_app

    envs = select_environments(env_dir, env)
    with err.status(f"synthesizing {len(envs)} environment(s)"):
        build_app(envs, outdir=outdir).synth()
    for item in envs:
        out.print(f"[green]✓[/] {item.stack_name} ({item.cloud}, {item.region}) -> "
                  f"{outdir}/stacks/{item.stack_name}/cdk.tf.json")


@app.command("list")
def list_envs(env_dir: EnvDir = Path("environments")) -> None:
    """List environments and their stacks without synthesizing."""
    table = Table("stack", "cloud", "region", "tier", "serving", "training", "file")
    for column in table.columns:
        column.no_wrap = True
    for item in select_environments(env_dir, None):
        training = item.training.instance_type or \
            f"{item.training.accelerator} x{item.training.count}"
        table.add_row(item.stack_name, item.cloud, item.region, item.tier.value,
                      item.serving.mode if item.serving.enabled else "off",
                      f"{training}{' spot' if item.training.spot else ''}", str(item.source))
    out.print(table)


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="Environment files.")]) -> None:
    """Validate environment files (exit 2 on the first error)."""
    from stacks.app import load_environment

    for path in files:
        load_environment(path)
        out.print(f"[green]✓[/] {path}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of environment files (for YAML editor completion)."""
    from adapters import register_clouds
    from core.spec import environment_schema

    register_clouds()

    sys.stdout.write(json.dumps(environment_schema(), indent=2) + "\n")


Local = Annotated[bool, typer.Option("--local", help="Use the embedded AWS emulator.")]
ProviderVersion = Annotated[str | None, typer.Option(
    "--provider-version", help="AWS provider version (default: newest in the mirror).")]


@app.command()
def up(env: Annotated[str, typer.Option("--env", "-e")], local: Local = False,
       env_dir: EnvDir = Path("environments"), provider_version: ProviderVersion = None,
       outdir: Annotated[str, typer.Option("--out")] = "cdktf.out") -> None:
    """Deploy one environment into the embedded emulator and check it (`--local`)."""
    if not local:
        raise UserError("up: only --local is supported; deploy to a cloud with "
                        "`cdktf deploy ml-<env>`")
    import time

    from terraml.local import deploy
    from terraml.local.progress import reporter
    from terraml.local.terraform import Interrupted

    target = one_environment(env_dir, env)
    started = time.monotonic()
    try:
        with reporter(err) as progress:
            result = deploy.up(target, outdir=outdir, provider_version=provider_version,
                               progress=progress)
    except Interrupted as exc:
        err.print(f"interrupted: {exc}; " + (
            "terraform stopped cleanly" if exc.clean else "terraform was stopped at once") +
            f"; run `terraml up --env {target.name} --local` again (it starts over on a fresh "
            "emulator)", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    table = Table("output", "value", title=f"{target.stack_name} outputs")
    for name, value in sorted(result.outputs.items()):
        table.add_row(name, json.dumps(value) if not isinstance(value, str) else value)
    out.print(table)
    checks = Table("check", "name", "result", title="resources found in the emulator")
    for check in result.checks:
        checks.add_row(check.what, check.name,
                       "[green]ok[/]" if check.ok else f"[red]missing[/] {check.detail}")
    out.print(checks)
    failed = [c for c in result.checks if not c.ok]
    out.print(f"second plan: {'no changes' if result.replan_clean else 'CHANGES PENDING'}")
    steps = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in result.seconds.items())
    out.print(f"local deploy took {time.monotonic() - started:.0f}s ({steps})")
    out.print(f"emulator: {result.endpoint} (state in .terraml/local); "
              f"stop with `terraml down --env {target.name} --local`")
    if failed or not result.replan_clean:
        if not result.replan_clean:
            err.print(result.replan_text[-4000:])
        raise typer.Exit(EXIT_FAILED)


@app.command()
def down(env: Annotated[str, typer.Option("--env", "-e")], local: Local = False,
         env_dir: EnvDir = Path("environments"), provider_version: ProviderVersion = None,
         outdir: Annotated[str, typer.Option("--out")] = "cdktf.out",
         discard: Annotated[bool, typer.Option(
             "--discard", help="Stop the emulator and remove the local state without "
             "Terraform (for tiers with deletion protection; the emulator holds nothing "
             "real).")] = False) -> None:
    """Destroy the local deployment of one environment and stop its emulator."""
    if not local:
        raise UserError("down: only --local is supported; destroy cloud stacks with "
                        "`cdktf destroy ml-<env>`")
    from terraml.local import deploy
    from terraml.local.progress import reporter
    from terraml.local.terraform import Interrupted

    target = one_environment(env_dir, env)
    try:
        with reporter(err) as progress:
            result = deploy.down(target, outdir=outdir, provider_version=provider_version,
                                 discard=discard, progress=progress)
    except Interrupted as exc:
        err.print(f"interrupted: {exc}; the emulator keeps running; run `terraml down "
                  f"--env {target.name} --local` again to finish", markup=False,
                  highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    if result.discarded:
        message = "emulator stopped, local state discarded"
    elif result.deployed:
        message = "destroyed, emulator stopped"
    else:
        message = "nothing deployed locally"
    out.print(f"{target.stack_name}: {message}")


ci_app = typer.Typer(no_args_is_help=True, help="CI integration for the cost check.")


@ci_app.command("init")
def ci_init(system: Annotated[str, typer.Argument(help="github | gitlab")],
            env_dir: Annotated[str, typer.Option("--env-dir")] = "environments",
            install: Annotated[str | None, typer.Option(
                "--install", help="pip install target in CI (default: this repository with "
                                  "the extras its environments' clouds need)")] = None,
            force: Annotated[bool, typer.Option("--force")] = False,
            stdout: Annotated[bool, typer.Option("--stdout", help="Print, do not write.")] = False,
            ) -> None:
    """Write a CI job that prices every environment on pull requests."""
    from terraml import ci

    if stdout:
        sys.stdout.write(ci.render(system, env_dir=env_dir, install_target=install))
        return
    target = ci.write(system, Path("."), force=force, env_dir=env_dir, install_target=install)
    out.print(f"[green]✓[/] wrote {target}")


def _register_subcommands() -> None:
    from terraml import monitor_cli, pipeline_cli, runtime_cli
    from terraml.cost_cli import cost_app

    runtime_cli.register(app)
    pipeline_cli.register(app)
    monitor_cli.register(app)
    app.add_typer(cost_app, name="cost")
    app.add_typer(ci_app, name="ci")


_register_subcommands()


def main() -> None:
    """Console entry point: `UserError` -> one line on stderr, exit 2."""
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    except Blocked as exc:
        err.print(f"blocked: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_BLOCKED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:
        # Usage errors (typer's bundled click) arrive here in non-standalone mode.
        if type(exc).__name__ in {"UsageError", "NoSuchOption", "BadParameter",
                                  "MissingParameter", "BadOptionUsage", "BadArgumentUsage"}:
            err.print(f"error: {exc.format_message()}", markup=False, soft_wrap=True)
            sys.exit(EXIT_BAD_INPUT)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
