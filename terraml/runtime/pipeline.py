"""What `terraml pipeline deploy|run|status`, `models` and `approve` do, cloud-neutrally.

Contract: the pipeline's guardrails (core/guardrails.py, the same rule table as `terraml
cost`) are applied before the first cloud call (`Blocked`, exit 1); bad input is a
`UserError` (exit 2); cloud work goes through the environment's `CloudRuntime`.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.machines import AcceleratorChoice
from adapters.runtime import (
    APPROVED,
    PENDING_APPROVAL,
    CloudRuntime,
    ModelVersion,
    PipelineRun,
    machine_chooser,
)
from core.errors import UserError
from core.spec import Environment
from terraml.runtime import guard, polling

Warn = Callable[[str], None]


def pipeline_machines(env: Environment) -> dict[str, AcceleratorChoice]:
    """Each step's machine on the environment's cloud, in run order."""
    if env.pipeline is None:
        raise UserError(env.where("pipeline", "no pipeline: section in this environment; add "
                                              "one (see examples/) and deploy the stack"))
    return machine_chooser(env.cloud).pipeline_machines(env.pipeline, env.training)


def check(env: Environment, warn: Warn) -> dict[str, AcceleratorChoice]:
    """The step machines, after the guardrails passed (`Blocked` otherwise)."""
    machines = pipeline_machines(env)
    guard.enforce(guard.check_pipeline(env, f"{env.prefix}-training", machines,
                                       spot=env.training.spot), warn)
    return machines


def follow(runtime: CloudRuntime, run: PipelineRun, on_change: Callable[[PipelineRun], None],
           poll_seconds: float = 15.0, timeout_seconds: float = 24 * 3600) -> PipelineRun:
    """Poll `run` until it finishes, calling `on_change` whenever a state changes."""
    return polling.follow(run, lambda r: runtime.pipeline_run(r.run_id),
                          done=lambda r: r.finished, progress=_states, on_change=on_change,
                          poll_seconds=poll_seconds, timeout_seconds=timeout_seconds)


def _states(run: PipelineRun) -> tuple:
    return run.state, tuple((s.name, s.state) for s in run.steps)


def find_version(runtime: CloudRuntime, version: str | None, latest_approved: bool) -> ModelVersion:
    """The registry version `version`, or the newest approved one."""
    versions = runtime.model_versions()
    if latest_approved:
        approved = [v for v in versions if v.approval == APPROVED]
        if not approved:
            pending = sum(v.approval == PENDING_APPROVAL for v in versions)
            raise UserError(f"--latest-approved: no approved version in the model registry "
                            f"({len(versions)} version(s), {pending} pending approval: "
                            f"terraml approve --env {runtime.env.name} --version V)")
        return approved[0]
    return _one(versions, version, "--model-version")


def _one(versions: list[ModelVersion], version: str | None, flag: str) -> ModelVersion:
    """The version named `version`; a `UserError` naming `flag` and the known ones else."""
    for item in versions:
        if item.version == version:
            return item
    known = ", ".join(v.version for v in versions[:10]) or "none"
    raise UserError(f"{flag}: {version!r} is not in the model registry (versions: {known})")


def approve(runtime: CloudRuntime, version: str, *, reject: bool, reason: str) -> ModelVersion:
    """Approve or reject `version`; a rejection needs a reason."""
    if reject and len(reason.strip()) < 10:
        raise UserError("--reason: a rejection needs a reason of at least 10 characters, "
                        f"found {reason!r}")
    _one(runtime.model_versions(), version, "--version")
    return runtime.set_approval(version, approved=not reject, reason=reason.strip())
