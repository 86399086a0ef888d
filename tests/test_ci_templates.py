"""`terraml ci init`: the rendered jobs are valid YAML that run the diff and keep one comment."""

from __future__ import annotations

import yaml

from terraml.ci import MARKER, render
from tests.conftest import run_cli


def test_github_workflow_diffs_posts_one_comment_and_fails_when_blocked():
    workflow = yaml.safe_load(render("github"))
    steps = workflow["jobs"]["cost"]["steps"]
    script = "\n".join(str(s.get("run", "")) + str(s.get("with", {}).get("script", ""))
                       for s in steps)
    assert "terraml cost diff --base \"origin/${GITHUB_BASE_REF}\"" in script
    assert MARKER in script and "updateComment" in script and "createComment" in script
    assert steps[-1]["if"] == "steps.cost.outputs.exit_code != '0'"
    assert workflow["permissions"]["pull-requests"] == "write"
    assert steps[0]["with"]["fetch-depth"] == 0


def test_gitlab_job_runs_on_merge_requests_and_updates_its_note():
    job = yaml.safe_load(render("gitlab", env_dir="envs"))["terraml-cost"]
    script = "\n".join(job["script"])
    assert "--env-dir envs" in script and "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" in script
    assert MARKER in script and "-X PUT" in script and "exit $status" in script
    assert job["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'


def test_ci_init_writes_once_and_refuses_to_overwrite(tmp_path):
    first = run_cli("ci", "init", "github", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / ".github/workflows/terraml-cost.yml").is_file()
    second = run_cli("ci", "init", "github", cwd=tmp_path)
    assert second.returncode == 2 and "already exists" in second.stderr
    bad = run_cli("ci", "init", "jenkins", cwd=tmp_path)
    assert bad.returncode == 2 and "expected one of github, gitlab" in bad.stderr
