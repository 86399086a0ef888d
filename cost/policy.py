"""Guardrails: each rule passes, warns or blocks; a suppression needs a written reason.

Contract: `check(project, cost, rails, base)` returns one `Verdict` per finding (and a
`pass` verdict per rule checked at plan time that found nothing). The rules, their default
actions and when each is checked are the one table in core/guardrails.py. Rules come from
the environment's `guardrails:` section (recorded by terraml in the synthesized JSON) or a
policy file. The machine rules (`machine_findings`) read neutral `Workload`s (serving,
training, and the training pipeline's steps, whose train step is a training job), so the
runtime commands run the very same code on the one job or endpoint they are about.
`always_on_in_dev` reads the priced resources: any a pricer marked as billed while idle
(`ResourceCost.idle_billing`), in an environment terraml recorded as the dev tier.
Exit codes for callers: 0 pass/warn, 1 any block, 2 bad input.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.guardrails import DEFAULT_ACTIONS, PLAN_RULES, RULES
from cost.batch import batch
from cost.inputs import Project
from cost.model import ProjectCost
from cost.workloads import Workload, workloads

__all__ = ["RULES", "Verdict", "apply_actions", "check", "machine_findings", "verdicts_for"]

Finding = tuple[str, str, str]  # (rule, resource, message)
INCREASE_RULES = frozenset({"max_increase_usd", "max_increase_percent"})


@dataclass(frozen=True)
class Verdict:
    rule: str
    level: str  # pass | warn | block | suppressed
    resource: str
    message: str
    reason: str = ""


@batch
def check(project: Project, cost: ProjectCost, rails: dict[str, Any],
          base: ProjectCost | None = None) -> list[Verdict]:
    findings: list[Finding] = []
    limit = rails.get("max_monthly_usd") or rails.get("budget_monthly_usd")
    if limit and cost.monthly > limit:
        findings.append(("budget", project.name, (f"monthly estimate ${cost.monthly:,.2f} exceeds "
                                                 f"the ${limit:,.2f} budget")))
    if base is not None:
        delta = cost.monthly - base.monthly
        if rails.get("max_increase_usd") is not None and delta > rails["max_increase_usd"]:
            findings.append(("max_increase_usd", project.name,
                             f"+${delta:,.2f}/month vs base exceeds +${rails['max_increase_usd']:,.2f}"))
        percent = rails.get("max_increase_percent")
        if percent is not None and base.monthly > 0 and delta / base.monthly * 100 > percent:
            findings.append(("max_increase_percent", project.name,
                             f"+{delta / base.monthly:.1%} vs base exceeds +{percent}%"))
    findings += machine_findings(workloads(project), rails, project.name)
    findings += _idle_in_dev(project, cost)
    findings += _missing_tags(project, rails.get("required_tags") or [])
    evaluated = PLAN_RULES if base is not None else PLAN_RULES - INCREASE_RULES
    return verdicts_for(findings, rails, evaluated)


def machine_findings(works: Iterable[Workload], rails: Mapping[str, Any], scope: str, *,
                     job_machines: int = 1, job_hours: float | None = None,
                     counted: str = "always-on serving + one training job") -> list[Finding]:
    """The machine rules on neutral workloads: allowed_instance_types, allowed_accelerators,
    spot_training, scale_to_zero_serving per workload; max_gpus over all of them (named
    `scope`, described as `counted`); max_runtime_hours for a training job that asks for
    `job_hours`.

    `rails` is the `guardrails:` section as recorded in the synthesized JSON (plus, at run
    time, `max_runtime_hours` from `training.max_runtime_hours`). A training workload is one
    job on `job_machines` machines: one at plan time (the stack records no job size), the
    command's `--instances` at run time. A pipeline's train step is a training job too (spot,
    GPUs); its other steps are jobs on one machine each. max_gpus counts the always-on serving
    GPUs plus the largest one job (the training job or a pipeline step). `job_hours` is known
    at run time only; the stack itself always uses the limit, so max_runtime_hours has nothing
    to check at plan time.
    """
    findings: list[Finding] = []
    allowed_types = rails.get("allowed_instance_types")
    allowed_accelerators = rails.get("allowed_accelerators")
    serving_gpus = job_gpus = 0
    for work in works:
        machine = work.instance_type or "serverless"
        if allowed_types is not None and work.instance_type and \
                work.instance_type not in allowed_types:
            findings.append(("allowed_instance_types", work.address,
                             (f"{work.label} on {machine}, allowed: "
                             f"{', '.join(allowed_types) or 'none'}")))
        if work.accelerator and allowed_accelerators is not None and \
                work.accelerator not in allowed_accelerators:
            findings.append(("allowed_accelerators", work.address,
                             (f"{work.label} on {work.accelerator}, allowed: "
                             f"{', '.join(allowed_accelerators) or 'none'} ({machine})")))
        if work.kind == "serving":
            serving_gpus += work.gpus * work.always_on
        else:
            machines = job_machines if work.kind == "training" else 1
            job_gpus = max(job_gpus, work.gpus * machines)
        if work.trains and rails.get("require_spot_training") and not work.spot:
            findings.append(("spot_training", work.address,
                             (f"{work.label} on {machine} is on-demand; this environment "
                             "requires spot (guardrails.require_spot_training)")))
        if work.kind == "training" and job_hours is not None and \
                rails.get("max_runtime_hours") is not None and \
                job_hours > rails["max_runtime_hours"]:
            where = f" in {rails['source']}" if rails.get("source") else ""
            findings.append(("max_runtime_hours", work.address,
                             (f"training job asks for {job_hours:g} h, over "
                             f"training.max_runtime_hours {rails['max_runtime_hours']:g}{where}")))
        if work.kind == "serving" and rails.get("require_scale_to_zero_serving") and \
                work.always_on > 0:
            what = "always-on GPU endpoint" if work.accelerator else "always-on endpoint"
            findings.append(("scale_to_zero_serving", work.address,
                             (f"{what} ({machine} x{work.always_on}); this environment "
                             "requires serverless or min 0")))
    gpus = serving_gpus + job_gpus
    if rails.get("max_gpus") is not None and gpus > rails["max_gpus"]:
        findings.append(("max_gpus", scope,
                         f"{gpus} GPUs ({counted}) exceed max_gpus {rails['max_gpus']}"))
    return findings


def _idle_in_dev(project: Project, cost: ProjectCost) -> list[Finding]:
    """always_on_in_dev: in the dev tier (as terraml recorded it; a plan or foreign project has
    no tier and is not checked), every resource a pricer marked as billed while idle."""
    if project.usage.get("tier") != "dev":
        return []
    return [("always_on_in_dev", resource.address,
             (f"{resource.idle_billing}, in a dev environment (allow it: "
              "guardrails.actions.always_on_in_dev warn|off, or a suppression with a reason)"))
            for resource in cost.resources if resource.idle_billing]


def verdicts_for(findings: list[Finding], rails: Mapping[str, Any],
                 evaluated: Iterable[str] = ()) -> list[Verdict]:
    """`apply_actions` with the actions and suppressions of a recorded `guardrails:` section."""
    return apply_actions(findings, dict(rails.get("actions") or {}),
                         list(rails.get("suppressions") or []), set(evaluated))


# Types whose `labels` configure the resource rather than label it for billing.
NOT_BILLING_LABELS = {"google_monitoring_notification_channel"}


def _has(tags: dict, key: str) -> bool:
    """A tag is present under its own key or, on GCP, as its label form (lowercase letters,
    digits, `_` and `-`), which is how GCP stores cost-allocation tags."""
    return key in tags or re.sub(r"[^a-z0-9_-]", "_", key.lower())[:63] in tags


def _missing_tags(project: Project, required: list[str]) -> list[Finding]:
    missing_default = [t for t in required if not _has(project.tags, t)]
    if not missing_default:
        return []
    out = []
    for resource in project.resources:
        values = resource.values
        if resource.type in NOT_BILLING_LABELS or \
                not any(k in values for k in ("tags", "tags_all", "labels")):
            continue
        tags = {key: value for field in ("tags_all", "tags", "labels")
                if isinstance(values.get(field), dict) for key, value in values[field].items()}
        missing = [t for t in missing_default if not _has(tags, t)]
        if missing:
            out.append(("required_tags", resource.address, f"missing tags {', '.join(missing)}"))
    return out


def apply_actions(findings: list[Finding], actions: Mapping[str, str],
                  suppressions: list[Mapping[str, str]], evaluated: set[str]) -> list[Verdict]:
    """Findings -> verdicts by each rule's action (warn/block/off; unset: the rule table's
    default) and reasoned suppressions; a `pass` verdict for every rule in `evaluated` that
    found nothing."""
    actions = {**DEFAULT_ACTIONS, **actions}
    out = []
    failed_rules = set()
    for rule, resource, message in findings:
        level = actions.get(rule, "block")
        if level == "off":
            continue
        failed_rules.add(rule)
        reason = next((s["reason"] for s in suppressions if s.get("rule") == rule and
                       fnmatch.fnmatchcase(resource, s.get("resource", "*"))), "")
        out.append(Verdict(rule, "suppressed" if reason else level, resource, message, reason))
    for rule in RULES:
        if rule in evaluated and rule not in failed_rules and actions.get(rule) != "off":
            out.append(Verdict(rule, "pass", "", ""))
    return out
