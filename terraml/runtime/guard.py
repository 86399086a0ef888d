"""Runtime guardrails: the environment's `guardrails:` applied to one job or deployment
before any cloud call.

Contract: `check_training` / `check_serving` / `check_pipeline` / `check_drift` describe the
job, endpoint, pipeline run or drift-monitoring job as the cost engine's neutral `Workload`
and run the cost engine's own machine rules on it (`cost.policy.machine_findings`), with the
same rule table, actions and reasoned suppressions as `terraml cost`; `enforce` raises
`Blocked` naming the first blocking rule and hands warnings and suppressions to `warn`.
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


def check_pipeline(env: Environment, pipeline: str, steps: dict[str, AcceleratorChoice],
                   spot: bool) -> list[Verdict]:
    """A pipeline run as the jobs it starts: the train step under the training rules
    (accelerators, max_gpus, spot, its expected hours within the runtime limit), every other
    step's machine against the allowed instance types."""
    section = env.guardrail_record()
    findings = []
    for name, machine in steps.items():
        address = f"{pipeline}/{name}"
        if name == "train":
            hours = env.pipeline.steps.train.hours if env.pipeline else None
            work = _workload(env, "training", address, machine, 0, spot=spot)
            findings += machine_findings([work], section, address, job_hours=hours,
                                         counted=f"train step on {machine.instance_type}")
        else:
            work = _workload(env, "pipeline_step", address, machine, 0)
            findings += machine_findings([work], section, address)
    return verdicts_for(findings, section)


def check_drift(env: Environment, monitor: str, machine: AcceleratorChoice) -> list[Verdict]:
    """One drift-monitoring job (a baseline or a run of `monitor`) as the job it starts: its
    CPU machine against the allowed instance types (and, should it carry one, accelerators
    and max_gpus)."""
    section = env.guardrail_record()
    work = _workload(env, "drift_monitor", monitor, machine, 0)
    return verdicts_for(machine_findings([work], section, monitor,
                                         counted=f"drift job on {machine.instance_type}"),
                        section)


def check_model_approval(env: Environment, what: str, approval: str | None) -> list[Verdict]:
    """Outside dev only approved registry versions are deployed: `approval` is the version's
    state, None for a model artifact that is not in the registry."""
    if env.is_dev or approval == "approved":
        return []
    problem = (f"{what} is {approval} in the model registry" if approval else
               f"{what} is not a registry version")
    findings = [("model_approval", what, (f"{problem}; outside dev deploy an approved "
                 "version (terraml models, terraml approve, deploy-model --model-version V or "
                 "--latest-approved)"))]
    return verdicts_for(findings, env.guardrail_record(), evaluated=["model_approval"])


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
