"""The shipped dev.yaml, with only cloud, region and ids swapped, gives the same platform on
all three clouds: every capability present, checkov clean, fully priced."""

from __future__ import annotations

import pytest

from core.outputs import NEUTRAL_OUTPUTS
from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from stacks.app import build_app, load_environment
from tests.conftest import ROOT

IDS = {"aws": ("us-east-1", ""),
       "gcp": ("us-central1", ("project_id: terraml-dev-123\n"
                              "billing_account: 012345-ABCDEF-678901\n")),
       "azure": ("eastus", ("subscription_id: 00000000-0000-0000-0000-000000000000\n"
                           "entra_object_ids: {alice: 11111111-1111-1111-1111-111111111111}\n"))}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    out = tmp_path_factory.mktemp("three-clouds")
    envs = []
    for cloud, (region, ids) in IDS.items():
        text = (ROOT / "environments/dev.yaml").read_text()
        text = text.replace("cloud: aws", f"cloud: {cloud}").replace(
            "region: us-east-1", f"region: {region}").replace("name: dev", f"name: dev-{cloud}")
        path = out / f"dev-{cloud}.yaml"
        path.write_text(text + "tier: dev\n" + ids)  # the name changes; keep the dev tier
        envs.append(load_environment(path))
    build_app(envs, outdir=str(out / "cdktf.out")).synth()
    return out / "cdktf.out"


@pytest.mark.parametrize("cloud", list(IDS))
def test_every_capability_on_every_cloud(synthesized, cloud):
    import json

    doc = json.loads((synthesized / f"stacks/ml-dev-{cloud}/cdk.tf.json").read_text())
    outputs = doc["output"]
    for layer, names in NEUTRAL_OUTPUTS.items():
        for name in names:
            assert name in outputs, f"{cloud}: {layer} output {name} missing"
    assert outputs["serving_mode"]["value"] == "serverless"
    assert outputs["training_spot"]["value"] is True


def test_all_three_are_priced_with_nothing_unexplained(synthesized):
    """No resource type without a pricer; what has no catalog figure states its reason."""
    catalog = load_catalog()
    for project in load_projects(synthesized):
        cost = estimate(project, catalog)
        assert cost.unsupported == {}, (project.name, cost.unsupported)
        assert all(r.unpriced_reason for r in cost.unpriced)  # each one says why
        assert cost.monthly > 0


def test_checkov_clean_on_gcp_and_azure(synthesized):
    import os
    import shutil
    from pathlib import Path

    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov")
    if not checkov or not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    failures, _suppressed, summary = gate(checkov, synthesized)
    assert summary.get("parsing_errors") == 0
    assert failures == [], "\n".join(failures)
