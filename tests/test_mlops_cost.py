"""Issue 12 in the cost engine: drift monitoring runs, notebooks and feature stores priced on
AWS, GCP and Azure from hand-written Terraform JSON with terraml's records (the
`//.terraml.workloads` contract of stacks/workloads.py), hand-computed; the same guardrail
verdicts on every cloud; the dev idle cost of the three layers with notebooks stopped; and the
shipped examples, once every cloud's builders exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from cost.policy import check
from tests.conftest import ROOT, run_cli

CLOUDS = ("aws", "gcp", "azure")
REGION = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}
SMALL = {"aws": "ml.m5.large", "gcp": "e2-standard-2", "azure": "Standard_D2s_v3"}
DRIFT_SMALL = {**SMALL, "azure": "Standard_E4s_v3"}
NOTEBOOK_SMALL = {**SMALL, "aws": "ml.t3.medium"}  # SageMaker notebook instance types
# Catalog rates of the small CPU machine on each cloud: SageMaker (training row, standing in
# for Processing), Compute Engine (the Vertex floor), the Azure VM; the SageMaker notebook row.
PROCESSING = {"aws": 0.115, "gcp": 0.06701142, "azure": 0.096}
NOTEBOOK = {"aws": 0.115, "gcp": 0.06701142, "azure": 0.096}
ML_STORAGE = 0.154  # gp2 ML storage, eu-west-1 bill (the only SageMaker storage row)
PD_STANDARD = 0.04  # GCP, US pricing
P10 = 19.71  # Azure premium SSD P10 LRS, eastus: every compute instance's OS disk


def drift_record(cloud: str, runs: float = 30, hours: float = 0.1) -> dict:
    return {"kind": "monitoring_job", "resource": None, "cloud": cloud, "region": REGION[cloud],
            "instance_type": SMALL[cloud], "gpus": 0, "min_instances": 0, "max_instances": 1,
            "hours_per_run": hours, "runs_per_month": runs,
            "runs_source": "monitoring.drift.schedule '0 6 * * *'"}


def notebook_record(cloud: str, hours: float) -> dict:
    return {"kind": "notebook", "resource": None, "cloud": cloud, "region": REGION[cloud],
            "instance_type": SMALL[cloud], "gpus": 0, "min_instances": 0, "max_instances": 2,
            "users": ["alice", "bob"], "hours_per_month": hours, "disk_gb": 20}


def notebooks(cloud: str) -> dict:
    """Two notebooks as each cloud's builder writes them (machine, 20 GB disk)."""
    if cloud == "aws":
        return {"aws_sagemaker_notebook_instance": {user: {
            "instance_type": "ml.m5.large", "volume_size": 20} for user in ("alice", "bob")},
            "aws_sagemaker_notebook_instance_lifecycle_configuration": {"idle": {}}}
    if cloud == "gcp":
        return {"google_workbench_instance": {user: {
            "location": "us-central1-a", "gce_setup": {
                "machine_type": "e2-standard-2",
                "boot_disk": {"disk_size_gb": 150, "disk_type": "PD_STANDARD"},
                "data_disks": {"disk_size_gb": 20, "disk_type": "PD_BALANCED"}}}
            for user in ("alice", "bob")}}
    return {"azurerm_machine_learning_compute_instance": {user: {
        "location": "eastus", "virtual_machine_size": "Standard_D2s_v3"}
        for user in ("alice", "bob")}}


def online_store(cloud: str) -> dict:
    if cloud == "aws":
        return {"aws_sagemaker_feature_group": {"customer_profile": {
            "online_store_config": {"enable_online_store": True},
            "offline_store_config": {"s3_storage_config": {"s3_uri": "s3://features/x"}}}}}
    if cloud == "gcp":
        return {"google_vertex_ai_feature_online_store": {"online": {
            "region": "us-central1", "bigtable": {"auto_scaling": {
                "min_node_count": 1, "max_node_count": 2, "cpu_utilization_target": 50}}}},
            "google_vertex_ai_feature_online_store_featureview": {"customer_profile": {}},
            "google_vertex_ai_feature_group": {"customer_profile": {}},
            "google_vertex_ai_feature_group_feature": {"tenure": {}}}
    return {"azurerm_redis_cache": {"online": {"location": "eastus", "sku_name": "Basic",
                                               "family": "C", "capacity": 0}}}


