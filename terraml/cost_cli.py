"""`terraml cost` (price + guardrails + report) and `terraml cost diff --base ...`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from core.errors import UserError
from terraml.files import write_atomically

FORMATS = ("table", "markdown", "json", "html")


class _DefaultToReport(TyperGroup):
    """`terraml cost [PATH]` runs `report`; `terraml cost diff ...` runs `diff`."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["report", *args]
        return super().parse_args(ctx, args)


cost_app = typer.Typer(cls=_DefaultToReport, no_args_is_help=False,
                       help="Price what will be deployed, offline; check guardrails.")

Path_ = Annotated[Path | None, typer.Argument(
    help="cdktf.out folder, cdk.tf.json or `terraform show -json` plan. "
         "Default: synthesize ./environments, then price them.")]
Format = Annotated[str, typer.Option("--format", "-f", help=" | ".join(FORMATS))]
UsageFile = Annotated[Path | None, typer.Option("--usage-file",
                                                help="Infracost-style usage file (YAML).")]
Output = Annotated[Path | None, typer.Option("--out", help="Write the report to this file.")]
EnvDir = Annotated[Path, typer.Option("--env-dir", help="Folder of environment files.")]


def _price(path: Path | None, usage_file: Path | None, env_dir: Path, outdir: str = "cdktf.out"):
    from cost.catalog import load_catalog
    from cost.estimate import estimate
    from cost.inputs import load_projects
    from cost.usage import load_usage

    usage = load_usage(usage_file)
    catalog = load_catalog()
    if path is None:
        from stacks.app import build_app, environment_files, load_environments

        environments = load_environments(environment_files(env_dir))
        build_app(environments, outdir=outdir).synth()
        # only the stacks just synthesized: the folder may hold others from earlier runs
        loaded = [project for env in environments for project in
                  load_projects(Path(outdir) / "stacks" / env.stack_name / "cdk.tf.json")]
        return loaded, [estimate(p, catalog, usage) for p in loaded]
    loaded = load_projects(path)
    return loaded, [estimate(p, catalog, usage) for p in loaded]


