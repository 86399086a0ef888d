"""Default provider constraints admit the version each Python binding was generated from, so a
user's `terraform init` picks a provider whose schema the synthesized JSON was written for.
A binding upgrade outside the default constraint fails here."""

from __future__ import annotations

import json
import re

import pytest

from adapters import get_adapter

# Terraform provider -> (binding module, provider class) whose generated version is checked.
BINDINGS = {"aws": ("cdktn_provider_aws.provider", "AwsProvider", {"region": "us-east-1"}),
            "google": ("cdktn_provider_google.provider", "GoogleProvider", {"project": "p"}),
            "azurerm": ("cdktn_provider_azurerm.provider", "AzurermProvider",
                        {"features": [{}]}),
            "azapi": ("cdktn_provider_azapi.provider", "AzapiProvider", {})}
CLOUDS = {"aws": "aws", "google": "gcp", "azurerm": "azure", "azapi": "azure"}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-")[0].split("."))


def satisfies(version: str, constraint: str) -> bool:
    """Terraform's version-constraint semantics for =, !=, >, >=, <, <= and ~>."""
    have = _version(version)
    for clause in constraint.split(","):
        match = re.fullmatch(r"\s*(=|!=|>=|<=|>|<|~>)?\s*([\d.]+)\s*", clause)
        op, want_text = match.group(1) or "=", match.group(2)
        want = _version(want_text)
        padded = want + (0,) * (len(have) - len(want))
        if op == "~>":
            upper = (*want[:-2], want[-2] + 1) if len(want) > 1 else (want[0] + 1,)
            ok = have >= padded and have[:len(upper)] < upper
        else:
            ok = {"=": have == padded, "!=": have != padded, ">": have > padded,
                  ">=": have >= padded, "<": have < padded, "<=": have <= padded}[op]
        if not ok:
            return False
    return True


@pytest.mark.parametrize(("version", "constraint", "expected"), [
    ("8.7.0", ">= 8.7, < 9.0", True), ("8.7.0", ">= 6.0, < 8.0", False),
    ("5.10.0", "~> 5.10", True), ("6.0.0", "~> 5.10", False), ("5.10.3", "~> 5.10.0", True),
    ("5.11.0", "~> 5.10.0", False), ("2.13.0", "!= 2.13.0", False)])
def test_constraint_semantics(version, constraint, expected):
    assert satisfies(version, constraint) is expected


def _generated_version(provider: str, tmp_path) -> str:
    import importlib

    from cdktn import App, TerraformStack

    module, cls, args = BINDINGS[provider]
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "s")
    getattr(importlib.import_module(module), cls)(stack, provider, **args)
    app.synth()
    doc = json.loads((tmp_path / "stacks/s/cdk.tf.json").read_text())
    return doc["terraform"]["required_providers"][provider]["version"]


@pytest.mark.parametrize("provider", list(BINDINGS))
def test_default_constraint_admits_the_binding(provider, tmp_path):
    default = get_adapter(CLOUDS[provider]).provider_versions[provider]
    generated = _generated_version(provider, tmp_path)
    assert satisfies(generated, default), (
        f"the {provider} binding is generated from {generated}, outside the default "
        f"constraint {default!r}: raise the default in adapters/{CLOUDS[provider]}/")