PROVIDER = {"aws": {"aws": [{"region": "us-east-1"}]},
            "gcp": {"google": [{"region": "us-central1", "project": "p"}]},
            "azure": {"azurerm": [{"features": {}}]}}


def stack(tmp_path: Path, name: str, cloud: str, resources: dict, workloads: list,
          tier: str = "dev", guardrails: dict | None = None) -> Path:
    folder = tmp_path / "stacks" / name
    folder.mkdir(parents=True)
    usage = {"environment": name, "tier": tier, "features": {
        "offline_stored_gb": 5, "online_groups": ["customer_profile"],
        "online_store": {"nodes": 1, "reads_per_month": 1e6, "writes_per_month": 1e6,
                         "stored_gb": 1}}}
    doc = {"//": {"terraml": {"usage": usage, "workloads": workloads,
                              "guardrails": guardrails or {}}},
           "provider": PROVIDER[cloud], "resource": resources}
    (folder / "cdk.tf.json").write_text(json.dumps(doc))
    return tmp_path


def priced(path: Path) -> dict:
    (project,) = load_projects(path)
    cost = estimate(project, load_catalog())
    return {"project": project, "cost": cost,
            "by": {r.address: r for r in cost.resources}}


# -- drift monitoring runs ------------------------------------------------------------------

@pytest.mark.parametrize("cloud", CLOUDS)
def test_drift_runs_are_compute_at_the_processing_rate(tmp_path, cloud):
    result = priced(stack(tmp_path, "ml-dev", cloud, {}, [drift_record(cloud)]))
    job = result["by"]["terraml_monitoring_jobs.ml-dev"]
    assert not job.unpriced_reason
    # 30 runs/month x 0.1 h = 3 machine-hours at the small machine's rate
    assert job.monthly == pytest.approx(3 * PROCESSING[cloud], abs=1e-5)
    assert any("drift monitoring: 30 runs/month" in line for line in result["cost"].assumptions)


def test_a_machine_without_a_rate_is_unpriced_with_the_reason(tmp_path):
    record = {**drift_record("azure"), "instance_type": "Standard_Z99_v9"}
    job = priced(stack(tmp_path, "ml-dev", "azure", {}, [record]))["by"][
        "terraml_monitoring_jobs.ml-dev"]
    assert job.monthly == 0 and "Standard_Z99_v9" in job.unpriced_reason


def test_aws_monitor_resources_bill_nothing_beside_the_record(tmp_path):
    resources = {"aws_sagemaker_monitoring_schedule": {"drift": {}},
                 "aws_sagemaker_data_quality_job_definition": {"drift": {}}}
    by = priced(stack(tmp_path, "ml-dev", "aws", resources, [drift_record("aws")]))["by"]
    assert by["aws_sagemaker_monitoring_schedule.drift"].free
    assert by["aws_sagemaker_data_quality_job_definition.drift"].free
    # without the record (a foreign project), the schedule's runs are named as unpriced
    other = priced(stack(tmp_path / "b", "ml-x", "aws", resources, []))["by"]
    assert "Processing job" in other["aws_sagemaker_monitoring_schedule.drift"].unpriced_reason


# -- notebooks --------------------------------------------------------------------------------

@pytest.mark.parametrize("cloud", CLOUDS)
def test_notebooks_use_the_recorded_hours_plus_their_disks(tmp_path, cloud):
    result = priced(stack(tmp_path, "ml-dev", cloud, notebooks(cloud),
                          [notebook_record(cloud, 30)]))
    machines = {a: r for a, r in result["by"].items()
                if r.type in ("aws_sagemaker_notebook_instance", "google_workbench_instance",
                              "azurerm_machine_learning_compute_instance")}
    assert len(machines) == 2
    disk = {"aws": 20 * ML_STORAGE, "gcp": 150 * PD_STANDARD, "azure": P10}[cloud]
    for cost in machines.values():
        assert not cost.unpriced_reason
        assert cost.monthly == pytest.approx(30 * NOTEBOOK[cloud] + disk, abs=1e-5)
        assert "30 running h/month, from notebooks.hours_per_month" in cost.components[0].note
    first = next(iter(machines.values())).components[0].note
    if cloud == "gcp":  # no sourced pd-balanced figure: the data disk is named, not guessed
        assert "data disk: no sourced PD_BALANCED price" in first
        assert "management fee" in first
    if cloud == "azure":  # Azure's fixed P10 OS disk, whatever notebooks.disk_gb says
        disk_line = next(iter(machines.values())).components[1]
        assert disk_line.name.startswith("OS disk (P10 LRS") and disk_line.quantity == 1
        assert "notebooks.disk_gb does not apply" in disk_line.note
    if cloud == "aws":
        assert result["by"]["aws_sagemaker_notebook_instance_lifecycle_configuration.idle"].free


