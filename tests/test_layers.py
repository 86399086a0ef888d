"""Imports point down only (core <- clouds, layers and cost <- stacks <- CLI): the
import-linter contracts in pyproject.toml, run as part of the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_core_imports_nothing_above_it():
    for path in (ROOT / "core").glob("*.py"):
        text = path.read_text()
        for package in ("terraml", "stacks", "modules", "adapters", "cost"):
            assert f"from {package}" not in text and f"import {package}" not in text, \
                (path.name, package)
