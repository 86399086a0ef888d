"""`terraml up/down --local`: synthesize one environment for the emulator and apply it.

Contract: `up` leaves the emulator running with the stack applied and returns the
outputs, the boto3 checks and whether a second plan was clean; `down` destroys
the stack and stops the emulator (`discard=True`: stops it and removes the local state
without Terraform, the way out for tiers with deletion protection). State lives in
`.terraml/local/ml-<env>.tfstate`. One command per environment at a time
(`.terraml/local/<env>.lock`); a second one is refused in one line.

Faults: a local deploy whose emulator died, or whose apply did not finish (interrupted
or killed: `.terraml/local/<env>.applying` is left behind, and the emulator may hold
resources the state lacks: a create in flight when Terraform stopped, or a VPC that
would be created twice), is started over on a fresh emulator by `up` (the emulator
holds nothing real); `down` refuses a dead emulator in one line, pointing at
`--discard` or `up`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from adapters import get_adapter
from adapters.base import Capability, LocalEmulator
from core.errors import UserError
from core.spec import Environment
from terraml.local import emulator as emulators
from terraml.local.lock import EnvLock, writable
from terraml.local.terraform import Terraform, prepare
from terraml.local.verify import Check, verify


@dataclass
class UpResult:
    endpoint: str
    stack_dir: Path
    outputs: dict
    checks: list[Check]
    replan_clean: bool
    replan_text: str
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _require_emulator(env: Environment) -> None:
    adapter = get_adapter(env.cloud, source=str(env.source))
    if not adapter.supports(Capability.LOCAL_EMULATOR):
        raise UserError(env.where("cloud", f"no local emulator for {env.cloud}; "
                                  "synthesize with `terraml synth` instead"))


def _state(env: Environment) -> Path:
    return emulators.STATE_DIR / f"{env.stack_name}.tfstate"


def _state_files(env: Environment) -> list[Path]:
    state = _state(env)
    return [state, state.with_name(state.name + ".backup"),
            state.with_name(f".{state.name}.lock.info"), _applying(env)]


def _applying(env: Environment) -> Path:
    """Present from the start of `terraform apply` until it finishes (not interrupted)."""
    return emulators.STATE_DIR / f"{env.name}.applying"


def _synth_local(env: Environment, emulator: emulators.Emulator, terraform: Terraform,
                 outdir: str) -> Path:
    from stacks.app import build_app

    local = LocalEmulator(endpoint=emulator.endpoint, provider_version=terraform.provider_version,
                          state_path=str(_state(env).resolve()))
    build_app([env], outdir=outdir, local=local).synth()
    return Path(outdir) / "stacks" / env.stack_name


def protected_resources(stack_dir: Path) -> list[str]:
    """Addresses of the synthesized stack's resources with `prevent_destroy`."""
    try:
        document = json.loads((stack_dir / "cdk.tf.json").read_text())
    except (OSError, ValueError):
        return []
    found = []
    for kind, items in (document.get("resource") or {}).items():
        for name, body in (items or {}).items():
            if ((body or {}).get("lifecycle") or {}).get("prevent_destroy") is True:
                found.append(f"{kind}.{name}")
    return sorted(found)


def _stale_reason(env: Environment) -> str | None:
    """Why the local state no longer describes the emulator (None if it does)."""
    state, _, lock_info, applying = _state_files(env)
    if applying.exists():
        return ("the previous apply did not finish (interrupted), so the emulator may hold "
                "resources its state lacks")
    if not state.exists():
        if emulators.find(env.name) is not None:
            return "the local state is missing while the emulator runs (it may hold resources)"
        return None
    recorded = emulators.recorded(env.name)
    if recorded is None or not recorded.alive():
        pid = f" (pid {recorded.pid})" if recorded else ""
        return f"the local emulator{pid} is no longer running, so its resources are gone"
    if lock_info.exists():
        return ("the previous terraform run was killed during apply, so the emulator may hold "
                "resources its state lacks")
    return None


def _discard_files(env: Environment) -> None:
    for path in _state_files(env):
        path.unlink(missing_ok=True)


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self._last, 1)
        self._last = now


