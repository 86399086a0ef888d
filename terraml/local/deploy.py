"""`terraml up/down --local`: synthesize one environment for the emulator and apply it.

Contract: `up` leaves the emulator running with the stack applied and returns the
outputs, the boto3 checks and whether a second plan was clean; `down` destroys
the stack and stops the emulator. State lives in `.terraml/local/ml-<env>.tfstate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters import get_adapter
from adapters.base import Capability, LocalEmulator
from core.errors import UserError
from core.spec import Environment
from terraml.local import emulator as emulators
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


def _require_emulator(env: Environment) -> None:
    adapter = get_adapter(env.cloud, source=str(env.source))
    if not adapter.supports(Capability.LOCAL_EMULATOR):
        raise UserError(env.where("cloud", f"no local emulator for {env.cloud}; "
                                  "synthesize with `terraml synth` instead"))


def _synth_local(env: Environment, emulator: emulators.Emulator, terraform: Terraform,
                 outdir: str) -> Path:
    from stacks.app import build_app

    state = (emulators.STATE_DIR / f"{env.stack_name}.tfstate").resolve()
    local = LocalEmulator(endpoint=emulator.endpoint, provider_version=terraform.provider_version,
                          state_path=str(state))
    build_app([env], outdir=outdir, local=local).synth()
    return Path(outdir) / "stacks" / env.stack_name


def up(env: Environment, *, outdir: str = "cdktf.out", provider_version: str | None = None,
       progress=lambda message: None) -> UpResult:
    _require_emulator(env)
    terraform = prepare(emulators.STATE_DIR, provider_version)
    progress("starting the local AWS emulator")
    emulator = emulators.start(env.name)
    progress(f"synthesizing {env.stack_name} for {emulator.endpoint}")
    stack_dir = _synth_local(env, emulator, terraform, outdir)
    progress("terraform init")
    terraform.must(stack_dir, "init", "-input=false", "-reconfigure", "-no-color")
    progress("terraform apply")
    terraform.must(stack_dir, "apply", "-input=false", "-auto-approve", "-no-color")
    outputs = terraform.outputs(stack_dir)
    progress("checking resources with boto3")
    checks = verify(outputs, emulator.endpoint, env.region)
    progress("re-planning (expecting no changes)")
    changed, text = terraform.plan_has_changes(stack_dir)
    return UpResult(emulator.endpoint, stack_dir, outputs, checks, not changed, text)


def down(env: Environment, *, outdir: str = "cdktf.out", provider_version: str | None = None,
         progress=lambda message: None) -> bool:
    """Destroy the local stack and stop the emulator; False if nothing was deployed."""
    _require_emulator(env)
    state = emulators.STATE_DIR / f"{env.stack_name}.tfstate"
    if not state.exists() and emulators.find(env.name) is None:
        return False
    terraform = prepare(emulators.STATE_DIR, provider_version)
    emulator = emulators.start(env.name)
    try:
        stack_dir = _synth_local(env, emulator, terraform, outdir)
        progress("terraform init")
        terraform.must(stack_dir, "init", "-input=false", "-reconfigure", "-no-color")
        progress("terraform destroy")
        terraform.must(stack_dir, "destroy", "-input=false", "-auto-approve", "-no-color")
    finally:
        progress("stopping the emulator")
        emulators.stop(env.name)
    for leftover in (state, state.with_name(state.name + ".backup")):
        leftover.unlink(missing_ok=True)
    return True
