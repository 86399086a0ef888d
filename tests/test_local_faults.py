"""Faults of the local deploy that need no Terraform: a second command on the same
environment, an emulator that died between `up` and `down`, a read-only or full
`.terraml/`, progress parsing, and the emulator shim's added calls."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from terraml.local.lock import EnvLock
from terraml.local.progress import _Lines
from terraml.local.terraform import ApplyProgress
from tests.conftest import ROOT, run_cli


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copytree(ROOT / "environments", folder / "environments")
    return folder


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _fake_deploy(work: Path, env: str = "dev") -> Path:
    """A local deploy whose emulator has died: state with outputs, record of a dead pid."""
    local = work / ".terraml/local"
    local.mkdir(parents=True)
    state = local / f"ml-{env}.tfstate"
    state.write_text(json.dumps({"version": 4, "outputs": {
        "environment": {"value": env}, "cloud": {"value": "aws"}}, "resources": []}))
    (local / f"{env}.json").write_text(json.dumps({"env": env, "pid": _dead_pid(), "port": 1}))
    return state


def test_second_command_on_the_same_environment_is_refused_in_one_line(work: Path):
    _fake_deploy(work)
    with EnvLock(work / ".terraml/local", "dev", "up"):
        for command in ("up", "down"):
            done = run_cli(command, "--env", "dev", "--local", cwd=work)
            assert done.returncode == 2, done.stdout + done.stderr
            line = _one_line(done.stderr)
            assert "another `terraml up --local`" in line and f"pid {os.getpid()}" in line
    assert (work / ".terraml/local/ml-dev.tfstate").is_file()  # nothing touched


def test_dead_emulator_down_status_and_runtime_commands_say_so(work: Path):
    state = _fake_deploy(work)
    down = run_cli("down", "--env", "dev", "--local", cwd=work)
    assert down.returncode == 2
    line = _one_line(down.stderr)
    assert "no longer running" in line and "--discard" in line and "terraml up" in line
    assert state.is_file()
    for command in (("status", "--env", "dev"), ("stop-idle", "--env", "dev")):
        done = run_cli(*command, cwd=work)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "no running emulator" in _one_line(done.stderr)
        assert "terraml up --env dev --local" in done.stderr
    discard = run_cli("down", "--env", "dev", "--local", "--discard", cwd=work)
    assert discard.returncode == 0, discard.stderr
    assert "emulator stopped, local state discarded" in discard.stdout
    assert not state.exists() and not (work / ".terraml/local/dev.json").exists()
    again = run_cli("down", "--env", "dev", "--local", cwd=work)
    assert again.returncode == 0 and "nothing deployed locally" in again.stdout


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, check=False).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def test_read_only_terraml_folder_is_one_line_exit_2(work: Path):
    folder = work / ".terraml"
    mounted = _mount_tmpfs(folder, "ro,size=1m")
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("running as root without mount: cannot make a read-only folder")
        folder.mkdir()
        folder.chmod(0o555)
    try:
        done = run_cli("up", "--env", "dev", "--local", cwd=work)
        assert done.returncode == 2, done.stdout + done.stderr
        line = _one_line(done.stderr)
        assert "cannot write the local deploy's state" in line
        assert "Read-only" in line or "Permission denied" in line
    finally:
        if mounted:
            _umount(folder)
        else:
            folder.chmod(0o755)


def test_full_terraml_folder_is_one_line_exit_2(work: Path):
    folder = work / ".terraml"
    if not _mount_tmpfs(folder, "size=64k"):
        pytest.skip("needs root and mount to make a small full filesystem")
    try:
        try:
            with open(folder / "filler", "wb") as handle:
                while True:
                    handle.write(b"\0" * 4096)
                    handle.flush()
        except OSError:
            pass  # full
        done = run_cli("up", "--env", "dev", "--local", cwd=work)
        assert done.returncode == 2, done.stdout + done.stderr
        line = _one_line(done.stderr)
        assert "No space left on device" in line and "free space" in line
    finally:
        _umount(folder)


def _events(*messages: dict) -> list[str]:
    return [json.dumps(m) + "\n" for m in messages]


def test_apply_progress_counts_resources_from_terraform_json():
    seen: list[str] = []
    tracker = ApplyProgress("apply", seen.append)
    hook = {"resource": {"addr": "aws_s3_bucket.raw"}, "action": "create"}
    for line in _events(
            {"type": "version"},
            {"type": "planned_change", "change": {"resource": {"addr": "aws_s3_bucket.raw"},
                                                  "action": "create"}},
            {"type": "change_summary", "changes": {"add": 2, "change": 0, "remove": 1,
                                                   "operation": "plan"}},
            {"type": "apply_start", "hook": hook},
            {"type": "apply_progress", "hook": hook},
            {"type": "apply_complete", "hook": hook},
            {"type": "apply_start", "hook": {"resource": {"addr": "data.aws_partition.p"},
                                             "action": "read"}},
            {"type": "apply_complete", "hook": {"resource": {"addr": "data.aws_partition.p"},
                                                "action": "read"}},
            {"type": "diagnostic", "diagnostic": {
                "severity": "error", "summary": "creating Budget", "address": "aws_budgets_b.b",
                "detail": "DuplicateRecordException: exists\nmore"}}):
        tracker.feed(line)
    tracker.feed("not json\n")
    assert seen == ["apply: 0/3 resources", "apply: 0/3 resources (creating aws_s3_bucket.raw)",
                    "apply: 1/3 resources (creating aws_s3_bucket.raw)"]
    assert tracker.error() == ("Error: creating Budget (aws_budgets_b.b) "
                               "DuplicateRecordException: exists")


def test_plain_progress_lines_report_each_tenth():
    from rich.console import Console

    console = Console(record=True, width=200, force_terminal=False)
    lines = _Lines(console)
    for done in range(21):
        lines(f"apply: {done}/20 resources")
    lines("checking resources with boto3")
    text = console.export_text()
    assert text.count("apply:") == 11
    assert "apply: 2/20 resources (10%)" in text and "apply: 20/20 resources\n" in text
    assert "checking resources with boto3" in text


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch):
    pytest.importorskip("moto.server")
    from terraml.local import emulator as emulators

    monkeypatch.chdir(tmp_path)
    started = emulators.start("shim-test")
    yield started
    emulators.stop("shim-test")


def test_shim_accepts_current_instance_families_and_scaling_tags(emulator):
    import boto3
    from botocore.exceptions import ClientError

    kw = {"endpoint_url": emulator.endpoint, "region_name": "eu-west-1",
          "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    sagemaker = boto3.client("sagemaker", **kw)
    sagemaker.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                           PrimaryContainer={"Image": "serve:1"})
    for instance_type in ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.g6.2xlarge", "ml.p4d.24xlarge",
                          "ml.inf2.xlarge", "ml.m5.large"):
        sagemaker.create_endpoint_config(
            EndpointConfigName=instance_type.replace(".", "-"), ProductionVariants=[{
                "VariantName": "main", "ModelName": "m", "InstanceType": instance_type,
                "InitialInstanceCount": 1}])
    with pytest.raises(ClientError, match="ml.<family>.<size>"):
        sagemaker.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=[{
            "VariantName": "main", "ModelName": "m", "InstanceType": "g5.xlarge",
            "InitialInstanceCount": 1}])
    scaling = boto3.client("application-autoscaling", **kw)
    arn = scaling.register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId="endpoint/e/variant/main",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount", MinCapacity=1,
        MaxCapacity=2, Tags={"owner": "ml"})["ScalableTargetARN"]
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"owner": "ml"}
    scaling.tag_resource(ResourceARN=arn, Tags={"tier": "prod"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["owner"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"tier": "prod"}
    scaling.deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId="endpoint/e/variant/main",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount")
    with pytest.raises(ClientError):
        scaling.list_tags_for_resource(ResourceARN=arn)


def test_shim_answers_calls_moto_lacks_at_once_with_a_client_error(emulator):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    scaling = boto3.client("application-autoscaling", endpoint_url=emulator.endpoint,
                           region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test",
                           config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:
        scaling.get_predictive_scaling_forecast(
            ServiceNamespace="ecs", ResourceId="service/c/s",
            ScalableDimension="ecs:service:DesiredCount", PolicyName="p",
            StartTime="2026-01-01", EndTime="2026-01-02")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "does not implement" in str(caught.value)
    assert time.monotonic() - started < 5
