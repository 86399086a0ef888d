"""Shared fixtures: write environment files, run the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = "name: dev\ncloud: aws\nregion: us-east-1\n"


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None,
            timeout: int = 900) -> subprocess.CompletedProcess:
    """`terraml ...` in a subprocess, exactly as a user runs it."""
    return subprocess.run([sys.executable, "-m", "terraml", *args], check=False, cwd=cwd, text=True,
                          capture_output=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture
def write_env(tmp_path: Path):
    def write(text: str, name: str = "dev.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return write


@pytest.fixture
def shipped_project(tmp_path: Path) -> Path:
    """A project folder holding a copy of the shipped environments (for the local deploys)."""
    import shutil

    work = tmp_path / "project"
    work.mkdir()
    shutil.copytree(ROOT / "environments", work / "environments")
    return work
