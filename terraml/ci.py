"""`terraml ci init github|gitlab`: render the CI cost-check job from templates/ci."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.errors import UserError
from terraml.files import write_atomically

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "ci"
TARGETS = {
    "github": ("github-workflow.yml.j2", Path(".github/workflows/terraml-cost.yml")),
    "gitlab": ("gitlab-ci.yml.j2", Path(".gitlab/terraml-cost.gitlab-ci.yml")),
}
MARKER = "<!-- terraml-cost-report -->"


def render(system: str, *, env_dir: str = "environments", python_version: str = "3.11",
           install_target: str = "'terraml[aws]'") -> str:
    if system not in TARGETS:
        raise UserError(f"ci init: expected one of {', '.join(TARGETS)}, found {system!r}")
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    return env.get_template(TARGETS[system][0]).render(
        env_dir=env_dir, python_version=python_version, install_target=install_target,
        marker=MARKER)


def write(system: str, root: Path, *, force: bool = False, **options: str) -> Path:
    """Write the rendered job under `root`; refuse to overwrite without `force`."""
    text = render(system, **options)
    target = root / TARGETS[system][1]
    if target.exists() and not force:
        raise UserError(f"{target}: already exists (use --force to overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, text)
    return target
