"""Runtime guardrails through `terraml train` against an in-process moto server: the
max_runtime_hours rule blocks by default and, like every rule, can warn, be off, or be
suppressed with a reason; the job then runs with the hours asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.aws_stack import FakeAwsStack
from tests.conftest import run_cli
from tests.test_runtime_aws import moto_url  # noqa: F401 - the module's moto server fixture

ENV = """name: gr
cloud: aws
region: us-east-1
tier: staging
training: {accelerator: T4, spot: true, max_runtime_hours: 4}
serving: {mode: realtime, size: medium, min_instances: 1, max_instances: 2}
"""
FAST = {"TERRAML_RETRY_BASE_SECONDS": "0.01", "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "COLUMNS": "400"}
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/terraml-gr-train:1.0"


@pytest.fixture
def project(tmp_path: Path, moto_url):  # noqa: F811 - the imported fixture
    import requests

    requests.post(f"{moto_url[0]}/moto-api/reset", timeout=10)
    work = tmp_path / "project"
    (work / "environments").mkdir(parents=True)
    (work / "environments" / "gr.yaml").write_text(ENV)
    stack = FakeAwsStack.create(work, moto_url[0], moto_url[1], "gr")
    return work, stack


def _train(work: Path, rails: str, name: str):
    (work / "environments" / "gr.yaml").write_text(ENV + rails)
    return run_cli("train", "--env", "gr", "--image", IMAGE, "--entry", "python t.py",
                   "--max-hours", "6", "--name", name, cwd=work, env=FAST)


def _max_runtime(stack: FakeAwsStack, name: str) -> int:
    job = stack.c("sagemaker").describe_training_job(TrainingJobName=name)
    return job["StoppingCondition"]["MaxRuntimeInSeconds"]


def test_max_runtime_hours_blocks_by_default(project):
    work, stack = project
    done = _train(work, "", "terraml-gr-block")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("blocked: guardrail max_runtime_hours: training job asks "
                                  "for 6 h, over training.max_runtime_hours 4"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert stack.c("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


def test_max_runtime_hours_as_warn_runs_the_job_with_a_warning(project):
    work, stack = project
    done = _train(work, "guardrails:\n  actions:\n    max_runtime_hours: warn\n",
                  "terraml-gr-warn")
    assert done.returncode == 0, done.stderr
    assert "warning guardrail max_runtime_hours: training job asks for 6 h" in done.stderr
    assert _max_runtime(stack, "terraml-gr-warn") == 6 * 3600


def test_max_runtime_hours_off_runs_the_job_silently(project):
    work, stack = project
    done = _train(work, "guardrails:\n  actions:\n    max_runtime_hours: off\n",
                  "terraml-gr-off")
    assert done.returncode == 0, done.stderr
    assert "max_runtime_hours" not in done.stderr
    assert _max_runtime(stack, "terraml-gr-off") == 6 * 3600


def test_max_runtime_hours_suppressed_with_a_reason_for_one_job_pattern(project):
    work, stack = project
    rails = ("guardrails:\n  suppressions:\n    - rule: max_runtime_hours\n"
             "      resource: terraml-gr-long-*\n"
             "      reason: quarterly retrain needs six hours, agreed with finance\n")
    done = _train(work, rails, "terraml-gr-long-q3")
    assert done.returncode == 0, done.stderr
    assert ("guardrail max_runtime_hours suppressed (quarterly retrain needs six hours, "
            "agreed with finance): training job asks for 6 h") in done.stderr
    assert _max_runtime(stack, "terraml-gr-long-q3") == 6 * 3600
    other = _train(work, rails, "terraml-gr-other")  # the suppression names its jobs only
    assert other.returncode == 1 and other.stderr.startswith(
        "blocked: guardrail max_runtime_hours"), other.stderr


def test_other_rules_take_the_same_actions_at_run_time(project):
    """spot_training as warn; max_gpus suppressed: the same table and suppressions."""
    work, _stack = project
    rails = ("guardrails:\n  require_spot_training: true\n  max_gpus: 0\n"
             "  actions:\n    spot_training: warn\n  suppressions:\n    - rule: max_gpus\n"
             "      reason: one T4 for the benchmark run this week\n")
    (work / "environments" / "gr.yaml").write_text(ENV + rails)
    done = run_cli("train", "--env", "gr", "--image", IMAGE, "--entry", "python t.py",
                   "--no-spot", "--name", "terraml-gr-mixed", cwd=work, env=FAST)
    assert done.returncode == 0, done.stderr
    assert "warning guardrail spot_training: training on ml.g4dn.xlarge is on-demand" \
        in done.stderr
    assert "guardrail max_gpus suppressed (one T4 for the benchmark run this week): 1 GPUs " \
        "(training job on 1 x ml.g4dn.xlarge) exceed max_gpus 0" in done.stderr
