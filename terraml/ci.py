"""`terraml ci init github|gitlab`: render the CI cost-check job from templates/ci.

The job installs terraml from the repository it checks (`pip install ".[<extras>]"`), with
the extras of the clouds the environment files use; an environment that does not load
gives `.[all]` and a warning instead of an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.errors import UserError
from stacks.app import load_environment
from terraml.files import write_atomically

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "ci"
TARGETS = {
    "github": ("github-workflow.yml.j2", Path(".github/workflows/terraml-cost.yml")),
    "gitlab": ("gitlab-ci.yml.j2", Path(".gitlab/terraml-cost.gitlab-ci.yml")),
}
MARKER = "<!-- terraml-cost-report -->"
CLOUD_EXTRAS = ("aws", "gcp", "azure")  # pyproject extras, one per cloud, in this order
# GitLab job image per Python version: a full version and Debian release, never a moving
# `python:3.x` tag (trixie's `nodejs` is 20, which the jsii runtime needs).
GITLAB_IMAGES = {"3.11": "python:3.11.14-slim-trixie"}
_SAFE_DIR = re.compile(r"[A-Za-z0-9._/-]+")
_PYTHON_VERSION = re.compile(r"3\.\d+(\.\d+)?")


@dataclass(frozen=True)
class Install:
    target: str                 # the `pip install` argument, ready for the shell
    note: str                   # one line for the rendered file's header
    warning: str | None = None  # also said on stderr: the extras were not chosen from the files


def install_for(env_dir: Path) -> Install:
    """`".[<extras>]"` for the clouds the environment files in `env_dir` use; `".[all]"`
    with a warning when there is none or one does not load (never an error)."""
    files = (sorted([*env_dir.glob("*.yaml"), *env_dir.glob("*.yml")])
             if env_dir.is_dir() else [])
    if not files:
        return _all(f"{env_dir}: no environment files (*.yaml) found")
    clouds: set[str] = set()
    for path in files:
        try:
            clouds.add(load_environment(path).cloud)
        except Exception as exc:  # noqa: BLE001 - any failure: install everything, say why
            return _all(str(exc) or f"{path}: {type(exc).__name__}")
    extras = [extra for extra in CLOUD_EXTRAS if extra in clouds]
    return Install(f'".[{",".join(extras)}]"',
                   f"clouds used in {env_dir.as_posix()}: {', '.join(extras)}")


def _all(reason: str) -> Install:
    reason = " ".join(reason.split())  # one line: it also goes into a YAML comment
    short = reason if len(reason) <= 120 else reason[:117] + "..."
    return Install('".[all]"', f"every cloud, as the clouds could not be read ({short})",
                   f"{reason}; the CI job installs terraml with every cloud's extras (.[all])")


def _warn_stderr(message: str) -> None:
    from terraml.console import err

    err.print(f"warning: {message}", markup=False, soft_wrap=True)


def _env_dir(value: str) -> str:
    path = PurePosixPath(value)
    if (not _SAFE_DIR.fullmatch(value) or path.is_absolute() or ".." in path.parts):
        raise UserError(f"--env-dir: expected a folder inside the repository (letters, digits, "
                        f"'.', '_', '-', '/'), found {value!r}")
    return path.as_posix()  # "./environments/" -> "environments"


def _explicit_install(value: str) -> Install:
    if not value.strip() or any(c in value for c in "\r\n") or "${{" in value or "$[[" in value:
        raise UserError(f"--install: expected one pip install argument line, found {value!r}")
    return Install(value, f"{value} (--install)")


def render(system: str, *, env_dir: str = "environments", python_version: str = "3.11",
           install_target: str | None = None, root: Path = Path("."),
           warn: Callable[[str], None] | None = _warn_stderr) -> str:
    """The job text. `install_target` None chooses the extras from
    the environment files under `root / env_dir`; anything else is used as written."""
    if system not in TARGETS:
        raise UserError(f"ci init: expected one of {', '.join(TARGETS)}, found {system!r}")
    env_dir = _env_dir(env_dir)
    if not _PYTHON_VERSION.fullmatch(python_version):
        raise UserError(f"python version: expected 3.N or 3.N.M, found {python_version!r}")
    if install_target is None:
        install = install_for(root / env_dir)
    else:
        install = _explicit_install(install_target)
    if install.warning and warn:
        warn(install.warning)
    image = GITLAB_IMAGES.get(python_version, f"python:{python_version}-slim-trixie")
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    return env.get_template(TARGETS[system][0]).render(
        env_dir=env_dir, python_version=python_version, install_target=install.target,
        install_note=install.note, gitlab_image=image, marker=MARKER,
        workflow_path=TARGETS["github"][1].as_posix(),
        gitlab_path=TARGETS["gitlab"][1].as_posix())


def write(system: str, root: Path, *, force: bool = False, **options) -> Path:
    """Write the rendered job under `root`; refuse to overwrite without `force`."""
    if system in TARGETS:  # an unknown system gets render's error
        target = root / TARGETS[system][1]
        if target.exists() and not force:
            raise UserError(f"{target}: already exists (use --force to overwrite)")
    text = render(system, root=root, **options)
    target = root / TARGETS[system][1]
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, text)
    return target
