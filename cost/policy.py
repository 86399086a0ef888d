"""Guardrails: each rule passes, warns or blocks; a suppression needs a written reason.

Contract: `check(project, cost, rails, base)` returns one `Verdict` per finding (and a
`pass` verdict per rule that found nothing). Rules come from the environment's
`guardrails:` section (recorded by terraml in the synthesized JSON) or a policy file.
Exit codes for callers: 0 pass/warn, 1 any block, 2 bad input.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from cost.batch import batch
from cost.inputs import Project
from cost.model import ProjectCost
from cost.workloads import workloads

RULES = {
    "budget": "block",
    "max_increase_usd": "block",
    "max_increase_percent": "block",
    "allowed_instance_types": "block",
    "allowed_accelerators": "block",
    "max_gpus": "block",
    "spot_training": "block",
    "scale_to_zero_serving": "block",
    "required_tags": "warn",
}


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
    actions = {**RULES, **(rails.get("actions") or {})}
    findings: list[tuple[str, str, str]] = []  # (rule, resource, message)
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
    allowed_types = rails.get("allowed_instance_types")
    allowed_accelerators = rails.get("allowed_accelerators")
    gpus = 0
    for work in workloads(project):
        machine = work.instance_type or "serverless"
        if allowed_types is not None and work.instance_type and \
                work.instance_type not in allowed_types:
            findings.append(("allowed_instance_types", work.address,
                             f"{work.kind} uses {machine}, not in {', '.join(allowed_types)}"))
        if work.accelerator and allowed_accelerators is not None and \
                work.accelerator not in allowed_accelerators:
            findings.append(("allowed_accelerators", work.address,
                             (f"{work.kind} uses {work.accelerator} ({machine}), allowed: "
                              f"{', '.join(allowed_accelerators)}")))
        gpus += work.gpus_in_use
        if work.kind == "training" and rails.get("require_spot_training") and not work.spot:
            findings.append(("spot_training", work.address,
                             (f"training on {machine} is on-demand; this environment "
                              "requires spot")))
        if work.kind == "serving" and rails.get("require_scale_to_zero_serving") and \
                work.always_on > 0:
            what = "always-on GPU endpoint" if work.accelerator else "always-on endpoint"
            findings.append(("scale_to_zero_serving", work.address,
                             (f"{what} ({machine} x{work.always_on}); this environment "
                             "requires serverless or min 0")))
    if rails.get("max_gpus") is not None and gpus > rails["max_gpus"]:
        findings.append(("max_gpus", project.name,
                         (f"{gpus} GPUs (always-on serving + one training job) exceed "
                         f"max_gpus {rails['max_gpus']}")))
    findings += _missing_tags(project, rails.get("required_tags") or [])
    evaluated = set(RULES) if base is not None else \
        set(RULES) - {"max_increase_usd", "max_increase_percent"}
    return apply_actions(findings, actions, rails.get("suppressions") or [], evaluated)


# Types whose `labels` configure the resource rather than label it for billing.
NOT_BILLING_LABELS = {"google_monitoring_notification_channel"}


def _has(tags: dict, key: str) -> bool:
    """A tag is present under its own key or, on GCP, as its label form (lowercase letters,
    digits, `_` and `-`), which is how GCP stores cost-allocation tags."""
    return key in tags or re.sub(r"[^a-z0-9_-]", "_", key.lower())[:63] in tags


def _missing_tags(project: Project, required: list[str]) -> list[tuple[str, str, str]]:
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


def apply_actions(findings: list[tuple[str, str, str]], actions: dict[str, str],
           suppressions: list[dict[str, str]], evaluated: set[str]) -> list[Verdict]:
    """Findings -> verdicts by each rule's action (warn/block/off) and reasoned
    suppressions; a `pass` verdict for every rule in `evaluated` that found nothing."""
    verdicts = []
    failed_rules = set()
    for rule, resource, message in findings:
        level = actions.get(rule, "block")
        if level == "off":
            continue
        failed_rules.add(rule)
        reason = next((s["reason"] for s in suppressions if s.get("rule") == rule and
                       fnmatch.fnmatchcase(resource, s.get("resource", "*"))), "")
        verdicts.append(Verdict(rule, "suppressed" if reason else level, resource, message,
                                reason))
    for rule in RULES:
        if rule in evaluated and rule not in failed_rules and actions.get(rule) != "off":
            verdicts.append(Verdict(rule, "pass", "", ""))
    return verdicts
