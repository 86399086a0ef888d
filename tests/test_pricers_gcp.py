"""GCP pricers: hand-computed figures from cost/catalog/gcp.csv rows, through the CLI and
through `estimate`; every registered GCP type survives `${...}` attributes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from cost.pricers import PRICERS, load_all
from tests.conftest import run_cli

PROVIDER = {"provider_config": {"google": {
    "name": "google", "expressions": {"region": {"constant_value": "us-central1"}}}}}


def _plan(tmp_path: Path, resources: dict[str, tuple[str, dict]]) -> Path:
    items = [{"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
              "values": values} for name, (rtype, values) in resources.items()]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format_version": "1.2",
                                "planned_values": {"root_module": {"resources": items}},
                                "configuration": PROVIDER}))
    return path


def _price(tmp_path: Path, resources: dict, usage: dict | None = None) -> dict:
    project = load_projects(_plan(tmp_path, resources))[0]
    cost = estimate(project, load_catalog(), {"resource_usage": usage or {}})
    return {r.address.split(".", 1)[1]: r for r in cost.resources}


def test_bucket_prices_class_and_location(tmp_path):
    costs = _price(tmp_path, {
        "std": ("google_storage_bucket", {"location": "US-CENTRAL1"}),
        "cold": ("google_storage_bucket", {"location": "europe-west4",
                                           "storage_class": "COLDLINE"}),
        "eu": ("google_storage_bucket", {"location": "EU"}),
        "asia": ("google_storage_bucket", {"location": "ASIA", "storage_class": "COLDLINE"}),
        "dual": ("google_storage_bucket", {"location": "NAM4"}),
        "legacy": ("google_storage_bucket", {"location": "US", "storage_class": "MULTI_REGIONAL"}),
    }, {"google_storage_bucket.std": {"storage_gb": 100},
        "google_storage_bucket.cold": {"storage_gb": 1000},
        "google_storage_bucket.eu": {"storage_gb": 150, "monthly_class_a_operations": 40_000,
                                     "monthly_class_b_operations": 20_000}})
    # Standard regional us-central1: 0.02 x 100
    assert costs["std"].monthly == pytest.approx(0.02 * 100)
    # Coldline regional europe-west4: 0.004 x 1000
    assert costs["cold"].monthly == pytest.approx(0.004 * 1000)
    # EU multi-region Standard: 0.026 x 150 + 0.05 x 4 (10k class A) + 0.004 x 2 (10k class B)
    assert costs["eu"].monthly == pytest.approx(0.026 * 150 + 0.05 * 4 + 0.004 * 2)
    for name in ("asia", "dual", "legacy"):
        assert costs[name].unpriced_reason, name
    assert "dual-region" in costs["dual"].unpriced_reason
    assert "COLDLINE" in costs["asia"].unpriced_reason


def test_kms_protection_levels_and_rotation(tmp_path):
    costs = _price(tmp_path, {
        "soft": ("google_kms_crypto_key", {"rotation_period": "7776000s"}),
        "hsm": ("google_kms_crypto_key", {"version_template": [{"protection_level": "HSM"}]}),
        "rsa": ("google_kms_crypto_key", {"purpose": "ASYMMETRIC_SIGN", "version_template": {
            "protection_level": "HSM", "algorithm": "RSA_SIGN_PSS_4096_SHA512"}}),
        "ext": ("google_kms_crypto_key", {"version_template": {"protection_level": "EXTERNAL"}}),
        "vpc": ("google_kms_crypto_key", {"version_template": {
            "protection_level": "EXTERNAL_VPC"}}),
        "pinned": ("google_kms_crypto_key", {"rotation_period": "86400s"}),
    }, {"google_kms_crypto_key.hsm": {"monthly_key_operations": 100_000},
        "google_kms_crypto_key.pinned": {"key_versions": 3}})
    # 90-day rotation: 1 + 365 // 90 = 5 versions x 0.06
    assert costs["soft"].monthly == pytest.approx(5 * 0.06)
    assert "first 365 days" in costs["soft"].components[0].note
    # HSM symmetric: 1 version x 1.00 + 10 x 10k operations x 0.03
    assert costs["hsm"].monthly == pytest.approx(1.0 + 10 * 0.03)
    # HSM RSA-4096: 2.50 per version
    assert costs["rsa"].monthly == pytest.approx(2.5)
    assert "EXTERNAL" in costs["ext"].unpriced_reason
    assert "EXTERNAL_VPC" in costs["vpc"].unpriced_reason
    # usage key_versions overrides the daily rotation: 3 x 0.06
    assert costs["pinned"].monthly == pytest.approx(3 * 0.06)


def test_address_nat_bigquery_registry_alerts(tmp_path):
    costs = _price(tmp_path, {
        "ext": ("google_compute_address", {"region": "us-central1"}),
        "used": ("google_compute_address", {"region": "us-central1"}),
        "internal": ("google_compute_address", {"address_type": "INTERNAL"}),
        "peering": ("google_compute_global_address", {"purpose": "VPC_PEERING",
                                                      "address_type": "INTERNAL"}),
        "nat": ("google_compute_router_nat", {"region": "us-central1"}),
        "logical": ("google_bigquery_dataset", {"location": "us-central1"}),
        "physical": ("google_bigquery_dataset", {"location": "us-central1",
                                                 "storage_billing_model": "PHYSICAL"}),
        "repo": ("google_artifact_registry_repository", {"location": "us-central1"}),
        "virtual": ("google_artifact_registry_repository", {"mode": "VIRTUAL_REPOSITORY"}),
        "alert": ("google_monitoring_alert_policy", {"conditions": [{}, {}]}),
        "subnet": ("google_compute_subnetwork", {"log_config": [{"flow_sampling": 0.5}]}),
        "plain": ("google_compute_subnetwork", {}),
    }, {"google_compute_address.used": {"in_use_by": "standard"},
        "google_compute_router_nat.nat": {"assigned_vms": 4, "monthly_data_processed_gb": 100},
        "google_bigquery_dataset.logical": {"storage_gb": 100, "long_term_storage_gb": 50,
                                            "monthly_queries_tb": 2},
        "google_bigquery_dataset.physical": {"storage_gb": 100},
        "google_artifact_registry_repository.repo": {"storage_gb": 10.5}})
    assert costs["ext"].monthly == pytest.approx(0.01 * 730)  # unused static IPv4
    assert costs["used"].monthly == pytest.approx(0.005 * 730)  # in use by a standard VM
    assert costs["internal"].free and costs["peering"].free and costs["plain"].free
    # 4 VMs x 0.0014 x 730 + 100 GB x 0.045
    assert costs["nat"].monthly == pytest.approx(4 * 0.0014 * 730 + 100 * 0.045)
    # logical: 100 x 0.02 + 50 x 0.01 + 2 TB x 6.25; physical: 100 x 0.04
    assert costs["logical"].monthly == pytest.approx(100 * 0.02 + 50 * 0.01 + 2 * 6.25)
    assert costs["physical"].monthly == pytest.approx(100 * 0.04)
    # the account-level 0.5 GB free tier is not subtracted per repository
    assert costs["repo"].monthly == pytest.approx(10.5 * 0.1)
    assert costs["virtual"].free
    assert costs["alert"].monthly == pytest.approx(2 * 1.5)  # 2 conditions x 1.50
    assert "Flow Logs" in costs["subnet"].unpriced_reason


def test_cli_prices_a_gcp_plan(tmp_path):
    path = _plan(tmp_path, {"b": ("google_storage_bucket", {"location": "us-central1",
                                                            "storage_class": "ARCHIVE"})})
    usage = tmp_path / "usage.yml"
    usage.write_text("version: 0.1\nresource_usage:\n  google_storage_bucket.b:\n"
                     "    storage_gb: 1000\n")
    result = run_cli("cost", str(path), "-f", "json", "--usage-file", str(usage))
    assert result.returncode == 0, result.stderr
    # Archive regional us-central1: 0.0012 x 1000
    assert float(json.loads(result.stdout)["totalMonthlyCost"]) == pytest.approx(1.2)


def test_every_gcp_type_survives_expressions(tmp_path):
    load_all()
    expr = "${var.x}"
    values = {"location": expr, "region": expr, "storage_class": expr, "rotation_period": expr,
              "version_template": {"protection_level": expr, "algorithm": expr},
              "mode": expr, "address_type": expr, "purpose": expr, "conditions": expr,
              "storage_billing_model": expr, "log_config": expr}
    types = [t for t in PRICERS if t.startswith("google_")]
    assert "google_vertex_ai_endpoint" in types  # registered by serving.py, priced too
    costs = _price(tmp_path, {f"r{i}": (t, dict(values)) for i, t in enumerate(types)})
    assert len(costs) == len(types)
    for cost in costs.values():  # each pricer handled the expressions itself
        assert cost.free or cost.components or cost.unpriced_reason, cost.address
        assert not cost.unpriced_reason.startswith("cannot read its attributes"), cost
