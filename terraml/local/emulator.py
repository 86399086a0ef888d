"""Start, find and stop a moto server on loopback, one per environment.

The server outlives `terraml up` (so `down` and the runtime commands reach the same
resources); its pid and port live in `.terraml/local/<env>.json`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import UserError

STATE_DIR = Path(".terraml/local")


@dataclass(frozen=True)
class Emulator:
    env: str
    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        """The recorded process exists and its port answers. (Whether the pid is really the
        emulator matters only before killing it: see `stop`; an in-process server, as the
        runtime tests use, counts as alive.)"""
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return _accepting(self.port)


def _record(env: str) -> Path:
    return STATE_DIR / f"{env}.json"


def _accepting(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recorded(env: str) -> Emulator | None:
    """The emulator recorded for `env`, running or not (None if there is no record)."""
    path = _record(env)
    try:
        return Emulator(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        path.unlink(missing_ok=True)
        return None


def find(env: str) -> Emulator | None:
    """The running emulator recorded for `env`, or None."""
    emulator = recorded(env)
    return emulator if emulator is not None and emulator.alive() else None


def start(env: str, timeout: float = 30.0) -> Emulator:
    """Reuse the environment's running emulator or start a new one (detached)."""
    running = find(env)
    if running:
        return running
    try:
        import moto.server  # noqa: F401 - fail early with a clear message
    except ImportError:
        raise UserError("the local emulator needs moto: pip install 'moto[server]'") from None
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    _record(env).unlink(missing_ok=True)  # a dead emulator's record
    port = _free_port()
    log = open(STATE_DIR / f"{env}-emulator.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "terraml.local.moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        # AWS-managed IAM policies (e.g. AWSBatchServiceRole) exist in every real account.
        env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"local emulator exited at start (see {log.name})")
        if _accepting(port):
            emulator = Emulator(env=env, pid=process.pid, port=port)
            _record(env).write_text(json.dumps(asdict(emulator)))
            return emulator
        time.sleep(0.2)
    process.kill()
    raise UserError(f"local emulator did not start within {timeout:.0f}s (see {log.name})")


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _is_emulator(pid: int) -> bool:
    try:
        return b"terraml.local.moto_server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the record


def stop(env: str) -> bool:
    """Stop the environment's emulator; True if one was running. The recorded process is
    stopped even when its port does not answer (busy or hung), so a fresh emulator never runs
    beside the old one."""
    emulator = recorded(env)
    _record(env).unlink(missing_ok=True)
    if emulator is None or not _exists(emulator.pid):
        return False
    if not _is_emulator(emulator.pid):
        return False  # the pid was reused by another program: leave it alone
    try:
        os.killpg(emulator.pid, signal.SIGTERM)
    except OSError:
        return False
    for _ in range(50):
        try:
            os.kill(emulator.pid, 0)
        except OSError:
            return True
        time.sleep(0.1)
    os.killpg(emulator.pid, signal.SIGKILL)
    return True
