"""Issue 12 sections (`monitoring.drift`, `features`, `notebooks`): defaults, and bad input as
one line naming file:line and the setting, exit 2, nothing written — through `terraml synth` as a
user runs it, on all three clouds where the check is neutral."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import UserError
from stacks.app import load_environment
from tests.conftest import run_cli

CLOUDS = {
    "aws": "cloud: aws\nregion: us-east-1\n",
    "gcp": "cloud: gcp\nregion: us-central1\nproject_id: terraml-dev-123\n"
           "billing_account: 012345-ABCDEF-678901\n",
    "azure": "cloud: azure\nregion: eastus\n"
             "subscription_id: 00000000-0000-0000-0000-000000000000\n",
}
DRIFT = ("monitoring:\n  drift:\n    baseline: artifacts/drift/\n"
         "    target: raw/requests/\n    features: [age, income]\n")
STORE = ("features:\n  entities:\n    customer: {key: customer_id}\n  groups:\n"
         "    profile:\n      entity: customer\n      source: features/profile/\n"
         "      features: {tenure: int}\n")

# (extra yaml, setting named in the error, a phrase the error contains)
BAD = [
    (DRIFT + "    threshold: 1.5\n", "monitoring.drift.threshold", "less than or equal to 1"),
    (DRIFT + "    threshold: 0\n", "monitoring.drift.threshold", "greater than 0"),
    (DRIFT + "    feature_thresholds: {age: -0.1}\n", "monitoring.drift.feature_thresholds.age",
     "greater than 0"),
    (DRIFT + "    feature_thresholds: {tenure: 0.1}\n", "monitoring.drift", "not in features"),
    (DRIFT + "    schedule: '*/5 * * * *'\n", "monitoring.drift.schedule", "every N hours"),
    (DRIFT + "    schedule: '0 6 * * MON'\n", "monitoring.drift.schedule",
     "forms every cloud's monitor accepts"),
    (DRIFT.replace("    features: [age, income]\n", ""), "monitoring.drift.features",
     "required"),
    (DRIFT.replace("[age, income]", "[]"), "monitoring.drift.features", "at least 1"),
    (DRIFT.replace("artifacts/drift/", "lake/drift/"), "monitoring.drift.baseline",
     "data buckets"),
    (DRIFT.replace("    baseline: artifacts/drift/\n", ""), "monitoring.drift.baseline",
     "required"),
    (STORE.replace("      entity: customer\n", ""), "features", "expected an entity"),
    (STORE.replace("entity: customer", "entity: account"), "features", "expected one of customer"),
    (STORE.replace("{tenure: int}", "{}"), "features.groups.profile", "at least one feature"),
    (STORE.replace("{tenure: int}", "{customer_id: string}"), "features",
     "added by terraml"),
    (STORE.replace("features/profile/", "lake/profile/"), "features.groups.profile.source",
     "data buckets"),
    (STORE.replace("{tenure: int}", "{tenure: decimal}"), "features.groups.profile.features.tenure",
     "expected one of"),
    ("notebooks:\n  users: [alice]\n  idle_shutdown_minutes: 0\n",
     "notebooks.idle_shutdown_minutes", "greater than or equal to 10"),
    ("notebooks:\n  users: []\n", "notebooks.users", "at least one user"),
    ("notebooks:\n  users: [alice, alice]\n", "notebooks.users", "unique"),
    ("notebooks:\n  users: [Alice]\n", "notebooks.users[0]", "matching"),
]


# The checks are neutral (the same pydantic sections for every cloud): each case runs on one
# cloud in turn, so all three clouds' synth paths see bad input without tripling the run time.
CASES = [(list(CLOUDS)[i % 3], *case) for i, case in enumerate(BAD)]


@pytest.mark.parametrize(("cloud", "extra", "setting", "phrase"), CASES,
                         ids=[f"case{i:02d}-{c[0]}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line_naming_file_line_and_setting(tmp_path: Path, cloud, extra,
                                                             setting, phrase):
    envs = tmp_path / "envs"
    envs.mkdir()
    path = envs / "dev.yaml"
    path.write_text("name: dev\n" + CLOUDS[cloud] + extra)
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path}:" in lines[0] and f" {setting}: " in lines[0], lines[0]
    assert phrase in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_aws_serverless_endpoint_captures_nothing_so_drift_on_it_is_refused(tmp_path: Path):
    """SageMaker serverless endpoints have no data capture; GCP and Azure's scale-to-zero
    deployments log requests while they are up."""
    envs = tmp_path / "envs"
    envs.mkdir()
    drift = "monitoring:\n  drift:\n    baseline: artifacts/drift/\n    features: [age]\n"
    (envs / "dev.yaml").write_text("name: dev\n" + CLOUDS["aws"] + drift)
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "monitoring.drift.target" in line and "serving.mode: realtime" in line
    assert "serverless endpoints on aws capture no requests" in line
    assert not (tmp_path / "out").exists()


def test_drift_on_an_endpoint_that_captures_nothing_is_refused_on_every_cloud(tmp_path: Path):
    for cloud, ids in CLOUDS.items():
        envs = tmp_path / cloud
        envs.mkdir()
        (envs / "dev.yaml").write_text(
            "name: dev\n" + ids + "serving: {mode: realtime, data_capture_percent: 0}\n"
            "monitoring:\n  drift:\n    baseline: artifacts/drift/\n    features: [age]\n")
        result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
        assert result.returncode == 2, (cloud, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert "monitoring.drift.target" in line and "data_capture_percent above 0" in line


def test_defaults_by_tier(write_env):
    rest = CLOUDS["aws"] + STORE + "notebooks:\n  users: [alice]\n" + DRIFT
    dev = load_environment(write_env("name: dev\n" + rest, "dev.yaml"))
    prod = load_environment(write_env("name: prod\n" + rest, "prod.yaml"))
    assert dev.notebooks.root_access is True and prod.notebooks.root_access is False
    assert dev.notebooks.idle_shutdown_minutes == 60
    drift = dev.monitoring.drift
    assert drift.schedule == "0 * * * *" and drift.threshold == 0.3
    assert drift.runs_per_month() == pytest.approx(720)
    assert dev.features.groups["profile"].online is False
    assert dev.features.online_groups() == []


def test_online_default_and_per_group_override(write_env):
    text = "name: dev\n" + CLOUDS["gcp"] + STORE.replace("features:\n", "features:\n  online: true\n")
    text += "    history:\n      entity: customer\n      source: warehouse:history\n" \
            "      features: {spend: float}\n      online: false\n"
    env = load_environment(write_env(text))
    assert env.features.online_groups() == ["profile"]
    assert env.features.groups["history"].warehouse_table() == "history"


def test_every_shipped_mlops_example_loads_the_same_platform():
    examples = Path(__file__).resolve().parent.parent / "examples"
    loaded = [load_environment(examples / f"{cloud}-mlops.yaml") for cloud in CLOUDS]
    neutral = {(e.monitoring.drift.model_dump_json(), e.features.model_dump_json(),
                e.notebooks.model_dump_json()) for e in loaded}
    assert len(neutral) == 1  # only cloud, region and ids differ


def test_unknown_setting_in_a_new_section_is_an_error(write_env):
    with pytest.raises(UserError, match=r"notebooks.idle_minutes: unknown setting"):
        load_environment(write_env("name: dev\n" + CLOUDS["aws"]
                                   + "notebooks:\n  users: [a]\n  idle_minutes: 5\n"))
