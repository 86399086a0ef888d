"""The Azure feature store and notebooks layers at synth level (Azure has no local emulator):
the FeatureStore workspace and what it links, entities and feature sets (azapi) with their
specifications, the online store (Redis) and the materialization identity's grants, one
compute instance per user; checkov through `terraml synth`; Azure's own limits as one-line
errors with exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapters.azure.features import REDIS_SIZES, redis_size
from adapters.azure.notebooks import notebook_name
from core.errors import UserError
from core.features import OnlineStore
from core.outputs import OPT_IN_OUTPUTS
from core.props import site_of
from stacks.app import load_environment
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import one, resources, synth

EXAMPLE = ROOT / "examples/azure-mlops.yaml"
CHECKOV = ROOT / ".venv-checkov/bin/checkov"


def online_variant(text: str, name: str = "fsonline", tier: str = "staging",
                   stored_gb: float = 2) -> str:
    """The example as `name`, in `tier`, with every group online and read from `raw`."""
    return (text.replace("name: azure-mlops", f"name: {name}")
            .replace("tier: dev", f"tier: {tier}")
            .replace("source: features/customer_profile/", "source: raw/customer_profile/")
            .replace("  offline_stored_gb: 5\n",
                     f"  offline_stored_gb: 5\n  online: true\n"
                     f"  online_store: {{stored_gb: {stored_gb}}}\n"))


@pytest.fixture(scope="module")
def dev() -> dict:
    return synth(load_environment(EXAMPLE))


@pytest.fixture(scope="module")
def online(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("az-fs") / "fsonline.yaml"
    path.write_text(online_variant(EXAMPLE.read_text()))
    return synth(load_environment(path))


def ref(doc: dict, rtype: str, attribute: str, contains: str = "") -> str:
    (name,) = [n for n in doc["resource"][rtype] if contains in n]
    return f"${{{rtype}.{name}.{attribute}}}"


def azapi(doc: dict, kind: str) -> dict[str, dict]:
    """azapi resources whose type starts with `Microsoft.MachineLearningServices/workspaces/
    <kind>@`, by name."""
    prefix = f"Microsoft.MachineLearningServices/workspaces/{kind}@"
    return {r["name"]: r for r in resources(doc, "azapi_resource") if r["type"].startswith(prefix)}


def store(doc: dict) -> dict:
    (found,) = [w for w in resources(doc, "azurerm_machine_learning_workspace")
                if w.get("kind") == "FeatureStore"]
    return found


def outputs(doc: dict) -> dict:
    return {name: item["value"] for name, item in doc["output"].items()}


# -- feature store ----------------------------------------------------------------------


def test_feature_store_links_the_platform_and_is_private_outside_dev(online):
    fs = store(online)
    assert fs["name"] == "mlfs-terraml-fsonline"
    assert fs["storage_account_id"] == ref(online, "azurerm_storage_account", "id")
    assert fs["key_vault_id"] == ref(online, "azurerm_key_vault", "id")
    assert fs["application_insights_id"] == ref(online, "azurerm_application_insights", "id")
    identity = ref(online, "azurerm_user_assigned_identity", "id", "features")
    assert fs["identity"] == {"type": "SystemAssigned, UserAssigned", "identity_ids": [identity]}
    assert fs["feature_store"] == {"computer_spark_runtime_version": "3.4",
                                   "offline_connection_name": "offline-store",
                                   "online_connection_name": "online-store"}
    assert fs["public_network_access_enabled"] is False and fs["high_business_impact"] is True
    assert fs["lifecycle"] == {"prevent_destroy": True}
    assert fs["tags"]["env"] == "fsonline"
    assert outputs(online)["feature_store"] == ref(
        online, "azurerm_machine_learning_workspace", "id", "feature-store")


def test_dev_store_mirrors_the_dev_workspace_and_has_no_online_store(dev):
    fs = store(dev)
    assert fs["public_network_access_enabled"] is True  # as the dev platform workspace
    assert "lifecycle" not in fs
    assert fs["feature_store"] == {"computer_spark_runtime_version": "3.4",
                                   "offline_connection_name": "offline-store"}
    assert "azurerm_redis_cache" not in dev["resource"]
    assert set(azapi(dev, "connections")) == {"offline-store"}
    out = outputs(dev)
    assert out["feature_online_store"] == ""
    assert out["feature_materialization"] == {"customer_profile": "Offline"}
    (version,) = [r for r in azapi(dev, "featuresets/versions").values()]
    settings = version["body"]["properties"]["materializationSettings"]
    assert settings["storeType"] == "Offline" and "schedule" not in settings  # no daily Spark
    assert version["body"]["properties"]["stage"] == "Development"


def test_entities_and_feature_sets_are_versioned_arm_resources(dev):
    (entity,) = azapi(dev, "featurestoreEntities").values()
    assert entity["name"] == "customer"
    assert entity["parent_id"] == ref(dev, "azurerm_machine_learning_workspace", "id",
                                      "feature-store")
    (entity_version,) = azapi(dev, "featurestoreEntities/versions").values()
    assert entity_version["name"] == "1"
    assert entity_version["parent_id"] == ref(dev, "azapi_resource", "id",
                                              "feature-entity-customer_")
    assert entity_version["body"]["properties"]["indexColumns"] == [
        {"columnName": "customer_id", "dataType": "String"}]
    assert entity_version["body"]["properties"]["tags"]["env"] == "azure-mlops"
    (feature_set,) = azapi(dev, "featuresets").values()
    assert feature_set["name"] == "customer_profile"
    (version,) = azapi(dev, "featuresets/versions").values()
    body = version["body"]["properties"]
    assert body["entities"] == ["azureml:customer:1"]
    account = ref(dev, "azurerm_storage_account", "name")
    folder = f"abfss://features@{account}.dfs.core.windows.net/featuresets/customer_profile/"
    assert body["specification"] == {"path": folder}
    out = outputs(dev)
    assert out["feature_groups"] == {"customer_profile": ref(
        dev, "azapi_resource", "id", "feature-set-customer_profile-v1")}
    assert out["feature_specs"] == {"customer_profile": folder}
    assert set(OPT_IN_OUTPUTS["features"]) <= set(out)


def test_the_specification_is_written_where_the_feature_set_points(dev):
    blob = one(dev, "azurerm_storage_blob")
    assert blob["name"] == "featuresets/customer_profile/FeaturesetSpec.yaml"
    assert blob["storage_container_id"] == ref(dev, "azurerm_storage_container", "id",
                                               "container-features")
    document = json.loads(blob["source_content"])  # JSON is YAML
    account = ref(dev, "azurerm_storage_account", "name")
    assert document["source"] == {
        "type": "parquet",
        "path": f"abfss://features@{account}.dfs.core.windows.net/customer_profile/**/*.parquet",
        "timestamp_column": {"name": "event_time"}}
    assert document["features"] == [{"name": "tenure", "type": "long"},
                                    {"name": "monthly_charges", "type": "double"},
                                    {"name": "contract", "type": "string"}]
    assert document["index_columns"] == [{"name": "customer_id", "type": "string"}]


def test_online_store_is_a_private_tls_only_cache_fed_daily(online):
    cache = one(online, "azurerm_redis_cache")
    assert (cache["sku_name"], cache["family"], cache["capacity"]) == ("Standard", "C", 2)
    assert cache["minimum_tls_version"] == "1.2" and cache["non_ssl_port_enabled"] is False
    assert cache["public_network_access_enabled"] is False
    assert cache["tags"]["env"] == "fsonline" and len(cache["name"]) <= 63
    redis = ref(online, "azurerm_redis_cache", "id")
    connection = azapi(online, "connections")["online-store"]
    assert connection["body"]["properties"] == {
        "category": "Redis", "target": redis, "authType": "ManagedIdentity",
        "credentials": {"clientId": ref(online, "azurerm_user_assigned_identity", "client_id"),
                        "resourceId": ref(online, "azurerm_user_assigned_identity", "id")}}
    assert outputs(online)["feature_online_store"] == redis
    (version,) = azapi(online, "featuresets/versions").values()
    settings = version["body"]["properties"]["materializationSettings"]
    assert settings["storeType"] == "OnlineAndOffline"
    assert settings["schedule"]["frequency"] == "Day" and settings["schedule"]["interval"] == 1
    assert settings["resource"] == {"instanceType": "standard_e4s_v3"}


def test_materialization_identity_has_least_privilege(online):
    principal = ref(online, "azurerm_user_assigned_identity", "principal_id", "features")
    grants = {(a["role_definition_name"], a["scope"]) for a in
              resources(online, "azurerm_role_assignment") if a["principal_id"] == principal}
    container = "azurerm_storage_container"
    assert grants == {
        ("AzureML Data Scientist",
         ref(online, "azurerm_machine_learning_workspace", "id", "feature-store")),
        ("Storage Blob Data Contributor", ref(online, container, "id", "container-features")),
        ("Storage Blob Data Reader", ref(online, container, "id", "container-raw")),
        ("Redis Cache Contributor", ref(online, "azurerm_redis_cache", "id")),
    }


@pytest.mark.parametrize(("tier", "gb", "expected"), [
    ("dev", 0.2, ("Basic", "C", 0)), ("dev", 0.25, ("Basic", "C", 0)),
    ("prod", 1.5, ("Standard", "C", 2)), ("prod", 53, ("Standard", "C", 6)),
    ("dev", 60, ("Premium", "P", 5)), ("prod", 120, ("Premium", "P", 5)),
])
def test_the_cache_is_the_smallest_that_holds_the_data(write_env, tier, gb, expected):
    text = online_variant(EXAMPLE.read_text(), tier=tier)
    site = site_of(load_environment(write_env(text, "fsonline.yaml")))
    assert redis_size(site, OnlineStore(stored_gb=gb)) == expected
    memory = {(f, c): m for m, f, c in REDIS_SIZES}[expected[1:]]
    assert memory >= gb


def test_more_online_data_than_one_cache_holds_is_refused_in_one_line(tmp_path: Path):
    envs = tmp_path / "envs"
    envs.mkdir()
    path = envs / "fsonline.yaml"
    path.write_text(online_variant(EXAMPLE.read_text(), stored_gb=500))
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    line_no = path.read_text().splitlines().index("  online_store: {stored_gb: 500}") + 1
    assert result.stderr.strip().splitlines() == [
        (f"error: {path}:{line_no}: features.online_store.stored_gb: expected at most 120 GB "
         "on azure (the largest Azure Cache for Redis, Premium P5), found 500")]
    assert not (tmp_path / "out").exists()


# -- notebooks --------------------------------------------------------------------------


def test_one_private_compute_instance_per_user_stopped_when_idle(dev):
    computes = azapi(dev, "computes")
    names = {"alice": notebook_name(site_of(load_environment(EXAMPLE)), "alice"),
             "bob": notebook_name(site_of(load_environment(EXAMPLE)), "bob")}
    owners = {"alice": "11111111-1111-1111-1111-111111111111",
              "bob": "22222222-2222-2222-2222-222222222222"}  # entra_object_ids in the example
    assert set(computes) == set(names.values())
    workspace = ref(dev, "azurerm_machine_learning_workspace", "id", "identity_workspace")
    for user, name in names.items():
        compute = computes[name]
        assert compute["type"] == ("Microsoft.MachineLearningServices/workspaces/computes"
                                   "@2024-10-01-preview")
        assert compute["parent_id"] == workspace and compute["location"] == "eastus"
        assert compute["tags"]["terraml-user"] == user and compute["tags"]["env"] == "azure-mlops"
        body = compute["body"]["properties"]
        assert body["computeType"] == "ComputeInstance" and body["disableLocalAuth"] is True
        assert body["properties"] == {
            "vmSize": "Standard_D2s_v3", "subnet": {"id": ref(dev, "azurerm_subnet", "id")},
            "enableNodePublicIp": False, "sshSettings": {"sshPublicAccess": "Disabled"},
            "applicationSharingPolicy": "Personal",
            "computeInstanceAuthorizationType": "personal",
            "idleTimeBeforeShutdown": "PT60M", "enableRootAccess": True, "enableSSO": True,
            # assigned to its user, not to whoever deploys (a CI principal nobody can sign in as)
            "personalComputeInstanceSettings": {"assignedUser": {
                "objectId": owners[user],
                "tenantId": ref(dev, "azurerm_key_vault", "tenant_id")}}}
        assert "identity" not in compute  # users reach data as themselves
    out = outputs(dev)
    assert out["notebooks"] == names
    assert out["notebook_role"] == "assigned-user-identity"
    assert set(OPT_IN_OUTPUTS["notebooks"]) <= set(out)


@pytest.mark.parametrize(("change", "expected"), [
    (("  bob: 22222222-2222-2222-2222-222222222222\n", ""),
     ("entra_object_ids: expected each notebooks user's Microsoft Entra object id (Azure ML "
     "assigns a compute instance to it; az ad user show --id <upn> --query id), missing bob")),
    (("  bob: 22222222-2222-2222-2222-222222222222\n",
      "  bob: 22222222-2222-2222-2222-222222222222\n  carol: 33333333-3333-3333-3333-333333333333\n"),
     "entra_object_ids: expected only notebooks.users, found carol"),
    (("  bob: 22222222-2222-2222-2222-222222222222\n", "  bob: bob@example.com\n"),
     "entra_object_ids.bob: "),
])
def test_each_notebook_user_needs_an_entra_object_id(tmp_path, change, expected):
    """One line naming the file and field, exit 2, nothing written (through `terraml synth`)."""
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "azure-mlops.yaml").write_text(EXAMPLE.read_text().replace(*change))
    result = run_cli("synth", "--env-dir", str(tmp_path / "envs"), "--out",
                     str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "azure-mlops.yaml:" in line and expected in line, line
    assert not (tmp_path / "out").exists()


def test_root_is_off_outside_dev_unless_asked(online, write_env):
    for compute in azapi(online, "computes").values():
        assert compute["body"]["properties"]["properties"]["enableRootAccess"] is False
    text = online_variant(EXAMPLE.read_text()).replace(
        "  idle_shutdown_minutes: 60\n", "  idle_shutdown_minutes: 60\n  root_access: true\n")
    doc = synth(load_environment(write_env(text, "fsonline.yaml")))
    assert all(c["body"]["properties"]["properties"]["enableRootAccess"] is True
               for c in azapi(doc, "computes").values())


def test_notebook_names_fit_azure_and_differ_per_environment(write_env):
    text = EXAMPLE.read_text().replace("name: azure-mlops",
                                       "name: a-long-env-name-twe")
    site = site_of(load_environment(write_env(text, "long.yaml")))
    other = site_of(load_environment(EXAMPLE))
    user = "abcdefghijklmnop"  # the longest user name (16)
    name = notebook_name(site, user)
    assert len(name) == 24 and name.startswith("abcdefghijklmno-")
    assert name == notebook_name(site, user)  # stable
    assert name != notebook_name(other, user)
    assert notebook_name(site, "bob").startswith("bob-n")


def test_notebook_names_never_end_in_digits_only():
    """Azure refuses a compute name ending in `-<digits>`: the old `-<8 hex digits>` suffix
    was all decimal digits for user3 of the example (crc32 85017551)."""
    import re
    import zlib

    from adapters.azure.resources import subscription

    site = site_of(load_environment(EXAMPLE))
    old = zlib.crc32(f"{subscription(site)}/{site.prefix}/user3".encode())
    assert f"{old:08x}".isdigit()  # the case the old rule got wrong
    name = notebook_name(site, "user3")
    assert re.fullmatch(r"user3-n[0-9a-f]{7}", name) and len(name) <= 24
    assert not re.search(r"-[0-9]+$", name)


def test_idle_shutdown_below_azures_minimum_is_refused_in_one_line(tmp_path: Path):
    envs = tmp_path / "envs"
    envs.mkdir()
    path = envs / "azure-mlops.yaml"
    path.write_text(EXAMPLE.read_text().replace("idle_shutdown_minutes: 60",
                                                "idle_shutdown_minutes: 10"))
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    line_no = path.read_text().splitlines().index("  idle_shutdown_minutes: 10") + 1
    assert result.stderr.strip().splitlines() == [
        (f"error: {path}:{line_no}: notebooks.idle_shutdown_minutes: expected 15 to 4320 on "
         "azure (Azure ML compute instance idle shutdown), found 10")]


def test_redis_size_error_names_the_setting(write_env):
    text = online_variant(EXAMPLE.read_text(), stored_gb=121)
    site = site_of(load_environment(write_env(text, "fsonline.yaml")))
    with pytest.raises(UserError, match=r"features\.online_store\.stored_gb: expected at most"):
        redis_size(site, OnlineStore(stored_gb=121))


# -- through the CLI, with checkov ------------------------------------------------------


def gate(out: Path) -> list[str]:
    if not CHECKOV.exists():
        pytest.skip("checkov not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate as run_gate

    failures, _, summary = run_gate(str(CHECKOV), out)
    assert summary.get("parsing_errors") == 0 and summary.get("passed")
    return failures


def test_example_synthesizes_and_passes_checkov(tmp_path: Path):
    envs = tmp_path / "envs"
    envs.mkdir()
    shutil.copy(EXAMPLE, envs)
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out/stacks/ml-azure-mlops/cdk.tf.json").read_text())
    assert set(outputs(doc)["notebooks"]) == {"alice", "bob"}
    assert gate(tmp_path / "out") == []


def test_online_variant_outside_dev_passes_checkov(tmp_path: Path):
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "fsonline.yaml").write_text(online_variant(EXAMPLE.read_text()))
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out/stacks/ml-fsonline/cdk.tf.json").read_text())
    assert one(doc, "azurerm_redis_cache")["sku_name"] == "Standard"
    # only this module's layers: the platform workspace (identity layer) is not ours
    assert [f for f in gate(tmp_path / "out") if "features_" in f or "notebooks_" in f] == []

