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
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

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
