"""The user's path: `terraml` and `python -m stacks` in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import BASE, ROOT, run_cli


def test_validate_bad_file_is_one_line_exit_2(write_env):
    path = write_env(BASE + "serving:\n  mode: lambda\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:5: serving.mode:" in lines[0]
    assert "Traceback" not in result.stderr


def test_schema_is_json_schema_with_every_section():
    result = run_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["discriminator"]["propertyName"] == "cloud"  # one model per cloud
    for model in schema["discriminator"]["mapping"].values():
        properties = schema["$defs"][model.rsplit("/", 1)[1]]["properties"]
        assert {"training", "serving", "budget", "guardrails", "state", "providers"} <= \
            set(properties)


def test_list_shows_the_three_stacks():
    result = run_cli("list")
    assert result.returncode == 0
    for stack in ("ml-dev", "ml-staging", "ml-prod"):
        assert stack in result.stdout


def test_synth_writes_every_stack(tmp_path: Path):
    result = run_cli("synth", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    for stack in ("ml-dev", "ml-staging", "ml-prod"):
        assert (tmp_path / "out" / "stacks" / stack / "cdk.tf.json").is_file()
    assert "end-of-life" not in result.stderr + result.stdout


def test_cdktf_app_with_bad_env_writes_nothing(tmp_path: Path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text(BASE + "budget:\n  monthly_usd: -5\n")
    result = subprocess.run([sys.executable, "-m", "stacks"], check=False, cwd=tmp_path, text=True,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "dev.yaml:5: budget.monthly_usd:" in result.stderr
    assert not (tmp_path / "cdktf.out").exists()


def test_the_three_examples_synthesize_one_per_cloud(tmp_path: Path):
    result = run_cli("synth", "--env-dir", str(ROOT / "examples"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for cloud in ("aws", "gcp", "azure"):
        assert f"ml-{cloud}-dev ({cloud}," in result.stdout
        assert (tmp_path / f"stacks/ml-{cloud}-dev/cdk.tf.json").is_file()


def test_local_deploy_is_aws_only(tmp_path: Path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text(
        (ROOT / "examples" / "gcp-dev.yaml").read_text())
    result = run_cli("up", "--env", "gcp-dev", "--local", cwd=tmp_path)
    assert result.returncode == 2 and "no local emulator for gcp" in result.stderr


def test_unknown_env_and_missing_terraform_are_clear(tmp_path: Path):
    result = run_cli("up", "--env", "nope", "--local")
    assert result.returncode == 2 and "unknown environment 'nope'" in result.stderr
    result = run_cli("up", "--env", "dev", "--local", cwd=ROOT,
                     env={"TERRAML_TERRAFORM": str(tmp_path / "no-terraform")})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: terraform not found on PATH: install Terraform " \
        ">= 1.10 (or set TERRAML_TERRAFORM to its path)"


def test_bad_cli_option_exits_2():
    result = run_cli("synth", "--no-such-flag")
    assert result.returncode == 2


def test_cdktf_cli_lists_the_stacks():
    import shutil

    cdktf = ROOT / ".tools/node_modules/.bin/cdktf"
    if not cdktf.exists():
        cdktf = Path(shutil.which("cdktf") or "/nonexistent")
    if not cdktf.exists():
        import pytest

        pytest.skip("cdktf CLI not installed (make test installs cdktf-cli into .tools)")
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "CI": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([str(cdktf), "list"], check=False, cwd=ROOT, text=True, capture_output=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for stack in ("ml-dev", "ml-staging", "ml-prod"):
        assert stack in result.stdout
