"""Approval before deploy on AWS, through the CLI against an in-process moto server:
`terraml models` lists the group's model packages with metrics and approval state,
`approve` approves or rejects, and outside dev `deploy-model` refuses (exit 1, the
model_approval rule named, before any change) what is not an approved registry version,
then deploys the latest approved version without registering it again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.aws_stack import FakeAwsStack
from tests.conftest import run_cli
from tests.test_runtime_aws import FAST, SERVE, moto_url  # noqa: F401 (module fixture)

ENV = """name: ap
cloud: aws
region: us-east-1
tier: staging
serving: {mode: realtime, size: medium, min_instances: 1, max_instances: 2}
"""


@pytest.fixture
def stack(tmp_path: Path, moto_url):  # noqa: F811
    import requests

    requests.post(f"{moto_url[0]}/moto-api/reset", timeout=10)
    work = tmp_path / "project"
    (work / "environments").mkdir(parents=True)
    (work / "environments" / "ap.yaml").write_text(ENV)
    made = FakeAwsStack.create(work, moto_url[0], moto_url[1], "ap")
    made.work = work
    return made


def cli(stack, *args: str):
    return run_cli(*args, cwd=stack.work, env=FAST)


def _package(stack, model: str, auc: str) -> str:
    return stack.c("sagemaker").create_model_package(
        ModelPackageGroupName="terraml-ap-models", ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={"Containers": [{"Image": SERVE, "ModelDataUrl": model}],
                                "SupportedContentTypes": ["application/json"],
                                "SupportedResponseMIMETypes": ["application/json"]},
        CustomerMetadataProperties={"metric:auc": auc})["ModelPackageArn"]


def test_models_lists_versions_with_metrics_and_approval(stack):
    _package(stack, "s3://terraml-ap-models-test/run-1/model.tar.gz", "0.91")
    _package(stack, "s3://terraml-ap-models-test/run-2/model.tar.gz", "0.87")
    done = cli(stack, "models", "--env", "ap")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "pending" in line]
    assert len(lines) == 2 and "auc=0.91" in done.stdout and "auc=0.87" in done.stdout


def test_unapproved_is_refused_outside_dev_then_approved_deploys(stack):
    sm = stack.c("sagemaker")
    arn = _package(stack, "s3://terraml-ap-models-test/run-1/model.tar.gz", "0.91")
    configs = len(sm.list_endpoint_configs()["EndpointConfigs"])
    for args in (["--model-version", "1"], ["--model", "s3://terraml-ap-models-test/x.tar.gz"]):
        refused = cli(stack, "deploy-model", "--env", "ap", "--image", SERVE, *args)
        assert refused.returncode == 1, refused.stderr
        assert refused.stderr.startswith("blocked: guardrail model_approval:"), refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    none = cli(stack, "deploy-model", "--env", "ap", "--image", SERVE, "--latest-approved")
    assert none.returncode == 2 and "no approved version" in none.stderr
    assert len(sm.list_endpoint_configs()["EndpointConfigs"]) == configs  # nothing changed

    approved = cli(stack, "approve", "--env", "ap", "--version", "1",
                   "--reason", "auc above the bar on the holdout set")
    assert approved.returncode == 0, approved.stderr
    assert "version 1: approved" in approved.stdout
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"

    deployed = cli(stack, "deploy-model", "--env", "ap", "--image", SERVE, "--latest-approved",
                   "--version", "r1")
    assert deployed.returncode == 0, deployed.stderr
    assert "status: healthy" in deployed.stdout
    model = sm.describe_model(ModelName="terraml-ap-m-r1")
    assert model["PrimaryContainer"]["ModelPackageName"] == arn  # the approved version itself
    packages = sm.list_model_packages(ModelPackageGroupName="terraml-ap-models")
    assert len(packages["ModelPackageSummaryList"]) == 1  # nothing registered again


def test_reject_needs_a_reason_and_records_it(stack):
    sm = stack.c("sagemaker")
    arn = _package(stack, "s3://terraml-ap-models-test/run-1/model.tar.gz", "0.61")
    short = cli(stack, "approve", "--env", "ap", "--version", "1", "--reject", "--reason", "no")
    assert short.returncode == 2 and short.stderr.startswith("error: --reason:")
    unknown = cli(stack, "approve", "--env", "ap", "--version", "7")
    assert unknown.returncode == 2 and "'7' is not in the model registry" in unknown.stderr
    done = cli(stack, "approve", "--env", "ap", "--version", "1", "--reject", "--reason",
               "auc 0.61 is under the 0.8 bar")
    assert done.returncode == 0 and "version 1: rejected (auc 0.61" in done.stdout
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Rejected"
    assert described["ApprovalDescription"] == "auc 0.61 is under the 0.8 bar"
    refused = cli(stack, "deploy-model", "--env", "ap", "--image", SERVE, "--model-version", "1")
    assert refused.returncode == 1 and "model version 1 is rejected" in refused.stderr


def test_exactly_one_model_choice(stack):
    both = cli(stack, "deploy-model", "--env", "ap", "--image", SERVE, "--model", "s3://a/b",
               "--latest-approved")
    assert both.returncode == 2
    assert both.stderr.strip() == ("error: deploy-model: expected exactly one of --model, "
                                   "--model-version, --latest-approved, found --model, "
                                   "--latest-approved")
