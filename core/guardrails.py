"""The guardrail rule table: the one list of rules, for the config, `terraml cost` and the
runtime commands alike.

Contract: `RULES` maps each rule name to its `Rule` (default action, one-line description,
and when it is checked). The environment spec validates `guardrails.actions` keys and
`guardrails.suppressions[].rule` against it; the cost engine (plan time) and
`terraml train` / `deploy-model` (run time) take their default actions from it. Every rule
can be set to `warn`, `block` or `off` and suppressed with a written reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["warn", "block", "off"]
ACTIONS: tuple[Action, ...] = ("warn", "block", "off")


@dataclass(frozen=True)
class Rule:
    default: Action
    description: str
    plan: bool  # checked by `terraml cost` on the synthesized JSON / plan
    run: bool  # checked by `terraml train` / `deploy-model` / `pipeline` before any cloud call


RULES: dict[str, Rule] = {
    "budget": Rule("block", "monthly estimate over guardrails.max_monthly_usd "
                   "(else budget.monthly_usd)", plan=True, run=False),
    "max_increase_usd": Rule("block", "monthly increase vs the base branch over "
                             "guardrails.max_increase_usd", plan=True, run=False),
    "max_increase_percent": Rule("block", "monthly increase vs the base branch over "
                                 "guardrails.max_increase_percent", plan=True, run=False),
    "allowed_instance_types": Rule("block", "a machine not in guardrails.allowed_instance_types",
                                   plan=True, run=True),
    "allowed_accelerators": Rule("block", "a GPU not in guardrails.allowed_accelerators",
                                 plan=True, run=True),
    "max_gpus": Rule("block", "more GPUs at once (always-on serving + one training job; at "
                     "run time the job or endpoint) than guardrails.max_gpus",
                     plan=True, run=True),
    "spot_training": Rule("block", "on-demand training where guardrails.require_spot_training",
                          plan=True, run=True),
    "scale_to_zero_serving": Rule("block", "always-on serving where "
                                  "guardrails.require_scale_to_zero_serving",
                                  plan=True, run=True),
    "max_runtime_hours": Rule("block", "a training job asking for more hours than "
                              "training.max_runtime_hours (run time only: the synthesized "
                              "stack always uses the limit itself)", plan=False, run=True),
    "always_on_in_dev": Rule("block", "a service billed all month while idle (a tracking "
                             "server, an online feature store) in the dev tier",
                             plan=True, run=False),
    "model_approval": Rule("block", "deploying a model that is not an approved registry "
                           "version, outside dev (deploy-model --version V or "
                           "--latest-approved)", plan=False, run=True),
    "required_tags": Rule("warn", "a taggable resource missing guardrails.required_tags",
                          plan=True, run=False),
}

RULE_NAMES: tuple[str, ...] = tuple(RULES)
DEFAULT_ACTIONS: dict[str, Action] = {name: rule.default for name, rule in RULES.items()}
PLAN_RULES: frozenset[str] = frozenset(name for name, rule in RULES.items() if rule.plan)
RUN_RULES: frozenset[str] = frozenset(name for name, rule in RULES.items() if rule.run)


def known_rule(name: str) -> str:
    """`name` if it is a rule; `ValueError` listing the rules otherwise (for validators)."""
    if name not in RULES:
        raise ValueError(f"expected a guardrail rule ({', '.join(RULE_NAMES)}), found {name!r}")
    return name


def describe_rules() -> str:
    """One `name (default): description` per rule, `; `-joined (schema and help text)."""
    return "; ".join(f"{name} ({rule.default}): {rule.description}"
                     for name, rule in RULES.items())
