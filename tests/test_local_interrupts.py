"""Interrupting `terraml up --local` during apply, then running it again, converges with
no duplicate resources: a hard kill of terraml and Terraform, Ctrl-C (SIGINT: Terraform
stops cleanly), and SIGKILL of terraml alone (Terraform gets SIGINT as its parent dies
and stops cleanly); each rerun starts over on a fresh emulator, as the emulator may hold
resources created while Terraform stopped. A second `up` while one runs is refused in
one line. Then the emulator dies: `down` says so in one line, `--discard` cleans up."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_local_deploy import _skip_reason

PROGRESS = re.compile(r"apply: (\d+)/(\d+) resources")


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT at its default, so Python turns it into KeyboardInterrupt as in a
    terminal. A test run started in the background of a non-interactive shell (`make test &`)
    inherits SIGINT ignored, and Python then installs no handler: Ctrl-C would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Up:
    """`terraml up --env dev --local` in the background, its stderr in a file."""

    def __init__(self, work: Path) -> None:
        self.log = work / f"up-{time.monotonic_ns()}.err"
        self.handle = open(self.log, "w")  # noqa: SIM115 - closed in wait()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "terraml", "up", "--env", "dev", "--local"], cwd=work,
            stdout=subprocess.DEVNULL, stderr=self.handle, text=True,
            preexec_fn=_ctrl_c_as_in_a_terminal)  # noqa: PLW1509 - one signal() call

    def stderr(self) -> str:
        return self.log.read_text()

    def wait_for_progress(self, minimum: int = 1, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [int(m.group(1)) for m in PROGRESS.finditer(self.stderr())]
            if done and max(done) >= minimum:
                return
            assert self.process.poll() is None, self.stderr()
            time.sleep(0.2)
        raise AssertionError("no apply progress: " + self.stderr())

    def wait(self, timeout: float = 300) -> int:
        code = self.process.wait(timeout)
        self.handle.close()
        return code


def _lock_info(work: Path) -> dict:
    return json.loads((work / ".terraml/local/dev.lock").read_text() or "{}")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie (no init reaping in some containers) is gone too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _wait_gone(pid: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gone(pid), f"pid {pid} still running"


def _client(work: Path, service: str):
    import boto3

    port = json.loads((work / ".terraml/local/dev.json").read_text())["port"]
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def _assert_no_duplicates(work: Path) -> None:
    state = json.loads((work / ".terraml/local/ml-dev.tfstate").read_text())
    in_state: dict[str, int] = {}
    for resource in state["resources"]:
        if resource["mode"] == "managed":
            in_state[resource["type"]] = in_state.get(resource["type"], 0) + len(
                resource["instances"])
    vpcs = [v for v in _client(work, "ec2").describe_vpcs()["Vpcs"] if not v["IsDefault"]]
    assert len(vpcs) == in_state["aws_vpc"] == 1
    keys = _client(work, "kms").list_keys()["Keys"]
    assert len(keys) == in_state["aws_kms_key"]
    budgets = _client(work, "budgets").describe_budgets(AccountId="123456789012")["Budgets"]
    assert len(budgets) == in_state["aws_budgets_budget"] == 1
    topics = _client(work, "sns").list_topics()["Topics"]
    assert len(topics) == in_state["aws_sns_topic"]
    roles = [r for r in _client(work, "iam").list_roles()["Roles"]
             if r["RoleName"].startswith("terraml-dev")]
    assert len(roles) == in_state["aws_iam_role"]


@pytest.mark.deploy
@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_interrupted_up_converges_without_duplicates(shipped_project: Path):
    work = shipped_project
    try:
        # 1. Hard kill of terraml and Terraform together (power loss, `kill -9` of the tree).
        first = Up(work)
        first.wait_for_progress()
        second = run_cli("up", "--env", "dev", "--local", cwd=work)
        assert second.returncode == 2, second.stderr
        assert "another `terraml up --local`" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        terraform = _lock_info(work)["terraform_pid"]
        first.process.kill()
        os.kill(terraform, signal.SIGKILL)
        first.wait()
        _wait_gone(terraform)
        assert (work / ".terraml/local/dev.applying").exists()

        # 2. The rerun starts over on a fresh emulator; Ctrl-C stops Terraform cleanly.
        rerun = Up(work)
        rerun.wait_for_progress()
        assert "previous apply did not finish" in rerun.stderr()
        rerun.process.send_signal(signal.SIGINT)
        assert rerun.wait(timeout=180) == 130, rerun.stderr()
        assert "terraform stopped cleanly" in rerun.stderr()
        assert "run `terraml up --env dev --local` again" in rerun.stderr()
        assert not (work / ".terraml/local/.ml-dev.tfstate.lock.info").exists()  # unlocked

        # 3. SIGKILL of terraml alone: Terraform gets SIGINT and still saves the state.
        third = Up(work)
        third.wait_for_progress()
        terraform = _lock_info(work)["terraform_pid"]
        third.process.kill()
        third.wait()
        _wait_gone(terraform)
        assert not (work / ".terraml/local/.ml-dev.tfstate.lock.info").exists()  # unlocked

        # 4. The last run starts over and converges: no duplicates.
        last = run_cli("up", "--env", "dev", "--local", cwd=work)
        assert last.returncode == 0, last.stdout[-2000:] + last.stderr[-2000:]
        assert "second plan: no changes" in last.stdout
        assert "started over on a fresh emulator" in last.stderr
        assert not (work / ".terraml/local/dev.applying").exists()
        _assert_no_duplicates(work)

        # 5. The emulator dies: `down` says so in one line and how to recover.
        emulator = json.loads((work / ".terraml/local/dev.json").read_text())["pid"]
        os.kill(emulator, signal.SIGKILL)
        _wait_gone(emulator)
        down = run_cli("down", "--env", "dev", "--local", cwd=work)
        assert down.returncode == 2
        assert len(down.stderr.strip().splitlines()) == 1, down.stderr
        assert "no longer running" in down.stderr and "--discard" in down.stderr
    finally:
        discard = run_cli("down", "--env", "dev", "--local", "--discard", cwd=work)
    assert discard.returncode == 0, discard.stderr
    assert not (work / ".terraml/local/dev.json").exists()
    assert not (work / ".terraml/local/ml-dev.tfstate").exists()
