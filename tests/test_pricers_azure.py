"""Azure pricers: hand-computed figures from cost/catalog/azure.csv rows, through the CLI
and through `estimate`; every registered azurerm type survives `${...}` expressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from cost.pricers import FREE_TYPES, PRICERS, load_all
from tests.conftest import run_cli


def _plan(tmp_path: Path, resources: dict[str, tuple[str, dict]], name: str = "plan.json"
          ) -> Path:
    """A `terraform show -json` plan holding `address -> (type, values)`."""
    items = [{"address": address, "mode": "managed", "type": rtype,
              "name": address.rsplit(".", 1)[-1], "values": values}
             for address, (rtype, values) in resources.items()]
    path = tmp_path / name
    path.write_text(json.dumps({"format_version": "1.2",
                                "planned_values": {"root_module": {"resources": items}}}))
    return path


def _costs(path: Path, usage: dict | None = None) -> dict:
    project = load_projects(path)[0]
    cost = estimate(project, load_catalog(), {"resource_usage": usage or {}})
    return {r.address: r for r in cost.resources}


EU = {"location": "westeurope"}
US = {"location": "eastus"}


def test_cli_prices_ml_compute_nat_ip_and_registry(tmp_path):
    path = _plan(tmp_path, {
        "azurerm_machine_learning_compute_cluster.a100": (
            "azurerm_machine_learning_compute_cluster",
            {**US, "vm_size": "Standard_NC24ads_A100_v4", "vm_priority": "Dedicated",
             "scale_settings": [{"min_node_count": 2, "max_node_count": 4}]}),
        "azurerm_machine_learning_compute_instance.dev": (
            "azurerm_machine_learning_compute_instance",
            {**EU, "virtual_machine_size": "Standard_D8s_v3"}),
        "azurerm_nat_gateway.nat": ("azurerm_nat_gateway", {**EU, "sku_name": "Standard"}),
        "azurerm_public_ip.ip": ("azurerm_public_ip", {**US, "sku": "Standard",
                                                       "allocation_method": "Static"}),
        "azurerm_container_registry.acr": (
            "azurerm_container_registry",
            {**EU, "sku": "Premium", "georeplications": [{"location": "eastus"},
                                                         {"location": "northeurope"}]}),
    })
    result = run_cli("cost", str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
    resources = {r["name"]: r for r in
                 json.loads(result.stdout)["projects"][0]["breakdown"]["resources"]}
    # 2 always-on NC24ads_A100_v4, eastus pay-as-you-go 3.673/h: 3.673 x 730 x 2
    assert float(resources["azurerm_machine_learning_compute_cluster.a100"]["monthlyCost"]) == \
        pytest.approx(3.673 * 730 * 2)
    # D8s_v3 westeurope: 350.40 / 730 = 0.48/h x 730, plus its P10 OS disk at the only sourced
    # (eastus) rate
    instance = resources["azurerm_machine_learning_compute_instance.dev"]
    assert float(instance["monthlyCost"]) == pytest.approx(0.48 * 730 + 19.71)
    # NAT westeurope: 0.045 x 730 h, data processed usage-based
    assert float(resources["azurerm_nat_gateway.nat"]["monthlyCost"]) == \
        pytest.approx(0.045 * 730)
    # Standard static regional IPv4 eastus: 0.005 x 730
    assert float(resources["azurerm_public_ip.ip"]["monthlyCost"]) == pytest.approx(0.005 * 730)
    # Premium westeurope 1.666667/day x 30, plus 2 replicas x 30 days at the same rate
    assert float(resources["azurerm_container_registry.acr"]["monthlyCost"]) == \
        pytest.approx(1.666667 * 30 * 3)


def test_low_priority_and_expression_min_nodes(tmp_path):
    path = _plan(tmp_path, {
        "azurerm_machine_learning_compute_cluster.lp": (
            "azurerm_machine_learning_compute_cluster",
            {**EU, "vm_size": "Standard_NC24ads_A100_v4", "vm_priority": "LowPriority",
             "scale_settings": {"min_node_count": "${each.value.min_node_count}"}}),
        "azurerm_machine_learning_compute_cluster.lp_us": (
            "azurerm_machine_learning_compute_cluster",
            {**US, "vm_size": "Standard_D4s_v3", "vm_priority": "LowPriority",
             "scale_settings": {"min_node_count": 1}}),
    })
    costs = _costs(path, {"azurerm_machine_learning_compute_cluster.lp":
                          {"monthly_node_hours": 10}})
    lp = costs["azurerm_machine_learning_compute_cluster.lp"]
    # expression min count priced as 0 nodes; 10 job hours x 0.955 (westeurope low-priority)
    assert lp.monthly == pytest.approx(0.955 * 10)
    assert "priced as 0" in lp.components[0].note
    # no eastus low-priority figure: never the spot or dedicated rate, but the low-priority
    # rate of the region that has one (westeurope D4s_v3 low-priority), flagged as a fallback
    lp_us = costs["azurerm_machine_learning_compute_cluster.lp_us"]
    assert not lp_us.unpriced_reason
    assert lp_us.components[0].fallback_region == "westeurope"
    assert "priced at westeurope rate" in lp_us.components[0].note


def test_storage_account_dimensions(tmp_path):
    base = {"account_tier": "Standard", "account_kind": "StorageV2"}
    path = _plan(tmp_path, {
        "azurerm_storage_account.hot_lrs": ("azurerm_storage_account",
                                            {**US, **base, "account_replication_type": "LRS"}),
        "azurerm_storage_account.hot_grs": ("azurerm_storage_account",
                                            {**EU, **base, "account_replication_type": "GRS"}),
        "azurerm_storage_account.cool": ("azurerm_storage_account",
                                         {**US, **base, "account_replication_type": "LRS",
                                          "access_tier": "Cool"}),
        "azurerm_storage_account.adls": ("azurerm_storage_account",
                                         {**US, **base, "account_replication_type": "ZRS",
                                          "is_hns_enabled": True}),
        "azurerm_storage_account.premium_v2": ("azurerm_storage_account",
                                               {**US, **base, "account_tier": "Premium",
                                                "account_replication_type": "LRS"}),
        "azurerm_storage_account.files": ("azurerm_storage_account",
                                          {**US, **base, "account_kind": "FileStorage",
                                           "account_replication_type": "LRS"}),
    })
    costs = _costs(path, {
        "azurerm_storage_account.hot_lrs": {"storage_gb": 1000},
        "azurerm_storage_account.hot_grs": {"storage_gb": 100, "monthly_write_operations": 50_000,
                                            "monthly_read_operations": 1_000_000},
    })
    # Hot LRS eastus 0.0184/GB x 1000
    assert costs["azurerm_storage_account.hot_lrs"].monthly == pytest.approx(0.0184 * 1000)
    # Hot GRS westeurope: 0.0392 x 100 GB + 0.11 x 5 (10k writes) + 0.0043 x 100 (10k reads)
    assert costs["azurerm_storage_account.hot_grs"].monthly == pytest.approx(
        0.0392 * 100 + 0.11 * 5 + 0.0043 * 100)
    # never priced as Hot LRS: combinations without a row are unpriced, naming the dimension
    assert "Cool LRS" in costs["azurerm_storage_account.cool"].unpriced_reason
    assert "adls-gen2" in costs["azurerm_storage_account.adls"].unpriced_reason
    assert "page blobs" in costs["azurerm_storage_account.premium_v2"].unpriced_reason
    assert "azure-files" in costs["azurerm_storage_account.files"].unpriced_reason


def test_key_vault_keys_alerts_action_groups_and_logs(tmp_path):
    path = _plan(tmp_path, {
        "azurerm_key_vault.kv": ("azurerm_key_vault", {**US, "sku_name": "premium"}),
        "azurerm_key_vault_key.soft": ("azurerm_key_vault_key",
                                       {"key_type": "RSA", "key_size": 2048}),
        "azurerm_key_vault_key.ec": ("azurerm_key_vault_key", {"key_type": "EC"}),
        "azurerm_key_vault_key.hsm": ("azurerm_key_vault_key",
                                      {"key_type": "RSA-HSM", "key_size": 2048}),
        "azurerm_key_vault_key.ec_hsm": ("azurerm_key_vault_key", {"key_type": "EC-HSM"}),
        "azurerm_monitor_metric_alert.multi": (
            "azurerm_monitor_metric_alert",
            {"scopes": ["/a", "/b"],
             "criteria": [{"dimension": [{"values": ["X"]}, {"values": ["Y"]}]}],
             "dynamic_criteria": [{"dimension": [{"values": ["A"]}]}]}),
        "azurerm_monitor_metric_alert.off": ("azurerm_monitor_metric_alert",
                                             {"enabled": False, "scopes": ["/a"]}),
        "azurerm_monitor_action_group.ag": (
            "azurerm_monitor_action_group",
            {"location": "global", "email_receiver": [{"email_address": "a@x"},
                                                      {"email_address": "b@x"}],
             "webhook_receiver": [{"service_uri": "https://h"}],
             "sms_receiver": [{"country_code": "1", "phone_number": "5550100"}]}),
        "azurerm_log_analytics_workspace.reserved": (
            "azurerm_log_analytics_workspace",
            {**EU, "sku": "CapacityReservation", "reservation_capacity_in_gb_per_day": 100,
             "retention_in_days": 90}),
        "azurerm_log_analytics_workspace.big_tier": (
            "azurerm_log_analytics_workspace",
            {**EU, "sku": "CapacityReservation", "reservation_capacity_in_gb_per_day": 500}),
        "azurerm_application_insights.ws": ("azurerm_application_insights",
                                            {**US, "workspace_id": "${azurerm_log.id}"}),
        "azurerm_application_insights.classic": ("azurerm_application_insights",
                                                 {**US, "retention_in_days": 120}),
    })
    costs = _costs(path, {
        "azurerm_key_vault.kv": {"monthly_secrets_operations": 100_000},
        "azurerm_key_vault_key.soft": {"monthly_protected_keys_operations": 20_000},
        "azurerm_key_vault_key.ec": {"monthly_protected_keys_operations": 20_000},
        "azurerm_key_vault_key.hsm": {"monthly_protected_keys_operations": 10_000},
        "azurerm_monitor_action_group.ag": {"email_notifications": 1000,
                                            "web_hook_notifications": 500,
                                            "sms_notifications": 100},
        "azurerm_log_analytics_workspace.reserved": {
            "monthly_additional_log_data_retention_gb": 50},
        "azurerm_application_insights.classic": {"monthly_data_ingested_gb": 10},
    })
    assert costs["azurerm_key_vault.kv"].monthly == pytest.approx(0.03 * 10)  # 10 x 10k ops
    assert costs["azurerm_key_vault_key.soft"].monthly == pytest.approx(0.03 * 2)
    assert costs["azurerm_key_vault_key.ec"].monthly == pytest.approx(0.15 * 2)
    # 1 RSA-HSM 2048 key x 1.00/month + 1 x 10k HSM operations x 0.15
    assert costs["azurerm_key_vault_key.hsm"].monthly == pytest.approx(1.0 + 0.15)
    # EC-HSM: advanced key, first-250 tier 5.00/month; operations usage-based
    assert costs["azurerm_key_vault_key.ec_hsm"].monthly == pytest.approx(5.0)
    # 2 scopes x (1 static criterion with 2 dimension values + 1 dynamic with 1) = 6 series
    # at 0.10, plus 2 scopes x 1 dynamic series at 0.10 for dynamic thresholds
    assert costs["azurerm_monitor_metric_alert.multi"].monthly == pytest.approx(
        0.1 * 6 + 0.1 * 2)
    assert costs["azurerm_monitor_metric_alert.off"].free
    # per receiver: 2 x 1000 emails x 0.00002 + 1 x 500 webhooks x 0.000006
    # + 1 x 100 US SMS x 0.00645 (location global: priced at the eastus rows, flagged)
    group = costs["azurerm_monitor_action_group.ag"]
    assert group.monthly == pytest.approx(2 * 1000 * 0.00002 + 500 * 0.000006 + 100 * 0.00645)
    assert "priced at eastus rate" in group.components[0].note
    # 100 GB/day commitment tier westeurope 252.84/day x 30 + 50 GB retained x 0.13
    assert costs["azurerm_log_analytics_workspace.reserved"].monthly == pytest.approx(
        252.84 * 30 + 0.13 * 50)
    assert "500 GB/day" in costs["azurerm_log_analytics_workspace.big_tier"].unpriced_reason
    assert costs["azurerm_application_insights.ws"].monthly == 0
    # classic: 10 GB x 2.30 + retention beyond 90 days 10 GB x 0.10
    assert costs["azurerm_application_insights.classic"].monthly == pytest.approx(
        2.3 * 10 + 0.1 * 10)


def test_billable_types_are_not_free():
    load_all()
    for rtype in ("azurerm_key_vault_key", "azurerm_monitor_metric_alert",
                  "azurerm_monitor_action_group", "azurerm_nat_gateway", "azurerm_public_ip"):
        assert rtype in PRICERS and rtype not in FREE_TYPES
    assert "azapi_resource" not in {t for t, f in PRICERS.items()
                                    if f.__module__.startswith("cost.pricers.azure.")}


EXPR = "${var.x}"


def _expression_values() -> dict:
    """Every attribute the Azure pricers read, written as an expression (blocks too)."""
    block = {"min_node_count": EXPR, "dimension": [{"values": EXPR}], "country_code": EXPR,
             "location": EXPR, "aad_auth": EXPR}
    values = {name: EXPR for name in (
        "location", "vm_size", "vm_priority", "virtual_machine_size", "account_kind",
        "account_tier", "account_replication_type", "access_tier", "is_hns_enabled", "sku",
        "sku_name", "georeplication_locations", "key_type", "key_size", "scopes", "enabled",
        "reservation_capacity_in_gb_per_day", "retention_in_days", "workspace_id",
        "allocation_method", "sku_tier", "ip_version")}
    for name in ("scale_settings", "georeplications", "criteria", "dynamic_criteria",
                 "email_receiver", "webhook_receiver", "sms_receiver", "voice_receiver",
                 "azure_app_push_receiver", "itsm_receiver"):
        values[name] = [block]
    return values


def test_every_azure_type_survives_expressions(tmp_path):
    load_all()
    types = sorted(t for t, f in PRICERS.items() if f.__module__.startswith("cost.pricers.azure."))
    assert len(types) >= 12
    path = _plan(tmp_path, {f"{t}.x": (t, _expression_values()) for t in types})
    costs = _costs(path, {f"{t}.x": {"storage_gb": 10} for t in types})
    for rtype in types:
        cost = costs[f"{rtype}.x"]
        assert cost.unpriced_reason or cost.components or cost.free, rtype
        # the pricer itself handled the expression (not the estimate's safety net)
        assert not cost.unpriced_reason.startswith("cannot read its attributes"), rtype
    result = run_cli("cost", str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