def up(env: Environment, *, outdir: str = "cdktf.out", provider_version: str | None = None,
       progress=lambda message: None) -> UpResult:
    _require_emulator(env)
    writable(emulators.STATE_DIR)
    with EnvLock(emulators.STATE_DIR, env.name, "up") as lock:
        clock = _Clock()
        notes = []
        terraform = prepare(emulators.STATE_DIR, provider_version)
        reason = _stale_reason(env)
        if reason:
            notes.append(f"{reason}: started over on a fresh emulator")
            progress(f"{reason}: starting over on a fresh emulator")
            emulators.stop(env.name)
            _discard_files(env)
        progress("starting the local AWS emulator")
        emulator = emulators.start(env.name)
        clock.lap("emulator")
        progress(f"synthesizing {env.stack_name} for {emulator.endpoint}")
        stack_dir = _synth_local(env, emulator, terraform, outdir)
        clock.lap("synth")
        progress("terraform init")
        terraform.must(stack_dir, "init", "-input=false", "-reconfigure", "-no-color")
        clock.lap("init")
        progress("terraform apply")
        _applying(env).write_text(json.dumps({"pid": os.getpid(), "started": time.time()}))
        try:
            terraform.stream(stack_dir, "apply", "-input=false", "-auto-approve",
                             log=emulators.STATE_DIR / f"{env.name}-terraform.log",
                             progress=progress, on_start=lock.child)
        except UserError:
            _applying(env).unlink(missing_ok=True)  # failed, not interrupted: state is whole
            raise
        _applying(env).unlink(missing_ok=True)
        clock.lap("apply")
        outputs = terraform.outputs(stack_dir)
        progress("checking resources with boto3")
        checks = verify(outputs, emulator.endpoint, env.region)
        clock.lap("verify")
        progress("re-planning (expecting no changes)")
        changed, text = terraform.plan_has_changes(stack_dir)
        clock.lap("replan")
    return UpResult(emulator.endpoint, stack_dir, outputs, checks, not changed, text, notes,
                    clock.seconds)


@dataclass
class DownResult:
    deployed: bool
    discarded: bool = False


def down(env: Environment, *, outdir: str = "cdktf.out", provider_version: str | None = None,
         discard: bool = False, progress=lambda message: None) -> DownResult:
    """Destroy the local stack and stop the emulator (see the module contract)."""
    _require_emulator(env)
    state = _state(env)
    if not state.exists() and emulators.recorded(env.name) is None:
        return DownResult(deployed=False)
    writable(emulators.STATE_DIR)
    if not state.exists() and not discard:
        with EnvLock(emulators.STATE_DIR, env.name, "down"):
            emulators.stop(env.name)  # an emulator without a deployment (e.g. a failed `up`)
        return DownResult(deployed=False)
    with EnvLock(emulators.STATE_DIR, env.name, "down") as lock:
        if discard:
            progress("stopping the emulator and removing the local state")
            emulators.stop(env.name)
            _discard_files(env)
            for log in ("emulator", "terraform"):
                (emulators.STATE_DIR / f"{env.name}-{log}.log").unlink(missing_ok=True)
            return DownResult(deployed=True, discarded=True)
        reason = _stale_reason(env)
        if reason and emulators.find(env.name) is None:
            raise UserError(f"{env.stack_name}: {reason}; remove the leftover local state with "
                            f"`terraml down --env {env.name} --local --discard` (or deploy "
                            f"again with `terraml up --env {env.name} --local`)")
        terraform = prepare(emulators.STATE_DIR, provider_version)
        emulator = emulators.start(env.name)
        stack_dir = _synth_local(env, emulator, terraform, outdir)
        protected = protected_resources(stack_dir)
        if protected:
            shown = ", ".join(protected[:4]) + (f" and {len(protected) - 4} more"
                                                if len(protected) > 4 else "")
            raise UserError(
                f"{env.stack_name}: deletion protection (prevent_destroy, tier "
                f"{env.tier.value}) on {len(protected)} resources: {shown}; nothing destroyed, "
                f"the emulator keeps running. The emulator holds nothing real: "
                f"`terraml down --env {env.name} --local --discard` stops it and removes the "
                "local state")
        progress("terraform init")
        terraform.must(stack_dir, "init", "-input=false", "-reconfigure", "-no-color")
        progress("terraform destroy")
        terraform.stream(stack_dir, "destroy", "-input=false", "-auto-approve",
                         log=emulators.STATE_DIR / f"{env.name}-terraform.log",
                         progress=progress, on_start=lock.child)
        progress("stopping the emulator")
        emulators.stop(env.name)
        _discard_files(env)
    return DownResult(deployed=True)
