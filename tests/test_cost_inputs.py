"""Any valid Terraform JSON prices: block arrays, count/for_each expansion, expressions;
invalid input is one line, exit 2. Usage files work as Infracost's do."""

from __future__ import annotations

import json

import pytest

from core.errors import UserError
from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from cost.usage import load_usage
from tests.conftest import run_cli

PROVIDER = {"provider": {"aws": [{"region": "us-east-1"}]}}


def _write(tmp_path, resources, **extra):
    path = tmp_path / "main.tf.json"
    path.write_text(json.dumps({**PROVIDER, "resource": resources, **extra}))
    return path


def _price(path, usage=None):
    return estimate(load_projects(path)[0], load_catalog(), usage or {})


def test_count_and_for_each_over_literals_give_one_instance_each(tmp_path):
    path = _write(tmp_path, {"aws_kms_key": {
        "counted": {"count": 3},
        "mapped": {"for_each": {"a": {}, "b": {}}},
        "set": {"for_each": ["x", "y", "x"]},
        "none": {"count": 0}}})
    costs = {r.address: r for r in _price(path).resources}
    assert sorted(costs) == ['aws_kms_key.counted[0]', 'aws_kms_key.counted[1]',
                             'aws_kms_key.counted[2]', 'aws_kms_key.mapped["a"]',
                             'aws_kms_key.mapped["b"]', 'aws_kms_key.set["x"]',
                             'aws_kms_key.set["y"]']


def test_each_value_and_count_index_are_bound_in_attributes(tmp_path):
    path = _write(tmp_path, {"aws_sagemaker_notebook_instance": {"nb": {
        "for_each": {"small": {"type": "ml.t3.medium"}},
        "instance_type": "${each.value.type}", "name": "nb-${each.key}"}}})
    project = load_projects(path)[0]
    (resource,) = project.resources
    assert resource.values["instance_type"] == "ml.t3.medium"
    assert resource.values["name"] == "nb-small"
    # ml.t3.medium notebook, us-east-1: 0.05 x 730
    assert _price(path).monthly == pytest.approx(0.05 * 730)


def test_expression_count_is_one_instance_with_a_stated_assumption(tmp_path):
    path = _write(tmp_path, {"aws_kms_key": {
        "k": {"count": "${var.replicas}"}, "m": {"for_each": "${var.keys}"}}})
    cost = _price(path)
    assert [r.address for r in cost.resources] == ["aws_kms_key.k", "aws_kms_key.m"]
    assert any("count is an expression (${var.replicas})" in a for a in cost.assumptions)
    assert any("for_each is an expression" in a for a in cost.assumptions)
    result = run_cli("cost", str(path), "-f", "markdown")
    assert result.returncode == 0, result.stderr
    assert "count is an expression" in result.stdout


def test_block_arrays_are_valid_terraform_json(tmp_path):
    path = tmp_path / "arrays.tf.json"
    path.write_text(json.dumps({
        "provider": [{"aws": [{"region": "us-east-1"}]}],
        "resource": [{"aws_kms_key": [{"a": [{}]}, {"b": [{}]}]},
                     {"aws_sagemaker_notebook_instance": {"nb": [{"instance_type":
                                                                   "ml.t3.medium"}]}}]}))
    cost = _price(path)
    assert sorted(r.address for r in cost.resources) == [
        "aws_kms_key.a", "aws_kms_key.b", "aws_sagemaker_notebook_instance.nb"]
    assert cost.monthly > 0


def test_expressions_in_priced_attributes_never_crash(tmp_path):
    path = _write(tmp_path, {
        "azurerm_machine_learning_compute_cluster": {"gpu": {
            "for_each": "${var.pools}", "vm_size": "Standard_NC4as_T4_v3",
            "location": "eastus", "vm_priority": "Dedicated",
            "scale_settings": {"min_node_count": "${each.value.min_node_count}",
                               "max_node_count": 4}}},
        "aws_sagemaker_notebook_instance": {"nb": {"instance_type": "${var.type}"}},
        "aws_sagemaker_endpoint": {"e": {"endpoint_config_name": "${var.config}"}}})
    result = run_cli("cost", str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("resource", "expected"), [
    ({"count": -1}, "resource.aws_kms_key.k: count: expected a whole number >= 0"),
    ({"count": "three"}, "count: expected a whole number >= 0 or an expression, found 'three'"),
    ({"count": 1.5}, "count: expected a whole number"),
    ({"count": True}, "count: expected a whole number"),
    ({"for_each": 3}, "for_each: expected a map, a set of strings or an expression"),
    ({"count": 1, "for_each": {}}, "count and for_each: expected one of them, found both"),
])
def test_invalid_counts_are_one_line_exit_2(tmp_path, resource, expected):
    path = _write(tmp_path, {"aws_kms_key": {"k": resource}})
    result = run_cli("cost", str(path))
    assert result.returncode == 2, result.stdout
    assert expected in result.stderr and str(path) in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_truncated_json_is_one_line_exit_2(tmp_path):
    path = tmp_path / "cut.tf.json"
    path.write_text(json.dumps({**PROVIDER, "resource": {"aws_kms_key": {"k": {}}}})[:-7])
    result = run_cli("cost", str(path))
    assert result.returncode == 2
    assert f"{path}:1: invalid JSON" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_wildcards_match_only_that_resources_instances(tmp_path):
    path = _write(tmp_path, {"aws_s3_bucket": {
        "lake": {"count": 2}, "lake_other": {"count": 1}, "solo": {}}})
    usage = {"resource_usage": {"aws_s3_bucket.lake[*]": {"storage_gb": 100},
                                "aws_s3_bucket.solo": {"standard": {"storage_gb": 10}}}}
    costs = {r.address: r.components[0].quantity for r in _price(path, usage).resources}
    assert costs["aws_s3_bucket.lake[0]"] == costs["aws_s3_bucket.lake[1]"] == 100
    assert costs["aws_s3_bucket.lake_other[0]"] is None  # not matched by lake[*]
    assert costs["aws_s3_bucket.solo"] == 10  # Infracost's nested key


