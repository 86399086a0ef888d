"""Guardrails: each rule passes, warns, blocks and can be suppressed with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from cost import policy
from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import Project, Resource
from cost.policy import RULES, check
from tests.conftest import BASE, run_cli


def project(*, serverless: bool, instance: str = "ml.g5.xlarge", minimum: int = 1,
            spot: bool = True, training: str = "ml.g4dn.xlarge", tags: dict | None = None):
    variant = {"variant_name": "primary", "instance_type": instance}
    if serverless:
        variant = {"variant_name": "primary", "serverless_config": [{"memory_size_in_mb": 2048}]}
    resources = [
        Resource("aws_sagemaker_endpoint_configuration.c", "aws_sagemaker_endpoint_configuration",
                 "c", {"name": "cfg", "production_variants": [variant]}),
        Resource("aws_sagemaker_endpoint.e", "aws_sagemaker_endpoint", "e",
                 {"name": "ep", "endpoint_config_name": "cfg"}),
        Resource("aws_appautoscaling_target.t", "aws_appautoscaling_target", "t",
                 {"resource_id": "endpoint/ep/variant/primary", "min_capacity": minimum,
                  "max_capacity": 4}),
        Resource("aws_s3_bucket.b", "aws_s3_bucket", "b", {"tags": {"env": "dev"}}),
    ]
    usage = {"training": {"instance_type": training, "spot": spot, "gpu_hours_per_month": 10,
                          "accelerator": "T4", "count": 1, "cloud": "aws"},
             "serving": {"requests_per_month": 1000}}
    return Project("ml-dev", Path("x"), resources, {"aws": "us-east-1"}, usage,
                   tags if tags is not None else {"env": "dev", "project": "p",
                                                  "cost-center": "c"})


def verdicts(proj, rails, base=None):
    result = check(proj, estimate(proj, load_catalog()), rails, base)
    return {v.rule: v for v in result}


def test_one_rule_table_for_config_cost_engine_and_runtime():
    from adapters import register_clouds
    from core import guardrails, spec
    from terraml.runtime import guard

    register_clouds()  # the schema is the union of the registered clouds' models

    assert RULES is guardrails.RULES and spec.GUARDRAIL_RULES == tuple(guardrails.RULES)
    assert "max_runtime_hours" in RULES
    for name, rule in RULES.items():
        assert rule.default in ("warn", "block", "off") and rule.description, name
        assert rule.plan or rule.run, name
    # the runtime guard runs the cost engine's own machine rules, not a copy
    assert guard.machine_findings is policy.machine_findings
    schema = spec.environment_schema()["$defs"]["Guardrails"]["properties"]["actions"]
    assert schema["propertyNames"]["enum"] == list(RULES)


def test_always_on_gpu_endpoint_in_dev_blocks_naming_the_resource():
    found = verdicts(project(serverless=False), {"require_scale_to_zero_serving": True})
    verdict = found["scale_to_zero_serving"]
    assert verdict.level == "block" and verdict.resource == "aws_sagemaker_endpoint.e"
    assert "always-on GPU endpoint (ml.g5.xlarge x1)" in verdict.message
    assert verdicts(project(serverless=True), {"require_scale_to_zero_serving": True})[
        "scale_to_zero_serving"].level == "pass"


def test_spot_training_rule():
    assert verdicts(project(serverless=True, spot=False), {"require_spot_training": True})[
        "spot_training"].level == "block"
    assert verdicts(project(serverless=True), {"require_spot_training": True})[
        "spot_training"].level == "pass"


def test_allowed_accelerators_instance_types_and_max_gpus():
    found = verdicts(project(serverless=False, instance="ml.p4d.24xlarge", minimum=2),
                     {"allowed_accelerators": ["T4", "A10G"], "max_gpus": 8,
                      "allowed_instance_types": ["ml.g4dn.xlarge", "ml.g5.xlarge"]})
    assert found["allowed_accelerators"].level == "block" and "A100" in \
        found["allowed_accelerators"].message
    assert found["allowed_instance_types"].level == "block"
    assert found["max_gpus"].level == "block" and "17 GPUs" in found["max_gpus"].message


def test_budget_and_increase_rules_with_warn_action():
    proj = project(serverless=False)
    cost = estimate(proj, load_catalog())
    found = verdicts(proj, {"max_monthly_usd": 10, "actions": {"budget": "warn"}})
    assert found["budget"].level == "warn"
    base = estimate(project(serverless=True), load_catalog())
    found = verdicts(proj, {"max_increase_usd": 100, "max_increase_percent": 50}, base)
    assert found["max_increase_usd"].level == "block"
    assert found["max_increase_percent"].level == "block"
    assert cost.monthly > base.monthly + 100


def test_suppression_with_reason_and_off():
    rails = {"require_scale_to_zero_serving": True, "suppressions": [
        {"rule": "scale_to_zero_serving", "resource": "aws_sagemaker_endpoint.*",
         "reason": "latency demo for the board until Friday"}]}
    verdict = verdicts(project(serverless=False), rails)["scale_to_zero_serving"]
    assert verdict.level == "suppressed" and "Friday" in verdict.reason
    rails = {"require_scale_to_zero_serving": True, "actions": {"scale_to_zero_serving": "off"}}
    assert "scale_to_zero_serving" not in verdicts(project(serverless=False), rails)


def test_required_tags_warn_when_defaults_missing():
    found = verdicts(project(serverless=True, tags={}), {"required_tags": ["env", "project"]})
    assert found["required_tags"].level == "warn" and "project" in found["required_tags"].message


def test_cli_blocks_dev_gpu_endpoint_exit_1(tmp_path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text(
        BASE + "serving:\n  mode: realtime\n  accelerator: A10G\n  min_instances: 1\n")
    result = run_cli("cost", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "blocked: ml-dev: scale_to_zero_serving: aws_sagemaker_endpoint." in result.stderr


def test_unknown_rule_in_config_is_refused(write_env):
    from core.errors import UserError
    from stacks.app import load_environment

    with pytest.raises(UserError, match=r"guardrails.actions.max_gpu: expected a guardrail rule"):
        load_environment(write_env(BASE + "guardrails:\n  actions:\n    max_gpu: warn\n"))


def test_max_runtime_hours_is_a_rule_like_any_other_but_not_checked_at_plan_time():
    """Settable and suppressible in the config; at plan time the stack always uses the
    limit itself, so the cost engine neither checks it nor reports a pass for it."""
    found = verdicts(project(serverless=True), {"actions": {"max_runtime_hours": "warn"}})
    assert "max_runtime_hours" not in found and found["spot_training"].level == "pass"


def test_plan_time_and_run_time_give_the_same_machine_verdict():
    """The recorded `guardrails:` of a stack and the runtime guard agree, message and all."""
    from cost.workloads import Workload

    rails = {"allowed_accelerators": ["T4"], "max_gpus": 2, "require_spot_training": True,
             "actions": {"max_gpus": "warn"}}
    job = Workload("terraml_training_jobs.ml-dev", "training", "aws", "us-east-1",
                   "ml.p4d.24xlarge", "A100", None, 8, 0, 1, spot=False)
    found = {v.rule: v for v in policy.verdicts_for(
        policy.machine_findings([job], rails, "ml-dev"), rails)}
    assert found["allowed_accelerators"].level == "block"
    assert found["allowed_accelerators"].message.startswith("training on A100, allowed: T4")
    assert found["spot_training"].level == "block"
    assert found["max_gpus"].level == "warn" and found["max_gpus"].message.startswith("8 GPUs")
    two = policy.machine_findings([job], {"max_gpus": 8}, "job", job_machines=2,
                                  counted="training job on 2 x ml.p4d.24xlarge")
    assert two == [("max_gpus", "job",
                    "16 GPUs (training job on 2 x ml.p4d.24xlarge) exceed max_gpus 8")]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_can_be_set_and_suppressed_in_the_config(write_env, rule):
    from stacks.app import load_environment

    for action in ("warn", "block", "off"):
        env = load_environment(write_env(BASE + f"guardrails:\n  actions:\n    {rule}: {action}\n"))
        assert env.guardrails.actions == {rule: action}
    env = load_environment(write_env(
        BASE + f"guardrails:\n  suppressions:\n    - rule: {rule}\n"
        "      reason: agreed with finance until the end of the quarter\n"))
    assert env.guardrails.suppressions[0].rule == rule
