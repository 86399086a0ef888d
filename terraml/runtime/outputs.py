"""Find and read a deployed environment's stack outputs.

Contract: `load_outputs(env, ...)` returns `StackOutputs` from, in order, an explicit
`--outputs` file (`terraform output -json`, or a flat name -> value map), the local
deploy's state (`terraml up --local`, with its emulator endpoint), or
`terraform output -json` in the synthesized stack folder after `cdktf deploy`.
Anything missing or foreign is a one-line `UserError`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.outputs import StackOutputs
from core.spec import Environment
from terraml.local import emulator as emulators


def _flatten(raw: Any, source: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a JSON object of outputs "
                        "(`terraform output -json`), found " + type(raw).__name__)
    return {name: value["value"] if isinstance(value, dict) and "value" in value else value
            for name, value in raw.items()}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"{path}: cannot read stack outputs: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"{path}:{getattr(exc, 'lineno', 1)}: expected JSON "
                        f"(`terraform output -json`): {exc}") from None


def _check(env: Environment, outputs: StackOutputs) -> StackOutputs:
    for name, expected in (("environment", env.name), ("cloud", env.cloud)):
        found = outputs.get(name)
        if found is not None and found != expected:
            raise UserError(f"{outputs.source}: output {name!r} is {found!r}, expected "
                            f"{expected!r} (outputs of another environment?)")
    return outputs


def _terraform_outputs(stack_dir: Path) -> dict[str, Any]:
    terraform = shutil.which("terraform")
    if terraform is None:
        raise UserError(f"{stack_dir}: reading deployed outputs needs terraform on PATH "
                        "(or pass --outputs FILE from `terraform output -json`)")
    done = subprocess.run([terraform, "output", "-json", "-no-color"], cwd=stack_dir,
                          capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        error = next((line for line in lines if line.startswith("Error:")), lines[-1:] or [""])
        raise UserError(f"{stack_dir}: terraform output failed: {''.join(error) or 'no reason'}"
                        " (or pass --outputs FILE from `terraform output -json`)")
    return _flatten(json.loads(done.stdout or "{}"), str(stack_dir))


def load_outputs(env: Environment, outputs_file: Path | None = None,
                 outdir: str = "cdktf.out") -> StackOutputs:
    """The environment's deployed outputs (see the module contract for the search order)."""
    if outputs_file is not None:
        values = _flatten(_read_json(outputs_file), str(outputs_file))
        return _check(env, StackOutputs(values, str(outputs_file)))
    state = emulators.STATE_DIR / f"{env.stack_name}.tfstate"
    if state.is_file():
        emulator = emulators.find(env.name)
        if emulator is None:
            raise UserError(f"{state}: the local deploy of '{env.name}' has no running "
                            f"emulator: run `terraml up --env {env.name} --local` again")
        values = _flatten(_read_json(state).get("outputs", {}), str(state))
        if not values:
            raise UserError(f"{state}: no outputs in the local state: run "
                            f"`terraml up --env {env.name} --local`")
        return _check(env, StackOutputs(values, str(state), endpoint=emulator.endpoint))
    stack_dir = Path(outdir) / "stacks" / env.stack_name
    if (stack_dir / ".terraform").is_dir():
        values = _terraform_outputs(stack_dir)
        if values:
            return _check(env, StackOutputs(values, str(stack_dir)))
    raise UserError(f"{env.stack_name}: no deployed stack outputs found: deploy with "
                    f"`cdktf deploy {env.stack_name}` (or `terraml up --env {env.name} --local`),"
                    " or pass --outputs FILE from `terraform output -json`")
