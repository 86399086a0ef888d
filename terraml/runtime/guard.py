"""Runtime guardrails: the environment's `guardrails:` applied to one job or deployment
before any cloud call.

Contract: `check_training` / `check_serving` return the cost engine's `Verdict`s (same
rules, actions and reasoned suppressions as `terraml cost`); `enforce` raises `Blocked`
naming the first blocking rule and hands warnings to `warn`.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.machines import AcceleratorChoice
from core.errors import Blocked
from core.spec import Environment
from cost.policy import Verdict, apply_actions


def _machine_findings(env: Environment, kind: str, resource: str, machine: AcceleratorChoice,
                      gpus: int) -> list[tuple[str, str, str]]:
    rails = env.guardrails
    findings = []
    if rails.allowed_instance_types is not None and \
            machine.instance_type not in rails.allowed_instance_types:
        findings.append(("allowed_instance_types", resource,
                         (f"{kind} on {machine.instance_type}, allowed: "
                         f"{', '.join(rails.allowed_instance_types) or 'none'}")))
    if machine.accelerator and rails.allowed_accelerators is not None and \
            machine.accelerator not in rails.allowed_accelerators:
        findings.append(("allowed_accelerators", resource,
                         (f"{kind} on {machine.accelerator}, allowed: "
                         f"{', '.join(rails.allowed_accelerators) or 'none'}")))
    if rails.max_gpus is not None and gpus > rails.max_gpus:
        findings.append(("max_gpus", resource, (f"{kind} uses {gpus} GPUs, max_gpus is "
                                               f"{rails.max_gpus}")))
    return findings


def _verdicts(env: Environment, findings: list[tuple[str, str, str]]) -> list[Verdict]:
    rails = env.guardrails
    suppressions = [s.model_dump() for s in rails.suppressions]
    return apply_actions(findings, dict(rails.actions), suppressions, evaluated=set())


def check_training(env: Environment, job: str, machine: AcceleratorChoice, instances: int,
                   spot: bool, max_hours: float) -> list[Verdict]:
    """Accelerator and instance type allowed, GPUs within max_gpus, spot where required,
    runtime within `training.max_runtime_hours`."""
    findings = _machine_findings(env, "training", job, machine, machine.count * instances)
    if env.guardrails.require_spot_training and not spot:
        findings.append(("spot_training", job, (f"on-demand training in {env.name}; this "
                                               "environment requires spot (--spot)")))
    if max_hours > env.training.max_runtime_hours:
        findings.append(("max_runtime_hours", job,
                         (f"--max-hours {max_hours:g} exceeds training.max_runtime_hours "
                         f"{env.training.max_runtime_hours:g} in {env.source}")))
    return _verdicts(env, findings)


def check_serving(env: Environment, endpoint: str, machine: AcceleratorChoice | None,
                  instances: int) -> list[Verdict]:
    """The endpoint's machine against the allowed types/accelerators and max_gpus, and
    always-on instances where the environment requires scale-to-zero serving."""
    if machine is None:  # serverless: nothing runs while idle
        return []
    findings = _machine_findings(env, "serving", endpoint, machine, machine.count * instances)
    if env.guardrails.require_scale_to_zero_serving and instances > 0:
        findings.append(("scale_to_zero_serving", endpoint,
                         (f"always-on endpoint ({machine.instance_type} x{instances}); this "
                         "environment requires serverless or min 0")))
    return _verdicts(env, findings)


def enforce(verdicts: list[Verdict], warn: Callable[[str], None]) -> None:
    """Raise `Blocked` for the first blocking verdict; report warnings and suppressions."""
    for verdict in verdicts:
        if verdict.level == "block":
            raise Blocked(verdict.rule, verdict.message)
    for verdict in verdicts:
        if verdict.level == "warn":
            warn(f"guardrail {verdict.rule}: {verdict.message}")
        elif verdict.level == "suppressed":
            warn(f"guardrail {verdict.rule} suppressed ({verdict.reason}): {verdict.message}")
