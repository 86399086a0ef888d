"""Find terraform and a provider mirror; run init/apply/plan/destroy in a stack directory.

Mirror lookup order: `TERRAML_PROVIDER_MIRROR`; an existing `TF_CLI_CONFIG_FILE`
(used as is); well-known mirror folders. With a mirror we write a CLI config that
installs hashicorp/aws from it and nothing else from the network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from core.errors import UserError

MIRROR_CANDIDATES = ("/opt/tf-plugins", "~/.terraform.d/plugins", "/usr/share/terraform/plugins",
                     "/usr/local/share/terraform/plugins")
AWS_PROVIDER = Path("registry.terraform.io/hashicorp/aws")


@dataclass
class Terraform:
    binary: str
    environ: dict[str, str] = field(default_factory=dict)
    provider_version: str | None = None

    def run(self, workdir: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        return subprocess.run([self.binary, *args], cwd=workdir, env=env, text=True,
                              capture_output=capture, check=False)

    def stream(self, workdir: Path, command: str, *args: str, log: Path,
               progress: Callable[[str], None] = lambda message: None,
               on_start: Callable[[int], None] = lambda pid: None,
               ) -> None:
        """`terraform <command> -json ...` (apply or destroy) reporting resources done / total.

        Terraform writes to `log` (read back as it grows), never to a pipe of ours, and
        runs in its own session: a terminal's Ctrl-C reaches it once, from us. The first
        interrupt is forwarded (Terraform stops after the calls in flight and saves the
        state), a second one stops it at once. If this process is killed, Linux sends
        Terraform SIGINT (parent-death signal) and, with no pipe to break, it still saves
        the state. `on_start(pid)` records Terraform's pid (in the environment's lock).
        Raises `Interrupted` after a forwarded interrupt, `UserError` on failure.
        """
        env = {**os.environ, **self.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        try:
            writer = open(log, "w")  # noqa: SIM115 - handed to the child
        except OSError as exc:
            raise UserError(f"{log}: cannot write terraform's log ({exc.strerror})") from None
        with writer, open(log) as reader:
            process = subprocess.Popen(
                [self.binary, command, "-json", *args], cwd=workdir, env=env,
                stdout=writer, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent)  # noqa: PLW1509 - async-signal-safe: one prctl
            on_start(process.pid)
            tracker = ApplyProgress(command, progress)
            interrupts = 0
            while True:
                try:
                    _follow(process, reader, tracker.feed)
                    break
                except KeyboardInterrupt:
                    interrupts += 1
                    process.send_signal(signal.SIGINT)
                    progress("interrupted: letting terraform save the state (Ctrl-C again to "
                             "stop at once)" if interrupts == 1 else "stopping terraform at once")
        code = process.wait()
        if interrupts:
            # Terraform exits 1 after a graceful stop ("operation canceled"); one interrupt
            # means it finished the calls in flight and saved the state.
            raise Interrupted(command, tracker.done, tracker.total, interrupts == 1)
        if code != 0:
            raise UserError(f"terraform {command} failed in {workdir}: {tracker.error()} "
                            f"(log: {log})")

    def must(self, workdir: Path, *args: str) -> str:
        """Run and return stdout; `UserError` naming the step and the last error line."""
        result = self.run(workdir, *args, capture=True)
        if result.returncode != 0:
            raise UserError(f"terraform {args[0]} failed in {workdir}: {_last_error(result)}")
        return result.stdout

    def plan_has_changes(self, workdir: Path) -> tuple[bool, str]:
        result = self.run(workdir, "plan", "-input=false", "-no-color", "-detailed-exitcode",
                          "-lock=false", capture=True)
        if result.returncode == 1:
            raise UserError(f"terraform plan failed in {workdir}: {_last_error(result)}")
        return result.returncode == 2, result.stdout

    def outputs(self, workdir: Path) -> dict:
        raw = json.loads(self.must(workdir, "output", "-json", "-no-color"))
        return {name: item.get("value") for name, item in raw.items()}


def _follow(process: subprocess.Popen, reader, feed: Callable[[str], None]) -> None:
    """Feed each complete line of a growing log until the process has exited."""
    pending = ""
    while True:
        chunk = reader.readline()
        if chunk:
            pending += chunk
            if pending.endswith("\n"):
                feed(pending)
                pending = ""
            continue
        if process.poll() is not None:
            rest = pending + reader.read()
            for line in rest.splitlines():
                feed(line)
            return
        time.sleep(0.1)


class Interrupted(Exception):
    """The user interrupted apply/destroy; Terraform stopped (saving its state if `clean`)."""

    def __init__(self, command: str, done: int, total: int, clean: bool) -> None:
        super().__init__(f"terraform {command} interrupted after {done}/{total} resources")
        self.command, self.done, self.total, self.clean = command, done, total, clean


def _prctl():
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()  # resolved here: the child of a fork must not import or load libraries


def _die_with_parent() -> None:
    """In the child: receive SIGINT (Terraform's graceful stop) when the parent dies."""
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGINT))  # PR_SET_PDEATHSIG


