"""Console output and environment selection shared by every `terraml` command group."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from rich.console import Console

from core.errors import UserError

out = Console(width=160) if not sys.stdout.isatty() else Console()
err = Console(stderr=True)


def when(value: datetime | None) -> str:
    """A moment as the commands and reports show it (UTC, to the minute), or `-`."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def select_environments(env_dir: Path, names: list[str] | None):
    """The environments of `env_dir`, or only `names` (one-line error for an unknown one)."""
    from stacks.app import environment_files, load_environments

    envs = load_environments(environment_files(env_dir))
    if names:
        known = {e.name for e in envs}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UserError(f"--env: unknown environment {unknown[0]!r} "
                            f"(known: {', '.join(sorted(known))})")
        envs = [e for e in envs if e.name in names]
    return envs


def one_environment(env_dir: Path, name: str):
    return select_environments(env_dir, [name])[0]