@pytest.mark.parametrize("cloud", CLOUDS)
def test_dev_idle_cost_of_the_three_layers_with_notebooks_stopped(tmp_path, cloud):
    """Notebooks at 0 running hours, daily drift runs, an offline-only feature store: what the
    three layers still bill in dev is the notebooks' disks plus the drift runs (hand-computed
    here for these disk sizes; bench/mlops_idle.py prints it for the shipped examples). Azure
    bills each compute instance's fixed P10 OS disk; the GCP pd-balanced data disks have no
    sourced figure: named, not priced."""
    offline = {"aws": {"aws_sagemaker_feature_group": {"customer_profile": {
        "offline_store_config": {"s3_storage_config": {"s3_uri": "s3://features/x"}}}}},
        "gcp": {"google_bigquery_table": {"customer_profile": {"table_id": "t"}},
                "google_vertex_ai_feature_group": {"customer_profile": {}}},
        "azure": {}}[cloud]
    result = priced(stack(tmp_path, "ml-dev", cloud, {**notebooks(cloud), **offline},
                          [drift_record(cloud, runs=30.417), notebook_record(cloud, 0)]))
    idle = result["cost"].monthly
    expected = {"aws": 2 * 20 * ML_STORAGE, "gcp": 2 * 150 * PD_STANDARD + 5 * 0.02,
                "azure": 2 * P10}[cloud] + 30.417 * 0.1 * PROCESSING[cloud]
    assert idle == pytest.approx(expected, abs=1e-4)
    assert all(not c.quantity for r in result["cost"].resources for c in r.components
               if c.unit == "hours" and r.type != "terraml_monitoring_jobs")  # stopped
    assert not result["cost"].unsupported


# -- feature stores and the guardrails ---------------------------------------------------------

@pytest.mark.parametrize("cloud", CLOUDS)
def test_online_stores_are_billed_while_idle_and_blocked_in_dev(tmp_path, cloud):
    result = priced(stack(tmp_path, "ml-dev", cloud, online_store(cloud), []))
    stores = [r for r in result["cost"].resources if r.idle_billing]
    assert len(stores) == 1
    assert stores[0].unpriced_reason.startswith("no sourced")  # no figure: never a guess
    verdicts = check(result["project"], result["cost"], {})
    blocked = [v for v in verdicts if v.level == "block"]
    assert [v.rule for v in blocked] == ["always_on_in_dev"]
    assert blocked[0].resource == stores[0].address
    allowed = check(result["project"], result["cost"],
                    {"actions": {"always_on_in_dev": "warn"}})
    assert not [v for v in allowed if v.level == "block"]


def test_online_store_verdicts_are_the_same_on_every_cloud(tmp_path):
    levels = {}
    for cloud in CLOUDS:
        result = priced(stack(tmp_path / cloud, "ml-dev", cloud, online_store(cloud), []))
        levels[cloud] = sorted((v.rule, v.level) for v in
                               check(result["project"], result["cost"], {}))
    assert levels["aws"] == levels["gcp"] == levels["azure"]
    staging = priced(stack(tmp_path / "staging", "ml-staging", "gcp", online_store("gcp"), [],
                           tier="staging"))
    assert not [v for v in check(staging["project"], staging["cost"], {})
                if v.rule == "always_on_in_dev" and v.level != "pass"]


def test_offline_only_feature_group_is_not_billed_while_idle(tmp_path):
    resources = {"aws_sagemaker_feature_group": {"offline": {
        "offline_store_config": {"s3_storage_config": {"s3_uri": "s3://features/x"}}}}}
    cost = priced(stack(tmp_path, "ml-dev", "aws", resources, []))["by"][
        "aws_sagemaker_feature_group.offline"]
    assert not cost.idle_billing and "write request units" in cost.unpriced_reason


