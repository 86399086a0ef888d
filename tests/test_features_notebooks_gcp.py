"""The feature store (Vertex AI Feature Store over BigQuery) and per-user notebooks (Vertex AI
Workbench) on GCP, at synth level (GCP has no local emulator): the shipped example, an online
variant in staging, checkov on both, and what GCP refuses as one line, exit 2."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from stacks.app import load_environment
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import resources, synth

EXAMPLE = ROOT / "examples/gcp-mlops.yaml"
KEY_REF = "${google_kms_crypto_key.key_F64E54E4.id}"
DATASET_REF = "${google_bigquery_dataset.data_catalog_8AEB9D60.dataset_id}"
ONLINE = """      features: {tenure: int, monthly_charges: float, contract: string}
    customer_usage:
      entity: account
      source: warehouse:usage_daily
      event_time: day
      features: {calls: int, churned: bool, last_seen: timestamp}
      online: false
  online: true
  online_store: {nodes: 2}
"""


def online_text() -> str:
    """The example in staging, with every group online but a warehouse-table one."""
    text = EXAMPLE.read_text().replace("name: gcp-mlops\ntier: dev",
                                       "name: gcp-online\ntier: staging")
    text = text.replace("    customer: {key: customer_id}\n", "    customer: {key: customer_id}\n"
                        "    account: {key: account_no, key_type: int}\n")
    return text.replace("      features: {tenure: int, monthly_charges: float, contract: string}\n",
                        ONLINE)


@pytest.fixture(scope="module")
def dev() -> dict:
    return synth(load_environment(EXAMPLE))


@pytest.fixture(scope="module")
def online(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("gcp-online") / "gcp-online.yaml"
    path.write_text(online_text())
    return synth(load_environment(path))


def named(doc: dict, rtype: str, part: str) -> dict:
    (item,) = [v for k, v in doc["resource"].get(rtype, {}).items() if part in k]
    return item


def outputs(doc: dict, prefix: str) -> dict:
    return {k: v["value"] for k, v in doc["output"].items() if k.startswith(prefix)}


# -- feature store -------------------------------------------------------------------------


def test_bucket_group_is_an_external_table_and_a_view_vertex_reads(dev):
    table = named(dev, "google_bigquery_table", "feature-table-customer_profile")
    assert table["table_id"] == "customer_profile" and table["dataset_id"] == DATASET_REF
    external = table["external_data_configuration"]
    assert external["source_format"] == "PARQUET" and external["autodetect"] is False
    # Parquet files under the folder only: no _SUCCESS/.crc files, no customer_profile_old/
    assert external["source_uris"] == [(
        "gs://${google_storage_bucket.data_bucket-features_09E184ED.name}/customer_profile/"
        "*.parquet")]
    assert json.loads(table["schema"]) == [
        {"name": "customer_id", "type": "STRING", "mode": "REQUIRED"},
        {"name": "event_time", "type": "TIMESTAMP", "mode": "REQUIRED"},
        {"name": "tenure", "type": "INT64", "mode": "NULLABLE"},
        {"name": "monthly_charges", "type": "FLOAT64", "mode": "NULLABLE"},
        {"name": "contract", "type": "STRING", "mode": "NULLABLE"}]
    assert table["deletion_protection"] is False and "lifecycle" not in table  # dev
    view = named(dev, "google_bigquery_table", "feature-view-customer_profile")
    assert view["table_id"] == "customer_profile_vertex"
    query = view["view"]["query"]
    assert view["view"]["use_legacy_sql"] is False
    assert query.startswith("SELECT CAST(`customer_id` AS STRING) AS `customer_id`, "
                            "`event_time` AS `feature_timestamp`, `tenure`, `monthly_charges`, "
                            "`contract` FROM `terraml-dev-123.")
    assert "feature-table-customer_profile" in query
    for item in (table, view):
        assert item["labels"]["env"] == "gcp-mlops" and item["labels"]["cost-center"]


def test_a_source_without_its_slash_reads_that_folder_only(tmp_path):
    path = tmp_path / "gcp-mlops.yaml"
    path.write_text(EXAMPLE.read_text().replace("source: features/customer_profile/",
                                                "source: features/customer_profile"))
    table = named(synth(load_environment(path)), "google_bigquery_table",
                  "feature-table-customer_profile")
    assert table["external_data_configuration"]["source_uris"] == [(
        "gs://${google_storage_bucket.data_bucket-features_09E184ED.name}/customer_profile/"
        "*.parquet")]


def test_feature_group_and_features_are_registered_over_the_view(dev):
    (group,) = resources(dev, "google_vertex_ai_feature_group")
    assert group["name"] == "terraml_gcp_mlops_customer_profile"
    assert group["region"] == "us-central1" and group["labels"]["env"] == "gcp-mlops"
    assert group["big_query"]["entity_id_columns"] == ["customer_id"]
    uri = group["big_query"]["big_query_source"]["input_uri"]
    assert uri.startswith("bq://terraml-dev-123.") and "feature-view-customer_profile" in uri
    features = {f["name"]: f for f in resources(dev, "google_vertex_ai_feature_group_feature")}
    assert set(features) == {"tenure", "monthly_charges", "contract"}
    for name, feature in features.items():
        assert feature["version_column_name"] == name
        assert feature["feature_group"].startswith("${google_vertex_ai_feature_group.")
        assert feature["labels"]["env"] == "gcp-mlops"


def test_offline_only_builds_no_online_store_and_no_sync_grants(dev):
    for rtype in ("google_vertex_ai_feature_online_store",
                  "google_vertex_ai_feature_online_store_featureview"):
        assert resources(dev, rtype) == []
    assert not [m for m in resources(dev, "google_bigquery_dataset_iam_member")
                if "gcp-sa-aiplatform" in m["member"]]
    out = outputs(dev, "feature")
    assert out["feature_store"] == DATASET_REF
    assert out["feature_groups"] == {"customer_profile": "${google_vertex_ai_feature_group."
                                     "features_feature-group-customer_profile_222476B1.id}"}
    assert out["feature_online_store"] == "" and out["feature_views"] == {}
    assert out["feature_sync_schedule"] == "none"


def test_online_store_is_bigtable_pinned_to_the_nodes_with_cmek(online):
    (store,) = resources(online, "google_vertex_ai_feature_online_store")
    assert store["name"] == "terraml_gcp_online" and store["region"] == "us-central1"
    assert store["bigtable"]["auto_scaling"]["min_node_count"] == 2
    assert store["bigtable"]["auto_scaling"]["max_node_count"] == 2
    assert store["encryption_spec"]["kms_key_name"] == KEY_REF
    assert any("key-user-aiplatform" in d for d in store["depends_on"])
    assert store["labels"]["env"] == "gcp-online" and store["force_destroy"] is False
    assert store["lifecycle"]["prevent_destroy"] is True  # staging
    (view,) = resources(online, "google_vertex_ai_feature_online_store_featureview")
    assert view["name"] == "customer_profile" and view["labels"]["env"] == "gcp-online"
    assert view["sync_config"]["cron"] == "CRON_TZ=Etc/UTC 0 * * * *"
    (source,) = view["feature_registry_source"]["feature_groups"]
    assert source["feature_ids"] == ["tenure", "monthly_charges", "contract"]
    assert "feature-group-customer_profile" in source["feature_group_id"]
    # the view waits for its features and for the sync identity's grants
    assert sum("feature-customer_profile-" in d for d in view["depends_on"]) == 3
    assert any("feature-sync-reads-catalog" in d for d in view["depends_on"])
    out = outputs(online, "feature")
    assert out["feature_online_store"].startswith("${google_vertex_ai_feature_online_store.")
    assert set(out["feature_views"]) == {"customer_profile"}
    assert set(out["feature_groups"]) == {"customer_profile", "customer_usage"}


def test_sync_agent_reads_only_the_catalog_and_the_online_sources(online):
    mine = {rtype: {k: v for k, v in items.items() if k.startswith("features_")}
            for rtype, items in online["resource"].items() if rtype.endswith("_iam_member")}
    agent = ("serviceAccount:service-${data.google_project.project.number}@gcp-sa-aiplatform"
             ".iam.gserviceaccount.com")
    (dataset,) = mine["google_bigquery_dataset_iam_member"].values()
    assert dataset == {"dataset_id": DATASET_REF, "role": "roles/bigquery.dataViewer",
                       "member": agent}
    (bucket,) = mine["google_storage_bucket_iam_member"].values()  # the online group's source
    features = "${google_storage_bucket.data_bucket-features_09E184ED.name}"
    assert bucket == {"bucket": features, "role": "roles/storage.objectViewer", "member": agent,
                      "condition": {
                          "title": "feature-sync-reads-customer_profile",
                          "description": "Vertex AI Feature Store sync of group customer_profile",
                          "expression": f'resource.name.startsWith("projects/_/buckets/'
                                        f'{features}/objects/customer_profile/") || '
                                        'resource.type == "storage.googleapis.com/Bucket"'}}
    assert {rtype for rtype, items in mine.items() if items} == {
        "google_bigquery_dataset_iam_member", "google_storage_bucket_iam_member"}


def test_warehouse_group_is_a_cmek_partitioned_table_protected_outside_dev(online):
    table = named(online, "google_bigquery_table", "feature-table-customer_usage")
    assert table["table_id"] == "usage_daily" and "external_data_configuration" not in table
    assert table["encryption_configuration"]["kms_key_name"] == KEY_REF
    assert table["time_partitioning"] == {"type": "DAY", "field": "day"}
    assert json.loads(table["schema"])[:2] == [
        {"name": "account_no", "type": "INT64", "mode": "REQUIRED"},
        {"name": "day", "type": "TIMESTAMP", "mode": "REQUIRED"}]
    assert table["deletion_protection"] is True and table["lifecycle"]["prevent_destroy"] is True
    view = named(online, "google_bigquery_table", "feature-view-customer_usage")
    assert view["view"]["query"].startswith("SELECT CAST(`account_no` AS STRING) AS "
                                            "`account_no`, `day` AS `feature_timestamp`, ")
    group = named(online, "google_vertex_ai_feature_group", "customer_usage")
    assert group["big_query"]["entity_id_columns"] == ["account_no"]


# -- notebooks -----------------------------------------------------------------------------


def test_one_private_cmek_shielded_workbench_instance_per_user(dev):
    instances = {i["name"]: i for i in resources(dev, "google_workbench_instance")}
    assert set(instances) == {"terraml-gcp-mlops-alice", "terraml-gcp-mlops-bob"}
    for name, item in instances.items():
        user = name.rsplit("-", 1)[1]
        assert item["location"] == "us-central1-b"
        assert item["labels"]["user"] == user and item["labels"]["env"] == "gcp-mlops"
        setup = item["gce_setup"]
        assert setup["machine_type"] == "e2-standard-2"  # size: small
        assert setup["disable_public_ip"] is True
        (nic,) = setup["network_interfaces"]
        assert nic["network"].startswith("${google_compute_network.network_vpc_")
        assert nic["subnet"].startswith("${google_compute_subnetwork.network_subnet_")
        assert "access_configs" not in nic
        for disk in (setup["boot_disk"], setup["data_disks"]):
            assert disk["disk_encryption"] == "CMEK" and disk["kms_key"] == KEY_REF
        assert setup["data_disks"]["disk_size_gb"] == "10"  # notebooks.disk_gb
        assert setup["shielded_instance_config"] == {
            "enable_secure_boot": True, "enable_vtpm": True, "enable_integrity_monitoring": True}
        assert setup["metadata"]["idle-timeout-seconds"] == "3600"
        assert setup["metadata"]["notebook-disable-root"] == "false"  # dev: root by default
        (account,) = setup["service_accounts"]
        assert account["email"] == "${google_service_account.notebooks_notebook-sa_3A865483.email}"
        assert item["enable_deletion_protection"] is False
        assert any("notebooks_key-user-compute" in d for d in item["depends_on"])
        assert any("api-notebooks" in d for d in item["depends_on"])
    grant = named(dev, "google_kms_crypto_key_iam_member", "notebooks_key-user-compute")
    assert grant["member"] == ("serviceAccount:service-${data.google_project.project.number}"
                               "@compute-system.iam.gserviceaccount.com")
    assert outputs(dev, "notebook") == {
        "notebooks": {"alice": "terraml-gcp-mlops-alice", "bob": "terraml-gcp-mlops-bob"},
        "notebook_role": "${google_service_account.notebooks_notebook-sa_3A865483.email}",
        "notebook_zone": "us-central1-b",
        "notebook_urls": {
            "alice": "https://${google_workbench_instance.notebooks_notebook-alice_A6DBF3C9"
                     ".proxy_uri}",
            "bob": "https://${google_workbench_instance.notebooks_notebook-bob_618D83FC"
                   ".proxy_uri}"}}


def test_notebook_account_is_least_privilege(dev):
    account = "notebooks_notebook-sa"
    (sa,) = [a for a in resources(dev, "google_service_account")
             if a["account_id"] == "terraml-gcp-mlops-notebook"]
    assert sa["display_name"] == "terraml gcp-mlops notebooks"
    buckets = {(m["bucket"].split("bucket-")[1].split("_")[0], m["role"])
               for m in resources(dev, "google_storage_bucket_iam_member")
               if account in m["member"]}
    assert buckets == {("raw", "roles/storage.objectViewer"),
                       ("models", "roles/storage.objectViewer"),
                       ("features", "roles/storage.objectAdmin"),
                       ("artifacts", "roles/storage.objectAdmin")}
    project = {m["role"] for m in resources(dev, "google_project_iam_member")
               if account in m["member"]}
    assert project == {"roles/logging.logWriter", "roles/monitoring.metricWriter",
                       "roles/bigquery.jobUser"}
    (dataset,) = [m for m in resources(dev, "google_bigquery_dataset_iam_member")
                  if account in m["member"]]
    assert dataset["role"] == "roles/bigquery.dataViewer"
    assert not [m for m in resources(dev, "google_kms_crypto_key_iam_member")
                if account in m["member"]]


def test_root_is_off_and_instances_protected_outside_dev(online):
    for item in resources(online, "google_workbench_instance"):
        assert item["gce_setup"]["metadata"]["notebook-disable-root"] == "true"
        assert item["enable_deletion_protection"] is True


def test_notebook_names_match_what_the_runtime_lists(dev):
    from adapters.gcp.runtime import GcpRuntime  # noqa: F401  (the runtime is importable)

    env = load_environment(EXAMPLE)
    for name in outputs(dev, "notebook")["notebooks"].values():
        assert name.startswith(env.prefix)  # GcpRuntime.notebooks() keeps names with the prefix


# -- checkov and bad input -----------------------------------------------------------------


def test_checkov_passes_features_and_notebooks(tmp_path):
    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov") or \
        str(ROOT / ".venv-checkov/bin/checkov")
    if not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    envs = tmp_path / "envs"
    envs.mkdir()
    shutil.copy(EXAMPLE, envs / "gcp-mlops.yaml")
    (envs / "gcp-online.yaml").write_text(online_text())
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    failures, suppressed, summary = gate(checkov, tmp_path / "out")
    assert failures == [], failures
    assert summary.get("passed", 0) > 0 and suppressed > 0


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("features: {tenure: int,", "features: {feature_timestamp: int, tenure: int,",
     "features.groups.customer_profile.features",
     ("Vertex AI Feature Store reserves 'feature_timestamp' for the event time; rename the "
      "feature")),
    ("customer: {key: customer_id}", "customer: {key: feature_timestamp}",
     "features.entities.customer.key",
     ("Vertex AI Feature Store reserves 'feature_timestamp' for the event time; expected "
      "another column name")),
    ("    customer_profile:\n", "    " + "p" * 61 + ":\n", "features.groups." + "p" * 61,
     ("an online group's name is its Vertex AI feature view id: expected at most 60 "
      "characters, found 61")),
    # a warehouse group's view is `<group>_vertex`, whatever its table: another group may not
    # take that name for its table
    ("      features: {tenure: int, monthly_charges: float, contract: string}\n",
     ("      features: {tenure: int, monthly_charges: float, contract: string}\n"
      "    usage:\n      entity: customer\n      source: warehouse:usage_daily\n"
      "      features: {calls: int}\n"
      "    other:\n      entity: customer\n      source: warehouse:usage_vertex\n"
      "      features: {calls: int}\n"),
     "features.groups.other.source",
     ("expected a table of its own, found 'usage_vertex', already the view terraml creates "
      "for group 'usage'")),
    ("    customer_profile:\n", "    " + "c" * 43 + ":\n", "features.groups." + "c" * 43,
     "Vertex AI feature group ids are at most 60 characters, found 'terraml_gcp_mlops_"
     + "c" * 43 + "' (61); shorten the group's name"),
    ("features: {tenure: int,", "features: {" + "f" * 61 + ": int, tenure: int,",
     "features.groups.customer_profile.features",
     "Vertex AI feature ids are at most 60 characters, found '" + "f" * 61 + "' (61)"),
    ("users: [alice, bob]", "users: [alice, bob-]", "notebooks.users",
     "Workbench instance names end with a letter or digit, found user 'bob-'"),
])
def test_what_gcp_refuses_is_one_line_exit_2(tmp_path, old, new, where, message):
    text = EXAMPLE.read_text()
    assert old in text
    text = text.replace(old, new)
    if where.startswith("features.groups.p"):
        text = text.replace("  offline_stored_gb: 5", "  online: true\n  offline_stored_gb: 5")
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "gcp-mlops.yaml").write_text(text)
    result = run_cli("synth", "--env-dir", str(envs), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "gcp-mlops.yaml:" in lines[0], lines
    assert lines[0].endswith(f"{where}: {message}")
    assert not (tmp_path / "out").exists()
