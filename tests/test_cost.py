"""Cost engine: golden figures computed by hand from the catalog rows, inputs, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import UserError
from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from cost.usage import load_usage
from tests.conftest import ROOT, run_cli

PLAN = ROOT / "tests/plans/aws_ml_plan.json"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def plan_cost(catalog):
    usage = {"resource_usage": {"aws_s3_bucket.lake": {"storage_gb": 1000},
                                "aws_nat_gateway.nat": {"monthly_data_processed_gb": 100},
                                "module.lake.aws_s3_bucket.raw": {"storage_gb": 10}}}
    return estimate(load_projects(PLAN)[0], catalog, usage)


def by_address(cost):
    return {r.address: r for r in cost.resources}


def test_realtime_endpoint_priced_at_autoscaling_minimum(plan_cost):
    endpoint = by_address(plan_cost)["aws_sagemaker_endpoint.rt"]
    # ml.g5.xlarge hosting, us-east-1: 1.4084 USD/h x 730 h x 2 instances (min_capacity)
    assert endpoint.monthly == pytest.approx(1.4084 * 730 * 2)
    assert "autoscaling 2-4" in endpoint.components[0].note


def test_notebook_nat_interface_endpoint_kms_alarm_budget(plan_cost):
    costs = by_address(plan_cost)
    # ml.t3.medium notebook: 0.05 USD/h x 730 (region assumed us-east-1 by the source note)
    assert costs["aws_sagemaker_notebook_instance.nb"].monthly == pytest.approx(0.05 * 730)
    # NAT: 0.045 x 730 h + 0.045 x 100 GB
    assert costs["aws_nat_gateway.nat"].monthly == pytest.approx(0.045 * 730 + 0.045 * 100)
    # Interface endpoint in 2 AZs: 0.01 x 730 x 2, data usage unknown (usage-based)
    assert costs["aws_vpc_endpoint.sagemaker"].monthly == pytest.approx(0.01 * 730 * 2)
    assert costs["aws_kms_key.k"].monthly == pytest.approx(1.0)
    assert costs["aws_cloudwatch_metric_alarm.fast"].monthly == pytest.approx(0.30)
    assert costs["aws_budgets_budget.b"].monthly == 0


def test_usage_file_addresses_and_wildcards(plan_cost):
    costs = by_address(plan_cost)
    assert costs["aws_s3_bucket.lake"].monthly == pytest.approx(0.023 * 1000)
    assert costs["module.lake.aws_s3_bucket.raw"].monthly == pytest.approx(0.023 * 10)


def test_free_and_unknown_types_are_reported_not_silent(plan_cost):
    assert by_address(plan_cost)["aws_iam_role.r"].free
    assert plan_cost.unsupported == {"aws_mq_broker": 1}


def test_shipped_dev_environment_prices_serverless_and_spot_training(catalog, tmp_path):
    result = run_cli("synth", "--env", "dev", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    cost = estimate(load_projects(tmp_path)[0], catalog)
    items = {c.name: c for r in cost.resources for c in r.components}
    serverless = items["Serverless inference (primary, 2048 MB)"]
    # 200 000 requests x 100 ms = 20 000 s at the 2048 MB per-second rate 0.00004
    assert serverless.monthly == pytest.approx(20_000 * 0.00004)
    spot = items["Training (ml.g4dn.xlarge, managed spot)"]
    # 40 GPU-hours on 1 T4; hosting rate 0.7364 x EC2 g4dn.xlarge spot/on-demand (0.2039/0.526)
    assert spot.monthly == pytest.approx(40 * round(0.7364 * 0.2039 / 0.526, 6), rel=1e-4)


def test_json_report_is_infracost_shaped(tmp_path):
    result = run_cli("cost", str(PLAN), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    project = doc["projects"][0]
    assert float(doc["totalMonthlyCost"]) > 0
    assert {"pastTotalMonthlyCost", "diffTotalMonthlyCost"} <= set(doc)
    components = project["breakdown"]["resources"][0]["costComponents"]
    assert {"name", "unit", "price", "monthlyQuantity", "monthlyCost"} <= set(components[0])
    assert project["summary"]["unsupportedResourceCounts"] == {"aws_mq_broker": 1}


def test_markdown_report_has_marker_totals_and_unpriced(tmp_path):
    out = tmp_path / "report.md"
    result = run_cli("cost", str(PLAN), "--format", "markdown", "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.startswith("<!-- terraml-cost-report -->")
    assert "aws_mq_broker x1" in text and "**Total**" in text


@pytest.mark.parametrize(("content", "expected"), [
    ("not json", "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"foo": 1}', "found neither"),
    ('{"planned_values": {"root_module": {"resources": [{"name": "x"}]}}}',
     "expected resources with a type"),
])
def test_bad_plan_files_exit_2_with_one_line(tmp_path, content, expected):
    plan = tmp_path / "plan.json"
    plan.write_text(content)
    result = run_cli("cost", str(plan))
    assert result.returncode == 2
    assert expected in result.stderr and result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(("content", "expected"), [
    ("resource_usage: [1]", "resource_usage: expected a mapping"),
    ("resource_usage:\n  aws_s3_bucket.x:\n    storage_gb: lots", "expected a number"),
    ("bogus: 1", "bogus: unknown key"),
    ("- a", "expected a mapping"),
])
def test_bad_usage_files(tmp_path, content, expected):
    path = tmp_path / "usage.yml"
    path.write_text(content)
    with pytest.raises(UserError, match=expected):
        load_usage(path)


@pytest.mark.parametrize(("row", "expected"), [
    ("aws,s3,x,us-east-1,gb_month,abc,storage,src,2024-01,", "usd: expected a number"),
    ("aws,s3,x,us-east-1,gb_month,-1,storage,src,2024-01,", "usd: expected >= 0"),
    ("aws,s3,x,us-east-1,gb_month,1,cheap,src,2024-01,", "price_kind: expected one of"),
    ("aws,s3,x,us-east-1,gb_month,1,storage,,2024-01,", "source: expected a value"),
    ("aws,s3,x,us-east-1,gb_month,1,storage,src,unknown,", "source_date: expected YYYY-MM-DD"),
])
def test_bad_catalog_rows_name_file_line_and_column(tmp_path: Path, row, expected):
    from cost.catalog import HEADER

    path = tmp_path / "aws.csv"
    path.write_text(",".join(HEADER) + "\n" + row + "\n")
    with pytest.raises(UserError, match=rf"aws.csv:2: {expected}"):
        load_catalog([path])


def test_shipped_catalog_keeps_source_and_date_per_row():
    import csv

    for cloud in ("aws", "gcp", "azure"):
        rows = list(csv.DictReader((ROOT / f"cost/catalog/{cloud}.csv").open()))
        assert rows and all(r["source"] and r["source_date"] for r in rows)
        regions = {r["region"] for r in rows}
        assert any(r.startswith(("us", "eastus")) for r in regions), cloud
        assert any(r.startswith(("eu", "westeurope")) for r in regions), cloud


def _plan_with_instances(tmp_path: Path, name: str, minimum: int) -> Path:
    doc = json.loads(PLAN.read_text())
    for item in doc["planned_values"]["root_module"]["resources"]:
        if item["type"] == "aws_appautoscaling_target":
            item["values"]["min_capacity"] = minimum
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_diff_between_plans_reports_resource_and_total_deltas(tmp_path):
    base = _plan_with_instances(tmp_path, "base.json", 2)
    current = _plan_with_instances(tmp_path, "current.json", 3)
    result = run_cli("cost", "diff", "--base", str(base), str(current), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    # one more ml.g5.xlarge: 1.4084 x 730
    assert float(doc["diffTotalMonthlyCost"]) == pytest.approx(1.4084 * 730)
    assert float(doc["pastTotalMonthlyCost"]) > 0
    assert doc["projects"][0]["pastBreakdown"]["resources"]
    table = run_cli("cost", "diff", "--base", str(base), str(current))
    assert "aws_sagemaker_endpoint.rt" in table.stdout and "+$1,028.13" in table.stdout


def test_diff_against_a_git_ref_synthesizes_the_base():
    result = run_cli("cost", "diff", "--base", "HEAD", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "| Base | Diff |" in result.stdout and "`ml-prod`" in result.stdout


def test_diff_with_unknown_base_is_bad_input():
    result = run_cli("cost", "diff", "--base", "no-such-ref-or-file")
    assert result.returncode == 2
    assert "is not a file, folder or git ref" in result.stderr


def test_html_report_is_self_contained_with_a_chart(tmp_path):
    out = tmp_path / "cost.html"
    result = run_cli("cost", str(PLAN), "--format", "html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "<rect" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "aws_mq_broker x1" in page


def test_unknown_format_is_bad_input():
    result = run_cli("cost", str(PLAN), "--format", "pdf")
    assert result.returncode == 2 and "--format: expected one of" in result.stderr


def _costs(plan: str, usage: dict) -> dict:
    cost = estimate(load_projects(ROOT / "tests/plans" / plan)[0], load_catalog(),
                    {"resource_usage": usage})
    return cost, by_address(cost)


def test_gcp_pricers_golden():
    cost, costs = _costs("gcp_ml_plan.json", {
        "google_storage_bucket.raw": {"storage_gb": 500},
        "google_artifact_registry_repository.images": {"storage_gb": 20},
        "google_compute_router_nat.nat": {"assigned_vms": 40, "monthly_data_processed_gb": 10},
        "google_vertex_ai_endpoint.serve": {"machine_type": "n1-standard-4", "replicas": 2}})
    assert costs["google_storage_bucket.raw"].monthly == pytest.approx(0.02 * 500)
    # 90-day rotation keeps 1 + 4 versions active after a year: 5 x 0.06
    assert costs["google_kms_crypto_key.data"].monthly == pytest.approx(5 * 0.06)
    assert costs["google_kms_crypto_key.hsm"].monthly == pytest.approx(1.0)
    # the 0.5 GB free tier is per billing account: not subtracted per repository
    assert costs["google_artifact_registry_repository.images"].monthly == pytest.approx(0.1 * 20)
    # NAT per-VM fee caps at 32 VMs: 32 x 0.0014 x 730, plus 10 GB x 0.045
    assert costs["google_compute_router_nat.nat"].monthly == pytest.approx(
        32 * 0.0014 * 730 + 0.045 * 10)
    # n1-standard-4 on-demand us-central1 0.189999 x 730 x 2 replicas (a floor)
    assert costs["google_vertex_ai_endpoint.serve"].monthly == pytest.approx(0.189999 * 730 * 2)
    assert costs["google_project_service.aiplatform"].free
    assert cost.unsupported == {"google_sql_database_instance": 1}


def test_azure_pricers_golden():
    cost, costs = _costs("azure_ml_plan.json", {
        "azurerm_machine_learning_compute_cluster.cpu": {"monthly_node_hours": 100},
        "azurerm_storage_account.lake": {"storage_gb": 1000},
        "azurerm_key_vault.kv": {"monthly_operations": 50_000},
        "azurerm_log_analytics_workspace.logs": {"monthly_ingested_gb": 10}})
    # 1 always-on low-priority NC4as_T4_v3 in westeurope: 0.132 x 730
    assert costs["azurerm_machine_learning_compute_cluster.gpu"].monthly == pytest.approx(
        0.132 * 730)
    # min 0 dedicated D4s_v3 in eastus: only the 100 job node-hours at 0.192
    assert costs["azurerm_machine_learning_compute_cluster.cpu"].monthly == pytest.approx(
        0.192 * 100)
    # plus the P10 OS disk every compute instance carries (19.71, eastus)
    assert costs["azurerm_machine_learning_compute_instance.dev"].monthly == pytest.approx(
        0.293 * 730 + 19.71)
    assert costs["azurerm_storage_account.lake"].monthly == pytest.approx(0.0184 * 1000)
    assert costs["azurerm_container_registry.acr"].monthly == pytest.approx(0.667 * 30)
    assert costs["azurerm_key_vault.kv"].monthly == pytest.approx(0.03 * 5)
    assert costs["azurerm_log_analytics_workspace.logs"].monthly == pytest.approx(2.99 * 10)
    assert costs["azurerm_machine_learning_workspace.ws"].free
    assert cost.unsupported == {}


def test_report_snapshots(snapshot):
    from cost import reports

    cost = estimate(load_projects(PLAN)[0], load_catalog(),
                    {"resource_usage": {"aws_s3_bucket.lake": {"storage_gb": 1000}}})
    assert reports.markdown([cost]) == snapshot(name="markdown")
    doc = json.loads(reports.infracost_json([cost]))
    doc["projects"][0]["metadata"]["path"] = "tests/plans/aws_ml_plan.json"
    assert doc == snapshot(name="json")


def test_own_stacks_have_no_unexplained_unpriced_resources(catalog, tmp_path):
    result = run_cli("synth", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for project in load_projects(tmp_path):
        cost = estimate(project, catalog)
        assert cost.unsupported == {}, (project.name, cost.unsupported)
        assert all(r.unpriced_reason for r in cost.unpriced)


def test_cost_of_the_environments_prices_only_their_stacks(shipped_project):
    """`terraml cost` without a path synthesizes ./environments and prices those stacks only,
    not others left in cdktf.out by earlier runs (another --env-dir, a deleted file)."""
    import json as _json

    stale = shipped_project / "cdktf.out/stacks/ml-gone/cdk.tf.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(_json.dumps({"resource": {"aws_nat_gateway": {"nat": {"subnet_id": "x"}}}}))
    result = run_cli("cost", "--format", "json", cwd=shipped_project)
    assert result.returncode == 0, result.stderr
    names = sorted(p["name"] for p in _json.loads(result.stdout)["projects"])
    assert names == ["ml-dev", "ml-prod", "ml-staging"]
