"""Azure adapter: synth-level tests for every resource the issue names and a snapshot."""

from __future__ import annotations

import pytest

from core.errors import UserError
from stacks.app import load_environment
from tests.conftest import ROOT
from tests.test_synth_aws import one, resources, synth

AZURE_IDS = ("subscription_id: 00000000-0000-0000-0000-000000000000\n"
             "entra_object_ids: {alice: 11111111-1111-1111-1111-111111111111}\n")


def swap_to_azure(text: str, region_from: str = "us-east-1", region_to: str = "eastus") -> str:
    return text.replace("cloud: aws", "cloud: azure").replace(
        f"region: {region_from}", f"region: {region_to}") + AZURE_IDS


@pytest.fixture(scope="module")
def az_dev(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("az") / "dev.yaml"
    path.write_text(swap_to_azure((ROOT / "environments/dev.yaml").read_text()))
    return synth(load_environment(path))


@pytest.fixture(scope="module")
def az_prod(tmp_path_factory) -> dict:
    text = swap_to_azure((ROOT / "environments/prod.yaml").read_text(), "eu-west-1",
                         "westeurope")
    text = text.replace("backend: s3\n  bucket: terraml-tfstate-prod\n  region: westeurope\n"
                        "  use_lockfile: true\n",
                        "backend: azurerm\n  resource_group: rg-tfstate\n"
                        "  storage_account: tfstateprod\n  container: tfstate\n")
    path = tmp_path_factory.mktemp("az-prod") / "prod.yaml"
    path.write_text(text)
    return synth(load_environment(path))


def platform_workspace(doc: dict) -> dict:
    (workspace,) = [w for w in resources(doc, "azurerm_machine_learning_workspace")
                    if w.get("kind") != "FeatureStore"]
    return workspace


def test_resource_group_and_delete_lock_outside_dev(az_dev, az_prod):
    assert one(az_dev, "azurerm_resource_group")["name"] == "rg-terraml-dev"
    assert resources(az_dev, "azurerm_management_lock") == []
    assert one(az_prod, "azurerm_management_lock")["lock_level"] == "CanNotDelete"


def test_storage_is_adls_gen2_https_tls12_private_encrypted_versioned(az_dev, az_prod):
    account = one(az_dev, "azurerm_storage_account")
    assert account["is_hns_enabled"] and account["https_traffic_only_enabled"]
    assert account["min_tls_version"] == "TLS1_2"
    assert account["allow_nested_items_to_be_public"] is False
    assert account["infrastructure_encryption_enabled"] is True
    assert account["shared_access_key_enabled"] is False
    blob = account["blob_properties"]
    assert blob["versioning_enabled"] and blob["delete_retention_policy"]["days"] == 30
    names = {c["name"] for c in resources(az_dev, "azurerm_storage_container")}
    assert names == {"raw", "features", "models", "artifacts"}
    assert one(az_prod, "azurerm_storage_account")["account_replication_type"] == "ZRS"


def test_key_vault_insights_registry_workspace(az_dev, az_prod):
    assert one(az_dev, "azurerm_key_vault")["purge_protection_enabled"] is False
    assert one(az_prod, "azurerm_key_vault")["purge_protection_enabled"] is True
    assert one(az_dev, "azurerm_application_insights")["workspace_id"]
    assert one(az_dev, "azurerm_log_analytics_workspace")["sku"] == "PerGB2018"
    acr = one(az_dev, "azurerm_container_registry")
    assert acr["sku"] == "Basic" and acr["admin_enabled"] is False
    assert az_dev["output"]["model_registry"]["value"] == "azureml-workspace-models"
    ws = platform_workspace(az_dev)  # the dev file also has a feature store (kind FeatureStore)
    assert ws["identity"]["type"] == "SystemAssigned"
    assert platform_workspace(az_prod)["public_network_access_enabled"] is False


def test_gpu_and_cpu_clusters_scale_to_zero_low_priority_in_dev(az_dev, az_prod):
    clusters = {c["name"]: c for c in resources(az_dev, "azurerm_machine_learning_compute_cluster")}
    gpu, cpu = clusters["gpu-dev"], clusters["cpu-dev"]
    assert gpu["vm_size"] == "Standard_NC4as_T4_v3" and gpu["vm_priority"] == "LowPriority"
    assert gpu["scale_settings"]["min_node_count"] == 0
    assert gpu["scale_settings"]["scale_down_nodes_after_idle_duration"] == "PT10M"
    assert cpu["vm_size"] == "Standard_D4s_v3"
    prod = {c["name"]: c for c in resources(az_prod, "azurerm_machine_learning_compute_cluster")}
    assert prod["gpu-prod"]["vm_size"] == "Standard_ND96asr_v4"
    assert prod["gpu-prod"]["vm_priority"] == "Dedicated"


def test_online_endpoint_via_azapi_with_autoscale_recorded(az_dev, az_prod):
    (endpoint,) = [r for r in resources(az_dev, "azapi_resource")
                   if "/onlineEndpoints@" in r["type"]]
    assert endpoint["parent_id"]  # under the platform workspace
    assert az_dev["output"]["serving_min_replicas"]["value"] == 0
    assert az_prod["output"]["serving_min_replicas"]["value"] == 2
    (prod_endpoint,) = [r for r in resources(az_prod, "azapi_resource")
                        if "/onlineEndpoints@" in r["type"]]
    assert prod_endpoint["body"]["properties"]["publicNetworkAccess"] == "Disabled"


def test_monitoring_budget_tags_and_backend(az_dev, az_prod):
    group = one(az_dev, "azurerm_monitor_action_group")
    assert group["email_receiver"][0]["email_address"] == "ml-platform-dev@example.com"
    metrics = {a["criteria"][0]["metric_name"] for a in resources(az_dev,
                                                                   "azurerm_monitor_metric_alert")}
    # + the pipeline's and the drift monitor's failed runs
    assert metrics == {"RequestLatency", "RequestsPerMinute", "Failed Runs"}
    budget = one(az_dev, "azurerm_consumption_budget_resource_group")
    assert [n["threshold"] for n in budget["notification"]] == [50, 80, 100]
    for rtype in ("azurerm_storage_account", "azurerm_key_vault"):
        assert one(az_dev, rtype)["tags"]["cost-center"] == "ml-platform"
    assert platform_workspace(az_dev)["tags"]["cost-center"] == "ml-platform"
    assert "azurerm" in az_prod["terraform"]["backend"]


def test_l4_is_refused_with_a_suggestion(write_env):
    path = write_env("name: dev\ncloud: azure\nregion: eastus\n" + AZURE_IDS +
                     "training:\n  accelerator: L4\n")
    with pytest.raises(UserError, match=r"training.count: .*L4 is not offered on azure"):
        synth(load_environment(path))


def test_azure_dev_snapshot(az_dev, snapshot):
    assert az_dev == snapshot
