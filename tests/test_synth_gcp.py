"""GCP adapter: synth-level tests for every resource the issue names, a snapshot, and the
shipped dev.yaml with only cloud, region and ids swapped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import UserError
from stacks.app import load_environment
from tests.conftest import ROOT, run_cli
from tests.test_synth_aws import one, resources, synth

GCP_IDS = "project_id: terraml-dev-123\nbilling_account: 012345-ABCDEF-678901\n"


def swap_to_gcp(text: str) -> str:
    return text.replace("cloud: aws", "cloud: gcp").replace("region: us-east-1",
                                                            "region: us-central1") + GCP_IDS


@pytest.fixture(scope="module")
def gcp_dev(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("gcp") / "dev.yaml"
    path.write_text(swap_to_gcp((ROOT / "environments/dev.yaml").read_text()))
    return synth(load_environment(path))


@pytest.fixture(scope="module")
def gcp_prod(tmp_path_factory) -> dict:
    text = (ROOT / "environments/prod.yaml").read_text()
    text = text.replace("cloud: aws", "cloud: gcp").replace("region: eu-west-1",
                                                            "region: europe-west4")
    text = text.replace("backend: s3", "backend: gcs").replace("  region: eu-west-1\n", "")
    text = text.replace("  use_lockfile: true\n", "")
    path = tmp_path_factory.mktemp("gcp-prod") / "prod.yaml"
    path.write_text(text + GCP_IDS)
    return synth(load_environment(path))


def test_required_apis_enabled(gcp_dev):
    services = {s["service"] for s in resources(gcp_dev, "google_project_service")}
    assert {"aiplatform.googleapis.com", "cloudkms.googleapis.com", "storage.googleapis.com",
            "artifactregistry.googleapis.com", "servicenetworking.googleapis.com"} <= services


def test_buckets_cmek_uniform_private_versioned_with_lifecycle(gcp_dev):
    buckets = resources(gcp_dev, "google_storage_bucket")
    assert len(buckets) == 5
    for bucket in buckets:
        assert bucket["uniform_bucket_level_access"] is True
        assert bucket["public_access_prevention"] == "enforced"
        assert bucket["versioning"]["enabled"] is True
        assert "google_kms_crypto_key" in bucket["encryption"]["default_kms_key_name"]
        actions = {r["action"]["type"] for r in bucket["lifecycle_rule"]}
        assert {"Delete", "AbortIncompleteMultipartUpload"} <= actions
    key = one(gcp_dev, "google_kms_crypto_key")
    assert key["rotation_period"] == "7776000s"
    agents = [m["member"] for m in resources(gcp_dev, "google_kms_crypto_key_iam_member")]
    assert any("gcp-sa-aiplatform" in m for m in agents)
    dataset = one(gcp_dev, "google_bigquery_dataset")
    assert dataset["default_encryption_configuration"]["kms_key_name"]


def test_registry_cleanup_policies_and_model_registry_note(gcp_dev):
    repos = {r["format"]: r for r in resources(gcp_dev, "google_artifact_registry_repository")}
    assert set(repos) == {"DOCKER", "KFP"}  # images, and the dev pipeline's templates
    repo = repos["DOCKER"]
    assert repo["kms_key_name"]
    assert {p["action"] for p in repo["cleanup_policies"]} == {"DELETE", "KEEP"}
    assert gcp_dev["output"]["model_registry"]["value"].endswith("/models")


def test_network_private_google_access_nat_only_on_request(gcp_dev, gcp_prod):
    subnet = one(gcp_dev, "google_compute_subnetwork")
    assert subnet["private_ip_google_access"] is True
    assert resources(gcp_dev, "google_compute_router_nat") == []
    assert len(resources(gcp_prod, "google_compute_router_nat")) == 1
    assert one(gcp_dev, "google_service_networking_connection")


def test_service_accounts_scoped_to_this_environment(gcp_dev):
    accounts = {a["account_id"] for a in resources(gcp_dev, "google_service_account")}
    # the pipeline runner and the notebooks' account come with the dev file's sections
    assert accounts == {"terraml-dev-training", "terraml-dev-serving", "terraml-dev-pipeline",
                        "terraml-dev-notebook"}
    roles = {(m["role"]) for m in resources(gcp_dev, "google_storage_bucket_iam_member")}
    assert "roles/storage.admin" not in roles and roles <= {
        "roles/storage.objectViewer", "roles/storage.objectAdmin", "roles/storage.objectCreator"}
    project_roles = {m["role"] for m in resources(gcp_dev, "google_project_iam_member")
                     if "pipeline" not in str(m["member"]) and "notebook" not in str(m["member"])}
    assert project_roles == {"roles/logging.logWriter", "roles/monitoring.metricWriter"}


def test_training_outputs_and_accelerator_mapping(gcp_dev, gcp_prod):
    outputs = gcp_dev["output"]
    assert outputs["training_instance_type"]["value"] == "n1-standard-8"
    assert outputs["training_accelerator_type"]["value"] == "NVIDIA_TESLA_T4"
    assert outputs["training_staging_bucket"]["value"].startswith("gs://")
    assert "/global/networks/" in outputs["training_network"]["value"]
    assert gcp_prod["output"]["training_instance_type"]["value"] == "a2-highgpu-8g"


def test_a10g_is_refused_with_a_suggestion(write_env):
    path = write_env("name: dev\ncloud: gcp\nregion: us-central1\n" + GCP_IDS +
                     "training:\n  accelerator: A10G\n")
    with pytest.raises(UserError, match=r"training.count: .*A10G.*use L4"):
        synth(load_environment(path))


def test_private_cmek_endpoint_with_autoscaling_recorded(gcp_dev, gcp_prod):
    endpoint = one(gcp_dev, "google_vertex_ai_endpoint")
    assert endpoint["network"].endswith("/global/networks/terraml-dev")
    assert endpoint["encryption_spec"]["kms_key_name"]
    assert gcp_dev["output"]["serving_min_replicas"]["value"] == 0  # dev: scale to zero
    assert gcp_prod["output"]["serving_min_replicas"]["value"] == 2
    assert gcp_prod["output"]["serving_accelerator_type"]["value"] == "NVIDIA_TESLA_T4"


def test_monitoring_and_budget(gcp_dev):
    assert one(gcp_dev, "google_monitoring_notification_channel")["type"] == "email"
    policies = resources(gcp_dev, "google_monitoring_alert_policy")
    filters = " ".join(p["conditions"][0]["condition_threshold"]["filter"] for p in policies
                       if "condition_threshold" in p["conditions"][0])  # not the drift log alert
    assert "prediction_latencies" in filters and "error_count" in filters
    budget = one(gcp_dev, "google_billing_budget")
    assert budget["budget_filter"]["labels"] == {"env": "dev"}
    assert [r["threshold_percent"] for r in budget["threshold_rules"]] == [0.5, 0.8, 1.0]


def test_labels_backend_and_protection(gcp_dev, gcp_prod):
    labels = gcp_dev["provider"]["google"][0]["default_labels"]
    assert labels["env"] == "dev" and labels["cost-center"] == "ml-platform"
    assert "gcs" in gcp_prod["terraform"]["backend"]
    assert one(gcp_prod, "google_kms_crypto_key")["lifecycle"]["prevent_destroy"] is True
    assert "lifecycle" not in one(gcp_dev, "google_kms_crypto_key")


def test_gcp_dev_snapshot(gcp_dev, snapshot):
    assert gcp_dev == snapshot


def test_gcp_example_synthesizes_and_is_priced(tmp_path: Path):
    env_dir = tmp_path / "envs"
    env_dir.mkdir()
    (env_dir / "dev.yaml").write_text((ROOT / "examples/gcp-dev.yaml").read_text())
    result = run_cli("cost", "--env-dir", str(env_dir), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = json.loads(result.stdout)["projects"][0]
    assert project["summary"]["unsupportedResourceCounts"] == {}
    # only what the catalog has no figure for is unpriced, each with its reason
    assert {u["resourceType"] for u in project["breakdown"]["unpricedResources"]} <= {
        "google_compute_subnetwork"}  # VPC flow logs volume has no catalog row
    assert all(u["reason"] for u in project["breakdown"]["unpricedResources"])
    priced = {r["resourceType"] for r in project["breakdown"]["resources"]}
    assert {"google_vertex_ai_endpoint", "terraml_training_jobs"} <= priced