def test_usage_file_takes_strings_for_names_and_prices_a_vertex_machine(tmp_path):
    usage_path = tmp_path / "usage.yml"
    usage_path.write_text("version: 0.1\nresource_usage:\n  google_vertex_ai_endpoint.e:\n"
                          "    machine_type: n1-standard-8\n    accelerator_type: "
                          "NVIDIA_TESLA_T4\n    accelerator_count: 1\n    replicas: 2\n")
    path = tmp_path / "vertex.tf.json"
    path.write_text(json.dumps({"provider": {"google": [{"region": "us-central1"}]},
                                "resource": {"google_vertex_ai_endpoint": {"e": {
                                    "location": "us-central1"}}}}))
    cost = _price(path, load_usage(usage_path))
    (endpoint,) = cost.resources
    assert not endpoint.unpriced_reason
    names = [c.name for c in endpoint.components]
    assert any("n1-standard-8" in n for n in names) and any("NVIDIA_TESLA_T4" in n for n in names)
    assert all(c.quantity == 2 * 730 for c in endpoint.components)


@pytest.mark.parametrize(("content", "expected"), [
    ("resource_usage:\n  x.y:\n    machine_type: 4", "x.y.machine_type: expected a name"),
    ("resource_usage:\n  x.y:\n    storage_gb: .inf", "storage_gb: expected a number >= 0"),
    ("resource_usage:\n  x.y:\n    standard:\n      storage_gb: -1",
     "resource_usage.x.y.standard.storage_gb: expected a number >= 0"),
    ("resource_usage:\n  x.y:\n    storage_gb: true", "expected a number >= 0, found True"),
])
def test_bad_usage_values_name_the_key(tmp_path, content, expected):
    path = tmp_path / "usage.yml"
    path.write_text(content)
    with pytest.raises(UserError, match=expected):
        load_usage(path)


def test_json_report_lists_unpriced_unsupported_and_assumptions(tmp_path):
    path = _write(tmp_path, {"aws_kms_key": {"k": {"count": "${var.n}"}},
                             "aws_mq_broker": {"b": {}},
                             "aws_sagemaker_endpoint": {"e": {"endpoint_config_name": "x"}}})
    result = run_cli("cost", str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
    project = json.loads(result.stdout)["projects"][0]
    breakdown = project["breakdown"]
    assert breakdown["unsupportedResources"] == [
        {"resourceType": "aws_mq_broker", "count": 1,
         "reason": "no pricer for this resource type"}]
    (unpriced,) = breakdown["unpricedResources"]
    assert unpriced["name"] == "aws_sagemaker_endpoint.e" and unpriced["reason"]
    assert project["summary"]["totalUnpricedResources"] == 1
    assert any("count is an expression" in a for a in project["assumptions"])


def test_plan_of_a_terraml_gcp_stack_prices_serving_from_its_outputs(tmp_path):
    """`terraform show -json` drops terraml's record; the neutral serving outputs stand in."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({
        "format_version": "1.2",
        "planned_values": {
            "outputs": {"serving_instance_type": {"value": "n1-standard-8"},
                        "serving_accelerator_type": {"value": "NVIDIA_TESLA_T4"},
                        "serving_min_replicas": {"value": 2},
                        "serving_max_replicas": {"value": 4}},
            "root_module": {"resources": [{
                "address": "google_vertex_ai_endpoint.ep", "mode": "managed",
                "type": "google_vertex_ai_endpoint", "name": "ep",
                "values": {"location": "us-central1", "region": "us-central1"}}]}},
        "configuration": {"provider_config": {"google": {"name": "google", "expressions": {
            "region": {"constant_value": "us-central1"}}}}}}))
    result = run_cli("cost", str(plan), "-f", "json")
    assert result.returncode == 0, result.stderr
    (endpoint,) = json.loads(result.stdout)["projects"][0]["breakdown"]["resources"]
    quantities = {c["name"]: float(c["monthlyQuantity"]) for c in endpoint["costComponents"]}
    # 2 always-on replicas x 730 h of the machine and of its one T4 each
    assert quantities == {"Replicas (n1-standard-8, on-demand, x2)": 1460.0,
                          "Replica GPUs (NVIDIA_TESLA_T4 x1, x2)": 1460.0}
    project = load_projects(plan)[0]
    from cost.policy import check
    verdicts = check(project, estimate(project, load_catalog()), {"max_gpus": 1})
    assert [v.message for v in verdicts if v.level == "block"] == [
        "2 GPUs (always-on serving + one training job) exceed max_gpus 1"]