def _base_from_git(ref: str, env_dir: Path, usage_file: Path | None):
    """Synthesize `env_dir` as it is at git `ref` (with that revision's code), then price."""
    def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=False)

    top = git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UserError(f"--base: {ref!r} is not a file or folder, and this is not a git "
                        "checkout to read it as a ref from")
    if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise UserError(f"--base: {ref!r} is not a file, folder or git ref")
    root = Path(top.stdout.strip())
    work = Path(tempfile.mkdtemp(prefix="terraml-base-"))
    try:
        added = git("worktree", "add", "--detach", "--quiet", str(work / "tree"), ref, cwd=root)
        if added.returncode != 0:
            raise UserError(f"--base: cannot check out {ref}: {added.stderr.strip()}")
        relative = Path.cwd().resolve().relative_to(root)
        where = work / "tree" / relative
        out = work / "cdktf.out"
        synth = subprocess.run(
            [sys.executable, "-m", "terraml", "synth", "--env-dir", str(env_dir), "--out",
             str(out)], cwd=where, capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": str(work / "tree")})
        if synth.returncode != 0:
            last = (synth.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"--base: synthesizing {ref} failed: {last}")
        return _price(out, usage_file, env_dir)
    finally:
        git("worktree", "remove", "--force", str(work / "tree"), cwd=root)
        shutil.rmtree(work, ignore_errors=True)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UserError(f"--format: expected one of {', '.join(FORMATS)}, found {fmt!r}")


def _emit(fmt: str, output: Path | None, loaded, projects, base_projects=None) -> None:
    from cost import reports
    from cost.diff import diff
    from cost.policy import check
    from terraml.console import err, out

    bases = {p.name: p for p in base_projects or []}
    verdicts = {p.name: check(p, c, p.guardrails, bases.get(p.name))
                for p, c in zip(loaded, projects) if p.guardrails}
    diffs = diff(projects, base_projects) if base_projects is not None else None
    if fmt == "table":
        out.print(reports.table(projects))
        if any(p.assumptions for p in projects):
            out.print("assumptions:\n" + reports.assumptions_text(projects), markup=False,
                      soft_wrap=True)
        if diffs is not None:
            out.print(reports.diff_table(diffs))
        if verdicts:
            out.print(reports.verdict_table(verdicts))
    else:
        render = {"markdown": reports.markdown, "json": reports.infracost_json,
                  "html": reports.html}[fmt]
        text = render(projects, verdicts, diffs)
        if output:
            write_atomically(output, text)
        else:
            sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    blocked = [(env, v) for env, items in verdicts.items() for v in items if v.level == "block"]
    for env, verdict in blocked:
        err.print(f"blocked: {env}: {verdict.rule}: {verdict.resource}: {verdict.message}",
                  markup=False, soft_wrap=True)
    if blocked:
        raise typer.Exit(1)


@cost_app.command("report")
def report(path: Path_ = None, fmt: Format = "table", usage_file: UsageFile = None,
           output: Output = None, env_dir: EnvDir = Path("environments")) -> None:
    """Estimate monthly cost, check guardrails, print a report (exit 1 when blocked)."""
    _check_format(fmt)  # before any pricing work
    loaded, projects = _price(path, usage_file, env_dir)
    _emit(fmt, output, loaded, projects)


@cost_app.command("diff")
def diff_command(base: Annotated[str, typer.Option("--base", help="Folder, plan JSON or git ref.")],
                 path: Path_ = None, fmt: Format = "table", usage_file: UsageFile = None,
                 output: Output = None, env_dir: EnvDir = Path("environments")) -> None:
    """Per-resource and total monthly deltas against a base; increase guardrails apply."""
    _check_format(fmt)  # before any pricing work
    if Path(base).exists():
        _, base_projects = _price(Path(base), usage_file, env_dir)
    else:
        _, base_projects = _base_from_git(base, env_dir, usage_file)
    loaded, projects = _price(path, usage_file, env_dir)
    _emit(fmt, output, loaded, projects, base_projects)


def _api_errors() -> tuple[type[Exception], ...]:
    import requests

    errors: list[type[Exception]] = [requests.RequestException, ValueError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return tuple(errors)
    return (*errors, BotoCoreError, ClientError)


DEFAULT_REGIONS = {"aws": ["us-east-1", "eu-west-1"], "gcp": ["us-central1", "europe-west4"],
                   "azure": ["eastus", "westeurope"]}


@cost_app.command("refresh")
def refresh(cloud: Annotated[str, typer.Option("--cloud", help="aws | gcp | azure")],
            region: Annotated[list[str] | None, typer.Option("--region")] = None,
            output: Annotated[Path | None, typer.Option(
                "--out", help="Catalog file to update (default: the shipped one).")] = None,
            api_key: Annotated[str | None, typer.Option(
                "--api-key", envvar="GOOGLE_API_KEY", help="GCP Cloud Billing API key.")] = None,
            ) -> None:
    """Rebuild a cloud's catalog rows from its official price API (needs network)."""
    from cost.catalog import CATALOG_DIR
    from cost.refresh import merge, read_rows, write_catalog
    from terraml.console import out

    if cloud not in DEFAULT_REGIONS:
        raise UserError(f"--cloud: expected aws, gcp or azure, found {cloud!r}")
    regions = region or DEFAULT_REGIONS[cloud]
    target = output or CATALOG_DIR / f"{cloud}.csv"
    try:
        if cloud == "azure":
            from cost.refresh import azure
            fresh = azure.fetch(regions)
        elif cloud == "gcp":
            if not api_key:
                raise UserError("--api-key: the Cloud Billing Catalog API needs an API key "
                                "(or set GOOGLE_API_KEY)")
            from cost.refresh import gcp
            fresh = gcp.fetch(regions, api_key)
        else:
            from cost.refresh import aws
            fresh = aws.fetch(regions)
    except _api_errors() as exc:  # network, HTTP or credential failures: one line, exit 2
        detail = (str(exc).splitlines() or ["failed"])[0]
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        raise UserError(f"refresh {cloud}: {type(exc).__name__}: {detail}") from None
    if not fresh:
        raise UserError(f"refresh {cloud}: the API returned no usable prices; catalog unchanged")
    write_catalog(target, merge(read_rows(target), fresh))
    out.print(f"[green]✓[/] {target}: {len(fresh)} rows refreshed for {', '.join(regions)}")
