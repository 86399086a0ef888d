"""`terraml ci init`: the rendered jobs are valid, safe to run (schema + zizmor), install
terraml from the repository with its clouds' extras, run the diff and keep one comment."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from terraml.ci import MARKER, render
from tests.conftest import BASE, run_cli

BIN = Path(sys.executable).parent
GCP = "name: ml\ncloud: gcp\nregion: us-central1\nproject_id: ml-platform-1\nbilling_account: " \
      "012345-6789AB-CDEF01\n"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _envs(root: Path, **files: str) -> Path:
    folder = root / "environments"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return root


def _tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in {BIN} (pip install -e '.[dev]')")
    return path


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=300)


def test_github_workflow_diffs_posts_one_comment_and_fails_when_blocked(tmp_path):
    workflow = yaml.safe_load(render("github", root=_envs(tmp_path, dev=BASE), warn=None))
    cost, comment = workflow["jobs"]["cost"], workflow["jobs"]["comment"]
    steps = cost["steps"]
    script = "\n".join(str(s.get("run", "")) for s in steps)
    assert "terraml cost diff --base \"origin/${GITHUB_BASE_REF}\"" in script
    assert steps[-1]["if"] == "steps.cost.outputs.exit_code != '0'"
    assert "exit 1" in steps[-1]["run"] and "${{" not in steps[-1]["run"]
    assert steps[0]["with"]["fetch-depth"] == 0
    # the comment job posts the report the cost job hands over, even when it blocked
    assert comment["needs"] == "cost" and "!cancelled()" in comment["if"]
    assert cost["outputs"]["report"] == "${{ steps.cost.outputs.report }}"
    post = comment["steps"][0]
    js = post["with"]["script"]
    assert MARKER in js and "updateComment" in js and "createComment" in js
    assert "process.env.REPORT" in js and "${{" not in js
    assert post["env"]["REPORT"] == "${{ needs.cost.outputs.report }}"


def test_github_workflow_least_privilege_pinned_no_persisted_token(tmp_path):
    text = render("github", root=_envs(tmp_path, dev=BASE), warn=None)
    workflow = yaml.safe_load(text)
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["cost"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["comment"]["permissions"] == {"pull-requests": "write"}
    uses = [line.split("uses: ", 1)[1] for line in text.splitlines() if "uses: " in line]
    assert len(uses) == 4 and all(PINNED.match(u) for u in uses), uses
    steps = workflow["jobs"]["cost"]["steps"]
    assert steps[0]["with"]["persist-credentials"] is False
    assert steps[1]["with"]["cache"] == "pip"
    # no `${{ }}` inline in any shell step: values reach the shell through env:
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step


def test_install_from_the_repository_with_the_clouds_in_use(tmp_path):
    root = _envs(tmp_path, dev=BASE, ml=GCP)
    install = yaml.safe_load(render("github", root=root, warn=None))["jobs"]["cost"]["steps"][3]
    assert install["run"].splitlines() == ["python -m pip install --upgrade pip",
                                           'python -m pip install ".[aws,gcp]"']
    gitlab = yaml.safe_load(render("gitlab", root=root, warn=None))["terraml-cost"]
    assert 'python -m pip install ".[aws,gcp]"' in gitlab["before_script"]
    assert "terraml[aws]" not in render("gitlab", root=root, warn=None)
    # no --install means "choose from the clouds in use"; anything else is used as written
    assert 'install ".[gcp]"' in render("github", root=_envs(tmp_path / "g", ml=GCP), warn=None)
    assert "install -e ./tools" in render("github", root=root, install_target="-e ./tools")


def test_an_environment_that_does_not_load_falls_back_to_all_and_says_so(tmp_path):
    root = _envs(tmp_path, dev=BASE, broken="name: x\ncloud: aws\nregion: mars-1\n")
    said: list[str] = []
    text = render("gitlab", root=root, warn=said.append)
    assert 'python -m pip install ".[all]"' in text
    assert len(said) == 1 and "broken.yaml:3: region" in said[0] and ".[all]" in said[0]
    assert "broken.yaml:3" in text.splitlines()[3]  # and in the file's header
    said.clear()
    assert '".[all]"' in render("github", root=tmp_path / "empty", warn=said.append)
    assert "no environment files" in said[0]


@pytest.mark.parametrize("env_dir", ["../elsewhere", "/abs/envs", "envs; rm -rf /", "a b"])
def test_env_dir_must_be_a_plain_folder_in_the_repository(tmp_path, env_dir):
    result = run_cli("ci", "init", "gitlab", "--stdout", "--env-dir", env_dir, cwd=tmp_path)
    assert result.returncode == 2 and "--env-dir: expected a folder" in result.stderr


def test_gitlab_job_runs_on_merge_requests_and_updates_its_note(tmp_path):
    text = render("gitlab", env_dir="envs", root=tmp_path, warn=None)
    job = yaml.safe_load(text)["terraml-cost"]
    script = "\n".join(job["script"])
    assert "--env-dir envs" in script and "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" in script
    assert MARKER in script and "-X PUT" in script and "exit $status" in script
    assert job["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert job["rules"][0]["changes"][0] == "envs/**/*"
    # pinned image, pip cache, the token only from a file and never given to terraml
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-trixie", job["image"])
    assert job["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    assert job["cache"]["paths"] == [".cache/pip"]
    assert "python -m pip install --upgrade pip" in job["before_script"]
    assert "env -u TERRAML_GITLAB_TOKEN terraml cost diff" in script
    assert '"PRIVATE-TOKEN: $' not in text and "echo \"$TERRAML" not in text
    assert "set -x" not in text


def test_rendered_jobs_pass_schema_and_zizmor(tmp_path):
    check_jsonschema, zizmor = _tool("check-jsonschema"), _tool("zizmor")
    root = _envs(tmp_path, dev=BASE, ml=GCP)
    for system, schema in (("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")):
        result = run_cli("ci", "init", system, cwd=root)
        assert result.returncode == 0, result.stderr
        written = root / result.stdout.split("wrote ", 1)[1].strip()
        checked = _run(check_jsonschema, "--builtin-schema", schema, written, cwd=root)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    workflow = root / ".github/workflows/terraml-cost.yml"
    for persona in ("regular", "pedantic"):
        audit = _run(zizmor, "--offline", "--no-config", "--persona", persona, workflow, cwd=root)
        assert audit.returncode == 0 and "No findings" in audit.stdout, audit.stdout + audit.stderr


def test_ci_init_writes_once_and_refuses_to_overwrite(tmp_path):
    first = run_cli("ci", "init", "github", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "no environment files" in first.stderr and ".[all]" in first.stderr
    assert (tmp_path / ".github/workflows/terraml-cost.yml").is_file()
    second = run_cli("ci", "init", "github", cwd=tmp_path)
    assert second.returncode == 2 and "already exists" in second.stderr
    assert "warning" not in second.stderr
    bad = run_cli("ci", "init", "jenkins", cwd=tmp_path)
    assert bad.returncode == 2 and "expected one of github, gitlab" in bad.stderr
