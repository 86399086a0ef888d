"""Runtime guardrails: the environment's `guardrails:` applied to one job or deployment
before any cloud call.

Contract: `check_training` / `check_serving` describe the job or endpoint as the cost
engine's neutral `Workload` and run the cost engine's own machine rules on it
(`cost.policy.machine_findings`), with the same rule table, actions and reasoned
suppressions as `terraml cost`; `enforce` raises `Blocked` naming the first blocking rule
and hands warnings and suppressions to `warn`.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.machines import AcceleratorChoice
from core.errors import Blocked
from core.spec import Environment
from cost.policy import Verdict, machine_findings, verdicts_for
from cost.workloads import Workload


def _workload(env: Environment, kind: str, address: str, machine: AcceleratorChoice | None,
              always_on: int, spot: bool = False) -> Workload:
    return Workload(
        address=address, kind=kind, cloud=env.cloud, region=env.region,
        instance_type=machine.instance_type if machine else None,
        accelerator=machine.accelerator if machine else None,
        accelerator_type=machine.accelerator_type if machine else None,
        gpus=machine.count if machine and machine.accelerator else 0,
        min_instances=always_on, max_instances=max(always_on, 1),
        serverless=machine is None, spot=spot)


def check_training(env: Environment, job: str, machine: AcceleratorChoice, instances: int,
                   spot: bool, max_hours: float) -> list[Verdict]:
    """Accelerator and instance type allowed, the job's GPUs (all `instances`) within
    max_gpus, spot where required, `max_hours` within `training.max_runtime_hours`."""
    section = env.guardrail_record()
    work = _workload(env, "training", job, machine, 0, spot=spot)
    findings = machine_findings([work], section, job, job_machines=instances,
                                job_hours=max_hours,
                                counted=f"training job on {instances} x {machine.instance_type}")
    return verdicts_for(findings, section)


def check_serving(env: Environment, endpoint: str, machine: AcceleratorChoice | None,
                  instances: int) -> list[Verdict]:
    """The endpoint's machine against the allowed types/accelerators and max_gpus, and
    always-on instances where the environment requires scale-to-zero serving. `machine`
    None: serverless, nothing runs while idle."""
    section = env.guardrail_record()
    work = _workload(env, "serving", endpoint, machine, instances if machine else 0)
    counted = f"endpoint on {instances} x {machine.instance_type}" if machine else "serverless"
    return verdicts_for(machine_findings([work], section, endpoint, counted=counted), section)


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
