"""End to end: real Terraform applies the dev stack to a moto server, re-plans, destroys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from terraml.local.terraform import find_mirror, mirror_versions
from tests.conftest import ROOT, run_cli


def _skip_reason() -> str | None:
    if not shutil.which("terraform"):
        return "terraform is not installed"
    mirror = find_mirror()
    if mirror is None or not mirror_versions(mirror):
        return "no filesystem mirror with hashicorp/aws (set TERRAML_PROVIDER_MIRROR)"
    return None


@pytest.mark.deploy
@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_dev_stack_applies_replans_clean_and_destroys(tmp_path: Path):
    work = tmp_path / "project"
    work.mkdir()
    shutil.copytree(ROOT / "environments", work / "environments")
    up = run_cli("up", "--env", "dev", "--local", cwd=work)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "second plan: no changes" in up.stdout
        assert "missing" not in up.stdout
        for expected in ("s3 bucket", "sagemaker endpoint", "budget", "batch job queue",
                         "model package group", "endpoint alarms"):
            assert expected in up.stdout, expected
        assert (work / ".terraml/local/ml-dev.tfstate").is_file()
    finally:
        down = run_cli("down", "--env", "dev", "--local", cwd=work)
    assert down.returncode == 0, down.stderr[-3000:]
    assert "destroyed, emulator stopped" in down.stdout
    assert not (work / ".terraml/local/dev.json").exists()
