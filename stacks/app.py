"""Build the CDK app: one stack per environment file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cdktn import App

from adapters import get_adapter, register_clouds
from adapters.base import LocalEmulator
from core import spec
from core.errors import UserError
from core.spec import Environment

DEFAULT_ENV_DIR = Path("environments")
# S3 native state locking (use_lockfile) needs Terraform/OpenTofu >= 1.10. (Not emitted as
# `terraform.required_version`: checkov's terraform_json parser cannot read that key.)
TARGET_VERSIONS = {"terraform": ">=1.10.0", "opentofu": ">=1.10.0"}


def environment_files(directory: Path = DEFAULT_ENV_DIR) -> list[Path]:
    """Every `*.yaml` / `*.yml` in `directory`, sorted; `UserError` if there are none."""
    if not directory.is_dir():
        raise UserError(f"{directory}: environments directory not found")
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise UserError(f"{directory}: no environment files (*.yaml) found")
    return files


def load_environment(path: Path | str) -> Environment:
    """One environment file, validated against every cloud's part of the spec."""
    register_clouds()
    return spec.load_environment(path)


def load_environments(files: list[Path]) -> list[Environment]:
    """Validate every file first, so a bad file stops the run before anything is written."""
    envs = [load_environment(path) for path in files]
    seen: dict[str, Path] = {}
    for env in envs:
        if env.name in seen:
            raise UserError(f"{env.source}:1: name: '{env.name}' is also used by {seen[env.name]}")
        seen[env.name] = env.source
    return envs


def build_app(envs: list[Environment], outdir: str | None = None,
              local: LocalEmulator | None = None) -> App:
    """Create every stack; stack files are written by `app.synth()`. On a `UserError`
    the output folder is removed again if this call created it (nothing half-written)."""
    from stacks.ml_stack import MlPlatformStack

    for env in envs:  # an unknown or unsupported cloud fails before anything is created
        get_adapter(env.cloud, source=str(env.source))
    target = Path(outdir or os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    created = not target.exists()
    # Made here, not by the jsii App and Manifest: they check for the folder and then mkdir
    # it, so two synths at once (`up --local` of two environments in one project) can both
    # see it missing and the second fails with EEXIST.
    (target / "stacks").mkdir(parents=True, exist_ok=True)
    options = {"context": {"targetVersions": TARGET_VERSIONS}}
    try:
        app = App(outdir=outdir, **options) if outdir else App(**options)
        for env in envs:
            MlPlatformStack(app, env, local=local)
    except UserError:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise
    return app
