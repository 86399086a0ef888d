"""Environment config: defaults by tier, and one-line errors naming file, line and field."""

from __future__ import annotations

import pytest

from core.errors import UserError
from stacks.app import load_environment
from tests.conftest import BASE, run_cli

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


# Strict numbers, finite bounded money, known regions: through the CLI as a user runs it.
# (yaml after BASE, field, the one-line problem after `field: `)
STRICT = [
    ("budget:\n  monthly_usd: true\n", 5, "budget.monthly_usd", "expected a number, found True"),
    ("training:\n  count: true\n", 5, "training.count", "expected an integer, found True"),
    ("training:\n  count: 2.0\n", 5, "training.count", "expected an integer, found 2.0"),
    ("guardrails:\n  max_gpus: false\n", 5, "guardrails.max_gpus",
     "expected an integer, found False"),
    ("training:\n  spot: 1\n", 5, "training.spot", "expected true or false, found 1"),
    ("monitoring:\n  log_retention_days: true\n", 5, "monitoring.log_retention_days",
     "expected a number, found True"),
    ("data:\n  stored_gb: '50'\n", 5, "data.stored_gb",
     "expected a number, found '50' (text: remove the quotes)"),
    ("budget:\n  monthly_usd: 1e308\n", 5, "budget.monthly_usd",
     "expected a number, found '1e308' (YAML reads this as text"),
    ("budget:\n  monthly_usd: 1.0e+308\n", 5, "budget.monthly_usd",
     "expected a value less than or equal to 10000000, found 1e+308"),
    ("budget:\n  monthly_usd: .inf\n", 5, "budget.monthly_usd",
     "expected a finite number, found inf"),
    ("budget:\n  monthly_usd: .nan\n", 5, "budget.monthly_usd",
     "expected a finite number, found nan"),
    ("guardrails:\n  max_increase_usd: .inf\n", 5, "guardrails.max_increase_usd",
     "expected a finite number, found inf"),
    ("training:\n  gpu_hours_per_month: 1.0e+9\n", 5, "training.gpu_hours_per_month",
     "expected a value less than or equal to 1000000, found 1000000000.0"),
    ("guardrails:\n  actions:\n    budget: on\n", 6, "guardrails.actions.budget",
     "expected one of 'warn', 'block', 'off', found True"),
]


@pytest.mark.parametrize(("extra", "line", "field", "problem"), STRICT,
                         ids=[f"strict{i:02d}" for i in range(len(STRICT))])
def test_cli_refuses_loose_numbers_in_one_line_exit_2(write_env, extra, line, field, problem):
    path = write_env(BASE + extra)
    result = run_cli("validate", str(path))
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"{path}:{line}: {field}: {problem}" in message, message


@pytest.mark.parametrize(("cloud", "region", "suggested"), [
    ("aws", "moon-central-1", "mx-central-1 or me-central-1"),
    ("aws", "us-east-7", "us-east-1"),
    ("gcp", "us-central", "us-central1"),
    ("gcp", "us-east-1", "us-east1"),
    ("azure", "west-europe", "westeurope"),
])
def test_cli_refuses_unknown_region_naming_the_closest(write_env, cloud, region, suggested):
    path = write_env(f"name: dev\ncloud: {cloud}\nregion: {region}\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"{path}:3: region: expected " in message, message
    assert f"found {region!r}; did you mean {suggested}" in message, message


def test_region_without_near_miss_lists_the_clouds_regions(write_env):
    with pytest.raises(UserError, match=r":3: region: .*found 'xyzzy'; azure regions: eastus, "):
        load_environment(write_env("name: dev\ncloud: azure\nregion: xyzzy\n"))


def test_synth_refuses_a_bad_region_before_writing_anything(tmp_path):
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "dev.yaml").write_text("name: dev\ncloud: aws\nregion: us-esat-1\n")
    out = tmp_path / "out"
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "dev.yaml:3: region: " in result.stderr and "did you mean us-east-1" in result.stderr
    assert not (out / "stacks").exists()


def test_every_region_in_the_tables_is_accepted_and_off_means_off(write_env):
    from core.regions import REGIONS

    for cloud, regions in REGIONS.items():
        for region in regions:
            assert load_environment(write_env(
                f"name: dev\ncloud: {cloud}\nregion: {region}\n")).region == region
    env = load_environment(write_env(BASE + "guardrails:\n  actions:\n    budget: off\n"))
    assert env.guardrails.actions == {"budget": "off"}  # YAML 1.1 reads `off` as false


def test_schema_states_the_bounds():
    from adapters import register_clouds
    from core.spec import environment_schema

    register_clouds()

    props = environment_schema()["$defs"]["Budget"]["properties"]["monthly_usd"]
    assert props["maximum"] == 10_000_000 and "10,000,000" in props["description"]


@pytest.mark.parametrize(("text", "expected"), [
    ("name: dev\ncloud: moon\nregion: us-east-1\n",
     ":2: cloud: expected one of aws, azure, gcp, found 'moon'"),
    ("name: dev\nregion: us-east-1\n", ":1: cloud: required setting"),
    ("name: dev\ncloud: aws\nregion: us-east-1\nstate:\n  backend: gcs\n  bucket: b\n",
     ":4: state: backend: expected one of local, s3 on aws, found 'gcs'"),
    ("name: dev\ncloud: azure\nregion: eastus\nstate:\n  backend: s3\n  bucket: b\n",
     "state: backend: expected one of local, azurerm on azure, found 's3'"),
    ("name: dev\ncloud: aws\nregion: us-east-1\nproject_id: abcdef-1\n",
     ":4: project_id: unknown setting"),
    ("name: dev\ncloud: gcp\nregion: us-central1\nproviders:\n  aws: '~> 5.0'\n",
     ":5: providers.aws: unknown setting"),
])
def test_each_cloud_brings_its_own_settings(write_env, text, expected):
    """Ids, provider constraints and state backends live with each cloud
    (adapters/<cloud>/settings.py) and join the spec as a union told apart by `cloud:`."""
    path = write_env(text)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert expected in result.stderr and result.stderr.strip().count("\n") == 0


def test_schema_is_one_model_per_cloud():
    from adapters import register_clouds
    from core.spec import environment_schema

    register_clouds()
    schema = environment_schema()
    assert schema["discriminator"]["propertyName"] == "cloud"
    assert set(schema["discriminator"]["mapping"]) == {"aws", "gcp", "azure"}
    gcp = schema["$defs"]["GcpEnvironment"]["properties"]
    assert "project_id" in gcp and "account_id" not in gcp
