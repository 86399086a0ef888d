"""One command at a time per environment's local deploy: `.terraml/local/<env>.lock`.

Contract: `EnvLock(env, command)` is a context manager taking an exclusive, non-blocking
`flock` on the lock file; if another process holds it, a one-line `UserError` names the
holder (its pid and command) and nothing else happens. The kernel drops the lock when
its holders exit, however they exit (SIGKILL included), so there is no stale lock to
clean. The lock file names the Terraform process of the holder, so a Terraform left
running by a killed `terraml up` (it saves its state on the way out) is waited for:
the next command is refused in one line until it exits.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Self

from core.errors import UserError


def writable(folder: Path) -> None:
    """Fail in one line when the local deploy cannot write its state (read-only or full)."""
    probe = folder / f".write-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"\0" * 256 * 1024)  # about a state file's size
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise UserError(f"{folder}: cannot write the local deploy's state "
                        f"({exc.strerror or exc}): free space or make it writable, then retry"
                        ) from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def _is_terraform(pid: int) -> bool:
    """Whether `pid` is a running Terraform (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return os.path.basename(command).startswith(b"terraform")


class EnvLock:
    def __init__(self, folder: Path, env: str, command: str) -> None:
        self.path = folder / f"{env}.lock"
        self.env, self.command = env, command
        self.fd: int | None = None
        self.info: dict = {}

    def __enter__(self) -> Self:
        writable(self.path.parent)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(f"{self.path}: cannot open the lock ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            raise UserError(holder) from None
        previous = self._read(fd)
        terraform = previous.get("terraform_pid")
        if isinstance(terraform, int) and _is_terraform(terraform):
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise UserError(f"{self.env}: the terraform run (pid {terraform}) of an interrupted "
                            f"`terraml {previous.get('command', 'up')}` is still saving its "
                            "state; retry when it exits")
        self.fd = fd
        self.info = {"pid": os.getpid(), "command": self.command, "started": time.time()}
        self._write()
        return self

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def child(self, pid: int) -> None:
        """Record the Terraform process that shares (inherits) the lock."""
        self.info["terraform_pid"] = pid
        self._write()

    def _write(self) -> None:
        assert self.fd is not None
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, json.dumps(self.info).encode(), 0)
        except OSError:
            pass  # the lock itself is held; its description is a courtesy

    def _holder(self, fd: int) -> str:
        info = self._read(fd)
        pid, command = info.get("pid"), info.get("command", "command")
        since = f", started {time.time() - info['started']:.0f}s ago" if "started" in info else ""
        return (f"{self.env}: another `terraml {command} --local` (pid {pid}{since}) is "
                f"working on this environment's local deploy; wait for it to finish "
                f"(lock: {self.path})")

    def release(self) -> None:
        if self.fd is not None:
            self.info.pop("terraform_pid", None)  # it has exited: we waited for it
            self._write()
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __exit__(self, *exc_info) -> None:
        self.release()
