"""Synth-level tests for every AWS resource the foundation issue names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.base import LocalEmulator
from core.errors import UserError
from stacks.app import build_app, load_environment
from tests.conftest import BASE


def synth(env, local=None) -> dict:
    from cdktn import Testing

    app = build_app([env], outdir=None, local=local)
    stack = app.node.find_child(env.stack_name)
    return json.loads(Testing.synth(stack))


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict]:
    return {name: synth(load_environment(f"environments/{name}.yaml"))
            for name in ("dev", "staging", "prod")}


def resources(doc: dict, rtype: str) -> list[dict]:
    return list(doc.get("resource", {}).get(rtype, {}).values())


def one(doc: dict, rtype: str) -> dict:
    items = resources(doc, rtype)
    assert len(items) == 1, f"expected one {rtype}, found {len(items)}"
    return items[0]


def test_buckets_are_encrypted_versioned_private_logged_and_tls_only(stacks):
    dev = stacks["dev"]
    names = [b["bucket"] for b in resources(dev, "aws_s3_bucket")]
    for purpose in ("raw", "features", "models", "artifacts", "access-logs"):
        assert any(f"-{purpose}-" in n for n in names), purpose
    sse = resources(dev, "aws_s3_bucket_server_side_encryption_configuration")
    kms = [s for s in sse if s["rule"][0]["apply_server_side_encryption_by_default"]
           ["sse_algorithm"] == "aws:kms"]
    assert len(kms) == 4 and all("aws_kms_key" in s["rule"][0][
        "apply_server_side_encryption_by_default"]["kms_master_key_id"] for s in kms)
    assert all(v["versioning_configuration"]["status"] == "Enabled"
               for v in resources(dev, "aws_s3_bucket_versioning"))
    blocks = resources(dev, "aws_s3_bucket_public_access_block")
    assert len(blocks) == 5 and all(b["block_public_acls"] and b["restrict_public_buckets"]
                                    and b["block_public_policy"] and b["ignore_public_acls"]
                                    for b in blocks)
    assert len(resources(dev, "aws_s3_bucket_logging")) == 4
    for item in resources(dev, "aws_s3_bucket_policy"):
        assert '"aws:SecureTransport": "false"' in item["policy"]
    rules = [r["rule"][0] for r in resources(dev, "aws_s3_bucket_lifecycle_configuration")]
    assert all("abort_incomplete_multipart_upload" in r and "noncurrent_version_expiration" in r
               for r in rules)


def test_kms_key_rotates_and_catalog_and_athena_are_encrypted(stacks):
    key = one(stacks["dev"], "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert one(stacks["dev"], "aws_glue_catalog_database")["name"] == "terraml_dev"
    workgroup = one(stacks["dev"], "aws_athena_workgroup")["configuration"]
    assert workgroup["enforce_workgroup_configuration"] is True
    assert workgroup["result_configuration"]["encryption_configuration"][
        "encryption_option"] == "SSE_KMS"


def test_registry_scans_and_tags_are_immutable_outside_dev(stacks):
    for name, mutability in (("dev", "MUTABLE"), ("staging", "IMMUTABLE"), ("prod", "IMMUTABLE")):
        repos = resources(stacks[name], "aws_ecr_repository")
        assert {r["name"].split("/")[-1] for r in repos} == {"train", "serve"}
        assert all(r["image_tag_mutability"] == mutability for r in repos), name
        assert all(r["image_scanning_configuration"]["scan_on_push"] for r in repos)
    assert len(resources(stacks["dev"], "aws_ecr_lifecycle_policy")) == 2
    group = one(stacks["dev"], "aws_sagemaker_model_package_group")
    assert group["model_package_group_name"] == "terraml-dev-models"


def test_network_private_subnets_s3_endpoint_and_nat_only_on_request(stacks):
    dev, prod = stacks["dev"], stacks["prod"]
    assert len(resources(dev, "aws_subnet")) == 2
    assert all(s["map_public_ip_on_launch"] is False for s in resources(dev, "aws_subnet"))
    (endpoint,) = resources(dev, "aws_vpc_endpoint")  # S3 only: no interface endpoint billed
    assert endpoint["vpc_endpoint_type"] == "Gateway"  # by the hour (notebook stops go via S3)
    assert endpoint["service_name"].endswith(".s3")
    assert resources(dev, "aws_nat_gateway") == []
    assert len(resources(prod, "aws_nat_gateway")) == 1
    assert len([s for s in resources(prod, "aws_subnet") if "private" in s["tags"]["Name"]]) == 3
    (sg,) = [g for g in resources(dev, "aws_security_group") if g["name"] == "terraml-dev-jobs"]
    assert all(rule["cidr_blocks"] in ([], None) or rule["from_port"] == 443
               for rule in sg["egress"])
    assert one(dev, "aws_flow_log")["traffic_type"] == "ALL"


def test_roles_are_scoped_without_wildcard_actions(stacks):
    policies = resources(stacks["dev"], "aws_iam_role_policy")
    roles = {r["name"] for r in resources(stacks["dev"], "aws_iam_role")}
    assert {"terraml-dev-training", "terraml-dev-serving"} <= roles
    for item in policies:
        for statement in json.loads(item["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) \
                else [statement["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), statement
            if statement["Resource"] == "*":
                assert set(actions) <= {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData",
                                        *__import__("adapters.aws.identity", fromlist=["x"])
                                        .VPC_ACCESS}, statement


def test_batch_is_fargate_spot_in_dev_and_scales_from_zero(stacks):
    pool = one(stacks["dev"], "aws_batch_compute_environment")
    assert pool["compute_resources"]["type"] == "FARGATE_SPOT"
    assert "min_vcpus" not in pool["compute_resources"]
    assert one(stacks["dev"], "aws_batch_job_queue")["name"] == "terraml-dev-cpu"


def test_training_outputs_for_the_runtime(stacks):
    outputs = stacks["dev"]["output"]
    for name in ("training_role", "training_output_uri", "training_checkpoint_uri",
                 "training_kms_key", "training_subnet_ids", "training_security_group_id"):
        assert name in outputs, name
    assert outputs["training_instance_type"]["value"] == "ml.g4dn.xlarge"
    assert outputs["training_spot"]["value"] is True
    assert stacks["prod"]["output"]["training_instance_type"]["value"] == "ml.p4d.24xlarge"


def test_serving_serverless_in_dev_realtime_with_autoscaling_elsewhere(stacks):
    dev_config = one(stacks["dev"], "aws_sagemaker_endpoint_configuration")
    assert dev_config["production_variants"][0]["serverless_config"]["memory_size_in_mb"] == 2048
    assert "data_capture_config" not in dev_config
    assert resources(stacks["dev"], "aws_appautoscaling_target") == []
    staging = stacks["staging"]
    config = one(staging, "aws_sagemaker_endpoint_configuration")
    assert config["production_variants"][0]["instance_type"] == "ml.m5.xlarge"
    assert config["data_capture_config"]["initial_sampling_percentage"] == 20
    assert "kms_key_arn" in config
    target = one(staging, "aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (1, 2)
    policy = one(staging, "aws_appautoscaling_policy")["target_tracking_scaling_policy_configuration"]
    assert policy["predefined_metric_specification"]["predefined_metric_type"] == \
        "SageMakerVariantInvocationsPerInstance"
    prod_config = one(stacks["prod"], "aws_sagemaker_endpoint_configuration")
    assert prod_config["production_variants"][0]["instance_type"] == "ml.g4dn.xlarge"
    assert one(stacks["prod"], "aws_sagemaker_model")["vpc_config"]["subnets"]


def test_monitoring_topic_alarms_event_rule_and_log_retention(stacks):
    dev = stacks["dev"]
    assert "aws_kms_key" in one(dev, "aws_sns_topic")["kms_master_key_id"]
    assert one(dev, "aws_sns_topic_subscription")["protocol"] == "email"
    alarms = {a["metric_name"]: a for a in resources(dev, "aws_cloudwatch_metric_alarm")}
    assert alarms["ModelLatency"]["threshold"] == 2000 * 1000
    assert alarms["Invocation5XXErrors"]["statistic"] == "Sum"
    rules = {r["name"]: r for r in resources(dev, "aws_cloudwatch_event_rule")}
    rule = json.loads(rules["terraml-dev-training-failed"]["event_pattern"])
    assert rule["detail"]["TrainingJobStatus"] == ["Failed"]
    targets = [t for t in resources(dev, "aws_cloudwatch_event_target")
               if "training-failed" in t["rule"]]
    assert [t["target_id"] for t in targets] == ["alerts"]
    groups = resources(stacks["prod"], "aws_cloudwatch_log_group")
    assert groups and all(g["retention_in_days"] == 365 for g in groups)


def test_budget_filters_by_env_tag_with_threshold_notifications(stacks):
    budget = one(stacks["dev"], "aws_budgets_budget")
    assert budget["limit_amount"] == "300.00" and budget["time_unit"] == "MONTHLY"
    assert budget["cost_filter"][0] == {"name": "TagKeyValue", "values": ["user:env$dev"]}
    thresholds = sorted(n["threshold"] for n in budget["notification"]
                        if n["notification_type"] == "ACTUAL")
    assert thresholds == [50, 80, 100]


def test_tags_protection_and_backend(stacks):
    provider = stacks["dev"]["provider"]["aws"][0]
    tags = provider["default_tags"][0]["tags"]
    assert tags["env"] == "dev" and tags["project"] == "terraml" and tags["cost-center"]
    dev_key, prod_key = one(stacks["dev"], "aws_kms_key"), one(stacks["prod"], "aws_kms_key")
    assert "lifecycle" not in dev_key and prod_key["lifecycle"]["prevent_destroy"] is True
    prod_buckets = resources(stacks["prod"], "aws_s3_bucket")
    assert all(b["force_destroy"] is False and b["lifecycle"]["prevent_destroy"]
               for b in prod_buckets)
    assert all(b["force_destroy"] is True for b in resources(stacks["dev"], "aws_s3_bucket"))
    backend = stacks["prod"]["terraform"]["backend"]["s3"]
    assert backend["use_lockfile"] is True and backend["encrypt"] is True
    assert "local" in stacks["dev"]["terraform"]["backend"]


def test_outputs_cover_the_runtime(stacks):
    outputs = stacks["dev"]["output"]
    for name in ("bucket_raw", "bucket_models", "training_role", "serving_role",
                 "repository_train_url", "repository_serve_url", "endpoint_name",
                 "alerts_topic", "model_registry", "batch_queue", "kms_key"):
        assert name in outputs, name


def test_provider_version_is_overridable_and_local_endpoints(write_env):
    env = load_environment(write_env(BASE + "providers:\n  aws: '~> 5.100'\n"))
    doc = synth(env)
    assert doc["terraform"]["required_providers"]["aws"]["version"] == "~> 5.100"
    local = synth(env, LocalEmulator(endpoint="http://127.0.0.1:4566", provider_version="5.100.0",
                                     state_path="/tmp/x.tfstate"))
    provider = local["provider"]["aws"][0]
    assert provider["endpoints"][0]["sagemaker"] == "http://127.0.0.1:4566"
    assert provider["s3_use_path_style"] is True
    assert local["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"
    assert local["terraform"]["backend"]["local"]["path"] == "/tmp/x.tfstate"


def test_unsupported_choices_are_refused_with_the_field(write_env):
    path = write_env(BASE + "serving:\n  mode: realtime\n  min_instances: 0\n")
    with pytest.raises(UserError, match=r"dev.yaml:\d+: serving.min_instances: real-time"):
        synth(load_environment(path))
    path = write_env(BASE + "training:\n  accelerator: A100\n  count: 2\n")
    with pytest.raises(UserError, match=r"training.count: .*valid counts: 8"):
        synth(load_environment(path))


def test_dev_stack_snapshot(stacks, snapshot):
    assert stacks["dev"] == snapshot


def test_checkov_reports_no_unsuppressed_failure(tmp_path: Path):
    import os
    import shutil

    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov")
    if not checkov or not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    envs = [load_environment(f"environments/{n}.yaml") for n in ("dev", "staging", "prod")]
    build_app(envs, outdir=str(tmp_path)).synth()
    failures, suppressed, summary = gate(checkov, tmp_path)
    assert summary.get("parsing_errors") == 0
    assert failures == [], "\n".join(failures)
    assert summary["passed"] > 100 and suppressed > 0


def test_output_folders_exist_before_the_jsii_app_so_concurrent_synths_cannot_race(
        tmp_path: Path, monkeypatch):
    # The jsii App and Manifest check for `<out>` and `<out>/stacks` and then mkdir them: two
    # `up --local` runs of different environments in one project failed with EEXIST (CI).
    import stacks.app

    out = tmp_path / "out"
    seen = []

    def app_seeing_folders(**options):
        seen.append((out / "stacks").is_dir())
        raise UserError("stop here")

    monkeypatch.setattr(stacks.app, "App", app_seeing_folders)
    with pytest.raises(UserError):
        build_app([load_environment("environments/dev.yaml")], outdir=str(out))
    assert seen == [True]