class ApplyProgress:
    """Turn Terraform's `-json` UI stream into "apply: 12/40 resources (creating X)"."""

    VERBS: ClassVar[dict[str, str]] = {"create": "creating", "update": "updating", "delete": "destroying",
             "replace": "replacing", "read": "reading"}

    def __init__(self, command: str, progress: Callable[[str], None]) -> None:
        self.command, self.progress = command, progress
        self.total = self.done = 0
        self.planned: set[str] = set()
        self.current = ""
        self.diagnostics: list[str] = []
        self.other: list[str] = []

    def feed(self, line: str) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            if line.strip():
                self.other.append(line.strip())
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        hook = message.get("hook") or {}
        address = (hook.get("resource") or {}).get("addr", "")
        if kind == "planned_change":
            change = message.get("change") or {}
            if change.get("action") not in (None, "noop", "read"):
                self.planned.add((change.get("resource") or {}).get("addr", str(len(self.planned))))
        elif kind == "change_summary" and (message.get("changes") or {}).get("operation") == "plan":
            changes = message["changes"]
            self.total = sum(changes.get(k, 0) for k in ("add", "change", "remove")) or \
                len(self.planned)
            self._report(f"{self.command}: 0/{self.total} resources")
        elif kind == "apply_start" and hook.get("action") != "read":
            self.current = f"{self.VERBS.get(hook.get('action'), hook.get('action'))} {address}"
            self._report()
        elif kind in ("apply_complete", "apply_errored") and hook.get("action") != "read":
            self.done += 1
            self._report()
        elif kind == "diagnostic":
            diagnostic = message.get("diagnostic") or {}
            if diagnostic.get("severity") == "error":
                detail = (diagnostic.get("detail") or "").strip().splitlines()
                where = (diagnostic.get("address") or "")
                self.diagnostics.append(" ".join(filter(None, (
                    f"Error: {diagnostic.get('summary', '').strip()}",
                    f"({where})" if where else "", detail[0] if detail else ""))))

    def _report(self, text: str | None = None) -> None:
        total = max(self.total, self.done)
        self.progress(text or f"{self.command}: {self.done}/{total} resources"
                      + (f" ({self.current})" if self.current and self.done < total else ""))

    def error(self) -> str:
        if self.diagnostics:
            return self.diagnostics[0]
        return next((ln for ln in reversed(self.other) if ln), "no output")


def _last_error(result: subprocess.CompletedProcess) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", (result.stderr or "") + (result.stdout or ""))
    lines = [ln.strip(" │╷╵") for ln in text.splitlines()]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    picked = errors[0] if errors else next((ln for ln in reversed(lines) if ln), "no output")
    index = lines.index(picked)
    detail = next((ln for ln in lines[index + 1:index + 6] if ln and not ln.startswith("with ")),
                  "")
    return f"{picked} {detail}".strip()


def find_terraform() -> str:
    binary = os.environ.get("TERRAML_TERRAFORM") or shutil.which("terraform")
    if not binary or not Path(binary).exists():
        raise UserError("terraform not found on PATH: install Terraform >= 1.10 "
                        "(or set TERRAML_TERRAFORM to its path)")
    return binary


def mirror_versions(mirror: Path) -> list[str]:
    folder = mirror / AWS_PROVIDER
    if not folder.is_dir():
        return []
    versions = [p.name for p in folder.iterdir() if re.fullmatch(r"\d+\.\d+\.\d+", p.name)]
    return sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


def find_mirror() -> Path | None:
    explicit = os.environ.get("TERRAML_PROVIDER_MIRROR")
    if explicit:
        path = Path(explicit).expanduser()
        if not mirror_versions(path):
            raise UserError(f"TERRAML_PROVIDER_MIRROR={explicit}: no hashicorp/aws provider found "
                            f"under {path / AWS_PROVIDER}")
        return path
    for candidate in MIRROR_CANDIDATES:
        path = Path(candidate).expanduser()
        if mirror_versions(path):
            return path
    return None


def prepare(config_dir: Path, provider_version: str | None) -> Terraform:
    """Terraform with a CLI config that can install the AWS provider offline when possible."""
    terraform = Terraform(binary=find_terraform(), provider_version=provider_version)
    user_config = os.environ.get("TF_CLI_CONFIG_FILE")
    mirror = find_mirror()
    user_config_ok = bool(user_config) and Path(user_config).is_file()
    if mirror is not None and (os.environ.get("TERRAML_PROVIDER_MIRROR") or not user_config_ok):
        config_dir.mkdir(parents=True, exist_ok=True)
        rc = config_dir / "terraformrc"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
        )
        terraform.environ["TF_CLI_CONFIG_FILE"] = str(rc.resolve())
        if provider_version is None:
            terraform.provider_version = mirror_versions(mirror)[-1]
    elif user_config and not Path(user_config).is_file():
        # A dangling TF_CLI_CONFIG_FILE only produces warnings; drop it.
        terraform.environ["TF_CLI_CONFIG_FILE"] = ""
    return terraform
