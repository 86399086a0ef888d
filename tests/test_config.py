"""Environment config: defaults by tier, and one-line errors naming file, line and field."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.spec import load_environment
from tests.conftest import BASE

# (yaml text, expected line, expected field path, a word the message must contain)
MALFORMED = [
    ("name: dev\ncloud: aws\n", 1, "region", "required"),
    (BASE + "regoin: us-east-1\n", 4, "regoin", "unknown setting"),
    ("name: Dev!\ncloud: aws\nregion: us-east-1\n", 1, "name", "matching"),
    ("name: dev\ncloud: oracle\nregion: us-east-1\n", 2, "cloud", "expected one of"),
    (BASE + "training:\n  accelerator: B200\n", 5, "training.accelerator", "'T4'"),
    (BASE + "training:\n  count: 0\n", 5, "training.count", "greater than or equal"),
    (BASE + "training:\n  count: two\n", 5, "training.count", "integer"),
    (BASE + "training:\n  max_runtime_hours: -1\n", 5, "training.max_runtime_hours", "greater"),
    (BASE + "training:\n  accelerator: T4\n  instance_type: ml.g5.xlarge\n", 4, "training",
     "either accelerator or instance_type"),
    (BASE + "serving:\n  mode: lambda\n", 5, "serving.mode", "serverless"),
    (BASE + "serving:\n  min_instances: 3\n  max_instances: 1\n", 4, "serving",
     "must not exceed"),
    (BASE + "serving:\n  mode: serverless\n  accelerator: T4\n", 4, "serving", "CPU only"),
    (BASE + "serving:\n  memory_mb: 512\n", 5, "serving.memory_mb", "greater"),
    (BASE + "network:\n  cidr: 10.0.0.0/8\n", 5, "network.cidr", "/16 and /24"),
    (BASE + "network:\n  cidr: not-a-cidr\n", 5, "network.cidr", "IPv4 CIDR"),
    (BASE + "network:\n  zones: 1\n", 5, "network.zones", "greater"),
    (BASE + "budget:\n  monthly_usd: 0\n", 5, "budget.monthly_usd", "greater than 0"),
    (BASE + "budget:\n  thresholds_percent: [80, 50]\n", 5, "budget.thresholds_percent",
     "increasing"),
    (BASE + "monitoring:\n  emails: [not-an-email]\n", 5, "monitoring.emails[0]", "matching"),
    (BASE + "monitoring:\n  log_retention_days: 10\n", 5, "monitoring.log_retention_days",
     "expected one of"),
    (BASE + "state:\n  backend: s3\n", 4, "state", "needs bucket"),
    (BASE + "state:\n  backend: ftp\n", 5, "state.backend", "expected one of"),
    (BASE + "providers:\n  aws: latest\n", 5, "providers.aws", "version constraint"),
    (BASE + "account_id: 1234\n", 4, "account_id", "valid string, found 1234"),
    (BASE + "data:\n  buckets: [raw, models]\n", 5, "data.buckets", "missing"),
    (BASE + "guardrails:\n  suppressions:\n    - rule: max_gpus\n      reason: no\n", 7,
     "guardrails.suppressions[0].reason", "found False"),  # YAML 1.1: `no` is a boolean
    (BASE + "guardrails:\n  actions:\n    max_gpus: explode\n", 6, "guardrails.actions.max_gpus",
     "expected one of"),
    (BASE + "tags:\n  env: other\n", 1, "(root)", "set by terraml"),
    (BASE + "training: [1, 2]\n", 4, "training", "valid dictionary"),
    (BASE + "cloud: gcp\n", 4, "cloud", "duplicate key"),
    ("name: dev\ncloud: aws\nregion: [us\n", 4, None, "invalid YAML"),
    ("- just\n- a list\n", 1, "(root)", "mapping"),
    ("", 1, "(root)", "empty file"),
]


@pytest.mark.parametrize(("text", "line", "field", "word"), MALFORMED,
                         ids=[f"case{i:02d}" for i in range(len(MALFORMED))])
def test_malformed_config_names_file_line_and_field(write_env, text, line, field, word):
    path = write_env(text)
    with pytest.raises(UserError) as info:
        load_environment(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: "), message
    if field:
        assert f": {field}: " in message, message
    assert word in message, message


def test_dev_defaults_are_cheap_and_disposable(write_env):
    env = load_environment(write_env(BASE))
    assert env.tier.value == "dev"
    assert env.serving.mode == "serverless"
    assert env.training.spot and not env.network.nat_gateway
    assert env.deletion_protection is False and env.registry.immutable_tags is False
    assert env.guardrails.require_spot_training and env.guardrails.require_scale_to_zero_serving


def test_prod_defaults_are_protected(write_env):
    env = load_environment(write_env(BASE.replace("name: dev", "name: prod")))
    assert env.deletion_protection is True and env.registry.immutable_tags is True
    assert env.serving.mode == "realtime"
    assert not env.guardrails.require_spot_training


def test_shipped_environments_load():
    for name in ("dev", "staging", "prod"):
        env = load_environment(f"environments/{name}.yaml")
        assert env.cloud == "aws" and env.stack_name == f"ml-{name}"