@pytest.mark.parametrize("cloud", CLOUDS)
def test_drift_machine_outside_allowed_instance_types_is_blocked_alike(tmp_path, cloud):
    result = priced(stack(tmp_path, "ml-dev", cloud, {}, [drift_record(cloud)]))
    rails = {"allowed_instance_types": ["some-other-machine"]}
    found = [(v.rule, v.level, v.resource, v.message.split(" on ")[0])
             for v in check(result["project"], result["cost"], rails) if v.level == "block"]
    assert found == [("allowed_instance_types", "block", "terraml_monitoring_jobs.ml-dev",
                      "drift monitoring job")]
    rails = {"allowed_instance_types": [SMALL[cloud]]}
    assert not [v for v in check(result["project"], result["cost"], rails)
                if v.level == "block"]


def test_bigquery_feature_table_and_featureview(tmp_path):
    resources = {"google_bigquery_table": {"a": {}, "b": {}},
                 **online_store("gcp")}
    by = priced(stack(tmp_path, "ml-dev", "gcp", resources, []))["by"]
    # features.offline_stored_gb 5 GB over 2 tables at 0.02/GB-month active logical storage
    assert by["google_bigquery_table.a"].monthly == pytest.approx(2.5 * 0.02)
    assert by["google_vertex_ai_feature_group.customer_profile"].free
    assert "data processing" in by[
        "google_vertex_ai_feature_online_store_featureview.customer_profile"].unpriced_reason


def test_bigquery_views_and_external_tables_store_nothing_and_take_no_share(tmp_path):
    """The GCP builder writes a native or external table per group plus a view Vertex AI
    reads: only native tables split features.offline_stored_gb; the others cost $0, said."""
    resources = {"google_bigquery_table": {
        "native": {"table_id": "t"},
        "native_vertex": {"table_id": "t_vertex", "view": {"query": "SELECT 1"}},
        "files": {"table_id": "f", "external_data_configuration": {
            "source_format": "PARQUET", "source_uris": ["gs://b/p/*.parquet"]}},
        "files_vertex": {"table_id": "f_vertex", "view": {"query": "SELECT 1"}},
        "summary": {"table_id": "s", "materialized_view": {"query": "SELECT 1"}}}}
    by = priced(stack(tmp_path, "ml-dev", "gcp", resources, []))["by"]
    native = by["google_bigquery_table.native"]
    assert native.monthly == pytest.approx(5 * 0.02)  # the only native table: all 5 GB
    assert "over 1 native table(s)" in native.components[0].note
    for view in ("native_vertex", "files_vertex"):
        cost = by[f"google_bigquery_table.{view}"]
        assert cost.monthly == 0 and "view stores nothing" in cost.components[0].note
    files = by["google_bigquery_table.files"]
    assert files.monthly == 0 and "stays in its bucket" in files.components[0].note
    summary = by["google_bigquery_table.summary"]  # stores its results: its own usage only
    assert summary.monthly == 0 and "usage-based: set storage_gb" in summary.components[0].note
    only_external = {"google_bigquery_table": {"files": resources["google_bigquery_table"][
        "files"]}}
    by = priced(stack(tmp_path / "b", "ml-dev", "gcp", only_external, []))["by"]
    assert by["google_bigquery_table.files"].monthly == 0  # nothing native: no split


def test_azapi_feature_store_entities_are_free_and_compute_instances_priced(tmp_path):
    ml = "Microsoft.MachineLearningServices/workspaces"
    resources = {"azapi_resource": {
        "store": {"type": f"{ml}@2024-04-01", "body": {"kind": "FeatureStore"}},
        "entity": {"type": f"{ml}/featurestoreEntities/versions@2024-04-01", "body": {}},
        "nb": {"type": f"{ml}/computes@2024-04-01", "location": "eastus", "body": {
            "properties": {"computeType": "ComputeInstance",
                           "properties": {"vmSize": "Standard_D2s_v3"}}}},
        "monitor": {"type": f"{ml}/schedules@2024-04-01", "body": {}}}}
    by = priced(stack(tmp_path, "ml-dev", "azure", resources,
                      [drift_record("azure"), notebook_record("azure", 30)]))["by"]
    assert by["azapi_resource.store"].free and by["azapi_resource.entity"].free
    assert by["azapi_resource.monitor"].free  # its runs: terraml_monitoring_jobs
    assert by["azapi_resource.nb"].monthly == pytest.approx(30 * 0.096 + P10)


