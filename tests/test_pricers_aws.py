"""AWS pricers: hand-computed figures from cost/catalog/aws.csv rows, priced from small
Terraform JSON documents through `estimate` and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from cost.pricers import PRICERS, load_all
from tests.conftest import run_cli

load_all()

RESOURCES = {
    "aws_s3_bucket": {
        "tiers": {"bucket": "tiers"},
        "it_get": {"bucket": "it-get"},
        "fallback": {"bucket": "fallback"},
        "huge": {"bucket": "huge"},
        "restore": {"bucket": "restore"},
    },
    "aws_kms_key": {
        "rotating": {"enable_key_rotation": True, "rotation_period_in_days": 90},
        "young": {"enable_key_rotation": True},
        "rsa": {"customer_master_key_spec": "RSA_2048"},
        "ecc": {"customer_master_key_spec": "ECC_NIST_P256"},
        "hmac": {"customer_master_key_spec": "HMAC_256"},
        "hmac_idle": {"customer_master_key_spec": "HMAC_256"},
        "store": {"custom_key_store_id": "cks-1234"},
    },
    "aws_cloudwatch_metric_alarm": {
        "standard": {"metric_name": "CPUUtilization", "period": 300},
        "high": {"metric_name": "CPUUtilization", "period": "10"},
        "math": {"metric_query": [
            {"id": "e1", "expression": "m2/m1*100", "return_data": True},
            {"id": "m1", "metric": {"metric_name": "RequestCount", "period": "120"}},
            {"id": "m2", "metric": [{"metric_name": "HTTPCode_5XX", "period": 120}]}]},
        "mixed": {"metric_query": [
            {"id": "m1", "metric": {"metric_name": "A", "period": 10}},
            {"id": "m2", "metric": {"metric_name": "B", "period": 60}}]},
        "anomaly": {"metric_query": [
            {"id": "e1", "expression": "ANOMALY_DETECTION_BAND(m1)"},
            {"id": "m1", "metric": {"metric_name": "CPUUtilization", "period": 30}}]},
        "anomaly_std": {"metric_query": [
            {"id": "e1", "expression": "ANOMALY_DETECTION_BAND(m1, 2)"},
            {"id": "m1", "metric": {"metric_name": "CPUUtilization", "period": 300}}]},
    },
    "aws_cloudwatch_composite_alarm": {"any": {"alarm_rule": "ALARM(a) OR ALARM(b)"}},
    "aws_vpc_endpoint": {
        "big": {"vpc_endpoint_type": "Interface", "subnet_ids": ["subnet-a"]},
        "two_az": {"vpc_endpoint_type": "Interface", "subnet_ids": ["${aws_subnet.a.id}",
                                                                    "${aws_subnet.b.id}"]},
        "gwlb": {"vpc_endpoint_type": "GatewayLoadBalancer", "subnet_ids": ["subnet-a"]},
        "gateway": {"vpc_endpoint_type": "Gateway"},
        "unknown": {"vpc_endpoint_type": "${var.endpoint_type}"},
    },
    "aws_eip": {"nat": {"domain": "vpc"}},
    "aws_sns_topic": {"alerts": {"name": "alerts"},
                      "orders": {"name": "orders.fifo", "fifo_topic": True}},
    "aws_sns_topic_subscription": {
        "http": {"protocol": "https", "endpoint": "https://example.com/hook"},
        "email": {"protocol": "email", "endpoint": "ops@example.com"},
        "queue": {"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:1:q"},
        "sms": {"protocol": "sms", "endpoint": "+15550100"},
    },
    "aws_cloudwatch_log_group": {
        "app": {"name": "/app"},
        "audit": {"name": "/audit", "log_group_class": "INFREQUENT_ACCESS"},
        "audit_stored": {"name": "/audit2", "log_group_class": "INFREQUENT_ACCESS"},
    },
    "aws_flow_log": {
        "to_logs": {"traffic_type": "ALL", "log_destination": "arn:aws:logs:x"},
        "to_s3": {"traffic_type": "ALL", "log_destination_type": "s3"},
        "huge": {"traffic_type": "ALL"},
    },
    "aws_batch_compute_environment": {
        "fargate": {"type": "MANAGED", "compute_resources": {"type": "FARGATE",
                                                              "max_vcpus": 16}},
        "ec2": {"type": "MANAGED", "compute_resources": {
            "type": "EC2", "min_vcpus": 4, "max_vcpus": 16, "instance_type": ["m5.xlarge"]}},
    },
    "aws_athena_workgroup": {"queries": {"name": "queries"}},
    "aws_glue_catalog_database": {"catalog": {"name": "lake"}},
    "aws_sagemaker_notebook_instance": {"dev": {"instance_type": "ml.m5.4xlarge"}},
    "aws_sfn_state_machine": {"stopper": {"name": "stopper"},
                              "busy": {"name": "busy", "type": "STANDARD"},
                              "express": {"name": "express", "type": "EXPRESS"}},
}

USAGE = {"resource_usage": {
    "aws_s3_bucket.tiers": {
        "standard": {"storage_gb": 100, "monthly_tier_1_requests": 10_000,
                     "monthly_tier_2_requests": 100_000},
        "intelligent_tiering": {"frequent_access_storage_gb": 200,
                                "infrequent_access_storage_gb": 100,
                                "monitored_objects": 20_000},
        "standard_infrequent_access": {"storage_gb": 300, "monthly_tier_1_requests": 1000,
                                       "monthly_tier_2_requests": 1000,
                                       "monthly_lifecycle_transition_requests": 1000,
                                       "monthly_data_retrieval_gb": 100},
        "one_zone_infrequent_access": {"storage_gb": 400},
        "glacier_instant_retrieval": {"storage_gb": 500, "monthly_tier_1_requests": 1000,
                                      "monthly_tier_2_requests": 1000,
                                      "monthly_data_retrieval_gb": 10},
        "glacier_flexible_retrieval": {"storage_gb": 1000,
                                       "monthly_lifecycle_transition_requests": 1000},
        "glacier_deep_archive": {"storage_gb": 1000, "monthly_tier_1_requests": 1000},
    },
    "aws_s3_bucket.it_get": {"intelligent_tiering": {"monthly_tier_2_requests": 1000}},
    "aws_s3_bucket.fallback": {"storage_gb": 10},
    "aws_s3_bucket.huge": {"standard": {"storage_gb": 60_000}},
    "aws_s3_bucket.restore": {"glacier_deep_archive": {"monthly_bulk_data_retrieval_gb": 10}},
    "aws_kms_key.rotating": {"monthly_requests": 100_000},
    "aws_sfn_state_machine.busy": {"monthly_state_transitions": 200_000},
    "aws_kms_key.young": {"rotations": 1},
    "aws_kms_key.rsa": {"monthly_requests": 20_000},
    "aws_kms_key.ecc": {"monthly_requests": 10_000},
    "aws_kms_key.hmac": {"monthly_requests": 10_000},
    "aws_vpc_endpoint.big": {"monthly_data_processed_gb": 7_000_000},
    "aws_vpc_endpoint.gwlb": {"monthly_data_processed_gb": 1000},
    "aws_sns_topic.alerts": {"monthly_requests": 1_000_000, "request_size_kb": 128},
    "aws_sns_topic.orders": {"monthly_requests": 1_000_000, "request_size_kb": 128},
    "aws_sns_topic_subscription.http": {"monthly_requests": 1_000_000, "request_size_kb": 128},
    "aws_sns_topic_subscription.email": {"monthly_requests": 50_000},
    "aws_sns_topic_subscription.queue": {"monthly_requests": 50_000},
    "aws_cloudwatch_log_group.app": {"monthly_data_ingested_gb": 100, "storage_gb": 200,
                                     "monthly_data_scanned_gb": 1000},
    "aws_cloudwatch_log_group.audit": {"monthly_data_ingested_gb": 100},
    "aws_cloudwatch_log_group.audit_stored": {"storage_gb": 50},
    "aws_flow_log.to_logs": {"monthly_data_ingested_gb": 100},
    "aws_flow_log.to_s3": {"monthly_data_ingested_gb": 100},
    "aws_flow_log.huge": {"monthly_data_ingested_gb": 20_000},
    "aws_batch_compute_environment.fargate": {"monthly_vcpu_hours": 100,
                                              "monthly_gb_hours": 200},
    "aws_athena_workgroup.queries": {"monthly_data_scanned_tb": 2},
    "aws_glue_catalog_database.catalog": {"monthly_objects": 200_000,
                                          "monthly_requests": 3_000_000},
}}


def _write(tmp_path: Path, resources: dict, region: str = "us-east-1",
           name: str = "aws.tf.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"provider": {"aws": [{"region": region}]},
                                "resource": resources}))
    return path


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def costs(catalog, tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("aws"), RESOURCES)
    project = load_projects(path)[0]
    return {r.address: r for r in estimate(project, catalog, USAGE).resources}


def test_s3_storage_classes_and_requests(costs):
    tiers = costs["aws_s3_bucket.tiers"]
    expected = (100 * 0.023 + 10 * 0.005 + 100 * 0.0004         # Standard: storage, PUT, GET
                + 200 * 0.023 + 100 * 0.0125 + 20 * 0.0025      # Intelligent-Tiering
                + 300 * 0.0125 + 1 * 0.01 + 1 * 0.001          # Standard-IA: storage, PUT, GET,
                + 1 * 0.01 + 100 * 0.01                        #   transitions, retrievals
                + 400 * 0.01                                   # One Zone-IA
                + 500 * 0.004 + 1 * 0.02 + 1 * 0.01            # Glacier Instant Retrieval
                + 10 * 0.03                                    #   retrievals
                + 1000 * 0.0036 + 1 * 0.03                     # Glacier Flexible: transitions
                + 1000 * 0.00099 + 1 * 0.05)                   # Deep Archive storage, PUT
    assert tiers.monthly == pytest.approx(expected)
    assert not tiers.unpriced_reason
    # top-level storage_gb still prices Standard storage: 10 GB x 0.023
    assert costs["aws_s3_bucket.fallback"].monthly == pytest.approx(0.23)


def test_s3_dimensions_without_a_row_make_the_bucket_unpriced(costs):
    assert "Intelligent-Tiering tier 2" in costs["aws_s3_bucket.it_get"].unpriced_reason
    assert "above 50 TB" in costs["aws_s3_bucket.huge"].unpriced_reason
    assert "monthly_bulk_data_retrieval_gb" in costs["aws_s3_bucket.restore"].unpriced_reason


def test_kms_key_specs_rotation_and_requests(costs):
    # rotation enabled, steady state: 1 key-month + 2 rotated key-months; 100k requests:
    # 10 x 0.03
    rotating = costs["aws_kms_key.rotating"]
    assert rotating.monthly == pytest.approx(1 + 2 * 1 + 10 * 0.03)
    assert "180 days" in rotating.components[1].note
    assert costs["aws_kms_key.young"].monthly == pytest.approx(1 + 1)  # one rotation so far
    assert costs["aws_kms_key.rsa"].monthly == pytest.approx(1 + 2 * 0.03)  # RSA 2048 rate
    assert costs["aws_kms_key.ecc"].monthly == pytest.approx(1 + 1 * 0.15)  # asymmetric rate
    assert "HMAC_256" in costs["aws_kms_key.hmac"].unpriced_reason
    assert costs["aws_kms_key.hmac_idle"].monthly == pytest.approx(1.0)
    store = costs["aws_kms_key.store"]
    assert store.monthly == pytest.approx(1.0) and "CloudHSM" in store.components[0].note


def test_alarm_resolutions_metric_math_anomaly_and_composite(costs):
    assert costs["aws_cloudwatch_metric_alarm.standard"].monthly == pytest.approx(0.10)
    assert costs["aws_cloudwatch_metric_alarm.high"].monthly == pytest.approx(0.30)
    # metric math: two 120 s metrics at 0.10; the expression itself is not billed
    assert costs["aws_cloudwatch_metric_alarm.math"].monthly == pytest.approx(2 * 0.10)
    assert costs["aws_cloudwatch_metric_alarm.mixed"].monthly == pytest.approx(0.30 + 0.10)
    # anomaly detection: 3 alarm metrics per band at the metric's resolution
    assert costs["aws_cloudwatch_metric_alarm.anomaly"].monthly == pytest.approx(3 * 0.30)
    assert costs["aws_cloudwatch_metric_alarm.anomaly_std"].monthly == pytest.approx(3 * 0.10)
    assert costs["aws_cloudwatch_composite_alarm.any"].monthly == pytest.approx(0.50)


def test_vpc_endpoints_tiers_gateway_load_balancer_and_free_gateway(costs):
    # 730 h x 0.01 + 1,000,000 GB x 0.01 + 4,000,000 GB x 0.006 + 2,000,000 GB x 0.004
    assert costs["aws_vpc_endpoint.big"].monthly == pytest.approx(
        7.30 + 10_000 + 24_000 + 8_000)
    assert costs["aws_vpc_endpoint.two_az"].monthly == pytest.approx(730 * 2 * 0.01)
    assert costs["aws_vpc_endpoint.gwlb"].monthly == pytest.approx(730 * 0.01 + 1000 * 0.0035)
    assert costs["aws_vpc_endpoint.gateway"].free
    assert "expression" in costs["aws_vpc_endpoint.unknown"].unpriced_reason


def test_public_ipv4_and_sns(costs):
    assert costs["aws_eip.nat"].monthly == pytest.approx(730 * 0.005)
    # 1M publishes of 128 KB = 2M billed 64 KB requests x 0.50 per 1M
    assert costs["aws_sns_topic.alerts"].monthly == pytest.approx(2 * 0.50)
    # FIFO: 1M requests x 0.30 per 1M + 1M x 128 KB = 128 GB x 0.017
    assert costs["aws_sns_topic.orders"].monthly == pytest.approx(0.30 + 128 * 0.017)
    assert costs["aws_sns_topic_subscription.http"].monthly == pytest.approx(2 * 0.60)
    # 50,000 emails = 0.5 x 2.00 per 100k
    assert costs["aws_sns_topic_subscription.email"].monthly == pytest.approx(0.5 * 2.00)
    assert "sqs" in costs["aws_sns_topic_subscription.queue"].unpriced_reason
    assert "country" in costs["aws_sns_topic_subscription.sms"].unpriced_reason


def test_logs_flow_logs_batch_athena_glue_notebook(costs):
    # Standard: 100 GB x 0.50 + 200 GB-month x 0.03 + 1000 GB scanned x 0.005
    assert costs["aws_cloudwatch_log_group.app"].monthly == pytest.approx(50 + 6 + 5)
    assert costs["aws_cloudwatch_log_group.audit"].monthly == pytest.approx(100 * 0.25)
    assert "Infrequent Access" in costs["aws_cloudwatch_log_group.audit_stored"].unpriced_reason
    assert costs["aws_flow_log.to_logs"].monthly == pytest.approx(100 * 0.50)
    assert costs["aws_flow_log.to_s3"].monthly == pytest.approx(100 * 0.25)
    assert "10 TB" in costs["aws_flow_log.huge"].unpriced_reason
    # Fargate: 100 vCPU-hours x 0.04048 + 200 GB-hours x 0.004445
    assert costs["aws_batch_compute_environment.fargate"].monthly == pytest.approx(
        100 * 0.04048 + 200 * 0.004445)
    assert costs["aws_batch_compute_environment.ec2"].monthly == pytest.approx(730 * 0.192)
    assert costs["aws_athena_workgroup.queries"].monthly == pytest.approx(2 * 5.00)
    # 200,000 objects = 2 x 1.00 per 100k; 3M requests = 3 x 1.00 per 1M
    assert costs["aws_glue_catalog_database.catalog"].monthly == pytest.approx(2 + 3)
    assert costs["aws_sagemaker_notebook_instance.dev"].monthly == pytest.approx(0.922 * 730)


def test_usage_based_components_without_usage_are_listed_not_priced(catalog, tmp_path):
    path = _write(tmp_path, {"aws_athena_workgroup": {"q": {"name": "q"}},
                             "aws_sns_topic_subscription": {"e": {"protocol": "email"}}})
    cost = estimate(load_projects(path)[0], catalog, {})
    for resource in cost.resources:
        assert resource.monthly == 0 and not resource.unpriced_reason
        assert all(c.quantity is None and "usage-based" in c.note for c in resource.components)


def test_eu_west_1_rows_and_flagged_fallback(catalog, tmp_path):
    path = _write(tmp_path, {
        "aws_sagemaker_notebook_instance": {"nb": {"instance_type": "ml.m5.xlarge"}},
        "aws_batch_compute_environment": {
            "pool": {"compute_resources": {"type": "EC2", "min_vcpus": 4,
                                           "instance_type": ["m5.xlarge"]}},
            "spot": {"compute_resources": [{"type": "FARGATE_SPOT", "max_vcpus": 16}]}},
        "aws_eip": {"ip": {"domain": "vpc"}},
    }, region="eu-west-1")
    usage = {"resource_usage": {"aws_batch_compute_environment.spot": {
        "monthly_vcpu_hours": 100, "monthly_gb_hours": 200}}}
    costs = {r.address: r for r in estimate(load_projects(path)[0], catalog, usage).resources}
    # eu-west-1 figures: notebook 0.257/h, EC2 m5.xlarge 0.214/h
    assert costs["aws_sagemaker_notebook_instance.nb"].monthly == pytest.approx(0.257 * 730)
    assert costs["aws_batch_compute_environment.pool"].monthly == pytest.approx(0.214 * 730)
    # Fargate Spot snapshot: 100 vCPU-hours x 0.01334053 + 200 GB-hours x 0.00146489
    spot = costs["aws_batch_compute_environment.spot"]
    assert spot.monthly == pytest.approx(100 * 0.01334053 + 200 * 0.00146489)
    assert "point-in-time" in spot.components[0].note
    # no eu-west-1 public IPv4 row: us-east-1 rate, flagged in the note
    eip = costs["aws_eip.ip"].components[0]
    assert eip.price == 0.005 and "us-east-1" in eip.note


def test_cli_json_report_prices_the_plan(tmp_path):
    resources = {k: RESOURCES[k] for k in ("aws_eip", "aws_athena_workgroup", "aws_kms_key")}
    path = _write(tmp_path, resources)
    usage = tmp_path / "usage.yml"
    usage.write_text(yaml.safe_dump(USAGE))
    result = run_cli("cost", str(path), "-f", "json", "--usage-file", str(usage))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    monthly = {r["name"]: r["monthlyCost"] and float(r["monthlyCost"])
               for r in doc["projects"][0]["breakdown"]["resources"]}
    assert monthly.pop("aws_kms_key.hmac") is None  # unpriced: HMAC requests have no row
    assert monthly["aws_eip.nat"] == pytest.approx(3.65)        # 730 h x 0.005
    assert monthly["aws_athena_workgroup.queries"] == pytest.approx(10.0)  # 2 TB x 5.00
    # KMS keys: 3.30 + 2 + 1.06 + 1.15 + 1 + 1 (hmac with requests is unpriced)
    kms = sum(v for k, v in monthly.items() if k.startswith("aws_kms_key."))
    assert kms == pytest.approx(3.30 + 2 + 1.06 + 1.15 + 1 + 1)


def test_machine_rows_the_serving_and_training_pricers_read(catalog):
    families = ("g4dn.xlarge", "g4dn.12xlarge", "g5.xlarge", "g5.12xlarge", "g5.48xlarge",
                "g6.xlarge", "g6.12xlarge", "g6.48xlarge", "p4d.24xlarge", "p5.48xlarge",
                "m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge")
    for family in families:
        for kind in ("on_demand", "spot"):
            price = catalog.price("aws", "ec2", family, "us-east-1", kind)
            assert price and price.region == "us-east-1", (family, kind)
    for sku in ("ml.t3.medium", "ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge"):
        price = catalog.price("aws", "sagemaker-notebook", sku, "us-east-1")
        assert price and price.region == "us-east-1", sku


EXPRESSION = "${var.unknown}"


def _expression_values() -> dict:
    keys = ("instance_type", "compute_resources", "vpc_endpoint_type", "subnet_ids", "period",
            "metric_query", "customer_master_key_spec", "enable_key_rotation",
            "rotation_period_in_days", "custom_key_store_id", "log_group_class",
            "log_destination_type", "protocol", "fifo_topic", "name", "bucket", "type")
    return {key: EXPRESSION for key in keys}


def test_every_aws_type_prices_with_expression_attributes(catalog, tmp_path):
    types = sorted(t for t, f in PRICERS.items() if f.__module__.startswith("cost.pricers.aws."))
    assert "aws_s3_bucket" in types and "aws_cloudwatch_composite_alarm" in types
    nested = dict(_expression_values(), compute_resources={
        "type": EXPRESSION, "min_vcpus": EXPRESSION, "instance_type": EXPRESSION},
        metric_query=[{"id": EXPRESSION, "expression": EXPRESSION,
                       "metric": {"period": EXPRESSION}}])
    resources = {t: {"flat": _expression_values(), "nested": nested} for t in types}
    path = _write(tmp_path, resources)
    usage = {"resource_type_default_usage": {t: {
        "monthly_requests": 1000, "storage_gb": 1, "monthly_data_ingested_gb": 1,
        "monthly_data_processed_gb": 1} for t in types}}
    cost = estimate(load_projects(path)[0], catalog, usage)
    assert len(cost.resources) == 2 * len(types) and not cost.unsupported
    for resource in cost.resources:
        assert resource.free or resource.components or resource.unpriced_reason
        # the pricer itself handled the expression (not the estimate's safety net)
        assert not resource.unpriced_reason.startswith("cannot read its attributes"), resource


def test_step_functions_bill_standard_transitions_and_name_express_unpriced(costs):
    stopper = costs["aws_sfn_state_machine.stopper"]  # the notebooks' idle stop: no usage given
    assert stopper.monthly == 0 and not stopper.unpriced_reason
    assert "usage-based: set monthly_state_transitions" in stopper.components[0].note
    assert costs["aws_sfn_state_machine.busy"].monthly == pytest.approx(200 * 0.025)
    assert "Express" in costs["aws_sfn_state_machine.express"].unpriced_reason