def test_azure_feature_set_version_with_a_materialization_schedule_is_unpriced(tmp_path):
    """A scheduled materialization is a serverless Spark job per recurrence: not free."""
    ml = "Microsoft.MachineLearningServices/workspaces"
    settings = {"storeType": "OnlineAndOffline",
                "resource": {"instanceType": "standard_e4s_v3"}}
    resources = {"azapi_resource": {
        "on_demand": {"type": f"{ml}/featuresets/versions@2024-10-01", "body": {
            "properties": {"materializationSettings": settings}}},
        "scheduled": {"type": f"{ml}/featuresets/versions@2024-10-01", "body": {
            "properties": {"materializationSettings": {**settings, "schedule": {
                "triggerType": "Recurrence", "frequency": "Day", "interval": 1}}}}}}}
    by = priced(stack(tmp_path, "ml-dev", "azure", resources, []))["by"]
    assert by["azapi_resource.on_demand"].free
    scheduled = by["azapi_resource.scheduled"]
    assert not scheduled.free and scheduled.monthly == 0
    assert "serverless Spark materialization job (standard_e4s_v3)" in \
        scheduled.unpriced_reason


# -- the records the stack writes ---------------------------------------------------------

@pytest.mark.parametrize("cloud", CLOUDS)
def test_stack_records_the_same_figures_on_every_cloud(cloud):
    from adapters import get_adapter
    from stacks.app import load_environment
    from stacks.workloads import monitoring_job_workloads, notebook_workloads

    env = load_environment(ROOT / f"examples/{cloud}-mlops.yaml")
    adapter = get_adapter(env.cloud, source=str(env.source))
    (drift,) = monitoring_job_workloads(env, adapter)
    # Azure ML model monitoring runs on serverless Spark (E-series); the others on the CPU size
    assert drift["instance_type"] == DRIFT_SMALL[cloud] and drift["hours_per_run"] == 0.1
    assert drift["runs_per_month"] == pytest.approx(env.monitoring.drift.runs_per_month(),
                                                    abs=1e-3)
    (notebook,) = notebook_workloads(env, adapter)
    assert notebook["hours_per_month"] == 30 and notebook["users"] == ["alice", "bob"]
    assert notebook["disk_gb"] == 10 and notebook["instance_type"] == NOTEBOOK_SMALL[cloud]


# -- the shipped examples, through the CLI ----------------------------------------------------

def _builders_missing() -> list[str]:
    from adapters import get_adapter

    missing = []
    for cloud in CLOUDS:
        adapter = get_adapter(cloud, source="test")
        missing += [f"{cloud}:{layer}" for layer in ("drift", "features", "notebooks")
                    if not adapter.implements(layer)]
    return missing


def test_examples_are_priced_with_no_unpriced_compute(tmp_path):
    missing = _builders_missing()
    if missing:
        pytest.skip(f"waiting on builders: {', '.join(missing)}")
    envs = tmp_path / "envs"
    envs.mkdir()
    for cloud in CLOUDS:
        (envs / f"{cloud}-mlops.yaml").write_text(
            (ROOT / f"examples/{cloud}-mlops.yaml").read_text())
    out = tmp_path / "out"
    synth = run_cli("synth", "--env-dir", str(envs), "--out", str(out))
    assert synth.returncode == 0, synth.stderr
    result = run_cli("cost", str(out), "-f", "json")
    assert result.returncode in (0, 1), result.stderr
    compute = {"terraml_monitoring_jobs", "aws_sagemaker_notebook_instance",
               "google_workbench_instance", "azurerm_machine_learning_compute_instance"}
    for project in load_projects(out):
        cost = estimate(project, load_catalog())
        assert cost.unsupported == {}, (project.name, cost.unsupported)
        assert [r.address for r in cost.unpriced if r.type in compute] == []
        assert any(r.type == "terraml_monitoring_jobs" and r.monthly > 0
                   for r in cost.resources), project.name
