"""AWS pricers. Figures come from cost/catalog/aws.csv; hours per month are 730.

Usage keys follow Infracost's usage file (`monthly_data_processed_gb`, `standard.storage_gb`,
...). A dimension whose quantity is unknown is listed with quantity None ("usage-based");
a dimension with usage but no catalog row makes the whole resource unpriced, naming it.
Account-level free tiers are never subtracted per resource.
"""

from __future__ import annotations

import math
from typing import Any

from cost.catalog import Price
from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, CostComponent, ResourceCost
from cost.pricers import (
    PricingContext,
    attribute,
    block,
    blocks,
    component,
    free,
    literal_int,
    literal_number,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)

free(
    "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy",
    "aws_kms_alias", "aws_vpc", "aws_subnet", "aws_route_table", "aws_route_table_association",
    "aws_route", "aws_security_group", "aws_default_security_group", "aws_internet_gateway",
    "aws_s3_bucket_versioning", "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy",
    "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_ownership_controls", "aws_s3_bucket_logging", "aws_ecr_lifecycle_policy",
    "aws_sagemaker_model", "aws_sagemaker_endpoint_configuration",
    "aws_sagemaker_model_package_group", "aws_batch_job_queue", "aws_appautoscaling_target",
    "aws_appautoscaling_policy", "aws_sns_topic_policy", "aws_cloudwatch_event_target",
    "aws_cloudwatch_event_rule",
)

class MissingRow(Exception):
    """A billable dimension with a known quantity has no catalog row."""


def _need(ctx: PricingContext, resource: Resource, service: str, sku: str,
          kind: str = "on_demand") -> Price:
    price = ctx.price(resource, service, sku, kind)
    if price is None:
        raise MissingRow(f"no catalog price for {service} '{sku}'")
    return price


def _usage_component(name: str, unit: str, quantity: float | None, price: Price, key: str,
                     note: str = "") -> CostComponent:
    return component(name, unit, quantity, price, usage_note(quantity, key, note))



@pricer("aws_sagemaker_notebook_instance")
def notebook(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Notebook instance hours (usage `monthly_hours`, default always on)."""
    instance = literal_text(resource.values.get("instance_type"))
    price = ctx.price(resource, "sagemaker-notebook", instance) if instance else None
    if price is None:
        return unpriced(resource, f"no notebook price for {instance or 'an unresolved type'}")
    hours = ctx.usage(resource, "monthly_hours", HOURS_PER_MONTH)
    return ResourceCost(resource.address, resource.type,
                        [component(f"Notebook instance ({instance})", "hours", hours, price)])


@pricer("aws_batch_compute_environment")
def batch(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Batch itself is free. Fargate and Fargate Spot pools: vCPU-hours and GB-hours the jobs
    run (usage `monthly_vcpu_hours`, `monthly_gb_hours`); EC2/Spot pools with min_vcpus > 0
    keep instances running."""
    if isinstance(resource.values.get("compute_resources"), str):
        return unpriced(resource, "compute_resources is an expression")
    resources = block(resource.values, "compute_resources")
    kind = attribute(resources, "type", "EC2")
    if not kind:
        return unpriced(resource, "compute_resources.type is an expression")
    if kind in ("FARGATE", "FARGATE_SPOT"):
        market = "spot" if kind == "FARGATE_SPOT" else "on_demand"
        try:
            vcpu = _need(ctx, resource, "fargate", "vCPU hour (Linux/x86)", market)
            memory = _need(ctx, resource, "fargate", "GB hour (Linux/x86)", market)
        except MissingRow as exc:
            return unpriced(resource, f"{exc} ({kind.replace('_', ' ').title()})")
        label = "Fargate Spot" if market == "spot" else "Fargate"
        note = "point-in-time Spot rate" if market == "spot" else ""
        return ResourceCost(resource.address, resource.type, [
            _usage_component(f"{label} vCPU", "vCPU-hours",
                             ctx.usage(resource, "monthly_vcpu_hours"), vcpu,
                             "monthly_vcpu_hours", note),
            _usage_component(f"{label} memory", "GB-hours",
                             ctx.usage(resource, "monthly_gb_hours"), memory,
                             "monthly_gb_hours", note),
        ])
    minimum = literal_int(resources.get("min_vcpus"), 0)
    if minimum == 0:
        return ResourceCost(resource.address, resource.type, free=True)
    instances = resources.get("instance_type")
    instance = literal_text(instances[0]) if isinstance(instances, list) and instances else ""
    market = "spot" if kind == "SPOT" else "on_demand"
    price = ctx.price(resource, "ec2", instance, market) if instance else None
    if price is None:
        return unpriced(resource, f"min_vcpus {minimum} keeps {instance or 'instances'} "
                                   "running; no EC2 price in the catalog")
    count = ctx.usage(resource, "instances", 1)
    return ResourceCost(resource.address, resource.type, [component(
        f"Always-on pool ({instance} x{count})", "hours", HOURS_PER_MONTH * count, price,
        f"min_vcpus {minimum}")])


# (usage prefix, label, storage sku, PUT/LIST sku, GET sku); Standard is handled apart.
S3_CLASSES = (
    ("intelligent_tiering", "Intelligent-Tiering",
     "Intelligent-Tiering frequent access storage (first 50 TB)", "Intelligent-Tiering", None),
    ("standard_infrequent_access", "Standard-IA", "Standard-IA storage", "Standard-IA",
     "Standard-IA"),
    ("one_zone_infrequent_access", "One Zone-IA", "One Zone-IA storage", "One Zone-IA",
     "One Zone-IA"),
    ("glacier_instant_retrieval", "Glacier Instant Retrieval", "Glacier Instant Retrieval storage",
     "Glacier Instant Retrieval", "Glacier Instant Retrieval"),
    ("glacier_flexible_retrieval", "Glacier Flexible Retrieval",
     "Glacier Flexible Retrieval storage", "Glacier Flexible Retrieval",
     "Glacier Flexible Retrieval"),
    ("glacier_deep_archive", "Glacier Deep Archive", "Glacier Deep Archive storage",
     "Glacier Deep Archive", "Glacier Deep Archive"),
)
# Intelligent-Tiering's other access tiers: (usage key, label, sku)
S3_IT_TIERS = (
    ("infrequent_access_storage_gb", "infrequent access",
     "Intelligent-Tiering infrequent access storage"),
    ("archive_access_storage_gb", "archive access", "Intelligent-Tiering archive access storage"),
    ("deep_archive_access_storage_gb", "deep archive access",
     "Intelligent-Tiering deep archive access storage"),
)
FIRST_TIER_GB = 51_200  # the "first 50 TB" storage rows
# Glacier restores (standard / expedited / bulk) and early deletes: no catalog rows yet.
S3_RESTORE_KEYS = tuple(f"monthly_{speed}_data_retrieval_{what}"
                        for speed in ("standard", "expedited", "bulk")
                        for what in ("gb", "requests")) + ("early_delete_gb",)


def _requests(ctx: PricingContext, resource: Resource, label: str, count: float | None,
              sku_class: str | None, tier: int) -> CostComponent:
    if sku_class is None:
        raise MissingRow(f"{label} tier {tier} requests have no catalog row")
    name = ("PUT, COPY, POST, LIST requests" if tier == 1 else "GET, SELECT and other requests")
    price = _need(ctx, resource, "s3", f"{name} ({sku_class})", "request")
    return component(f"{label} {name}", "1k requests", count / 1000, price)


def _storage(ctx: PricingContext, resource: Resource, name: str, sku: str, gb: float | None,
             key: str, tiered: bool) -> CostComponent:
    if tiered and gb is not None and gb > FIRST_TIER_GB:
        raise MissingRow(f"{name} above 50 TB/month (next tiers) has no catalog row")
    return _usage_component(name, "GB", gb, _need(ctx, resource, "s3", sku, "storage"), key)


@pricer("aws_s3_bucket")
def s3_bucket(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Storage per class (Infracost keys `<class>.storage_gb`, Intelligent-Tiering
    `*_access_storage_gb` and `monitored_objects`), tier 1/2 requests, lifecycle transitions
    and retrievals per class. Standard storage falls back to `storage_gb`, then the
    project's `storage_gb_per_bucket`."""
    def use(key: str) -> Any:
        return ctx.usage(resource, key)

    cost = ResourceCost(resource.address, resource.type)
    try:
        gb = use("standard.storage_gb")
        if gb is None:
            gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("storage_gb_per_bucket"))
        cost.components.append(_storage(ctx, resource, "Standard storage",
                                        "Standard storage (first 50 TB)", gb, "storage_gb", True))
        for tier in (1, 2):
            key = f"monthly_tier_{tier}_requests"
            count = use(f"standard.{key}")
            count = use(key) if count is None else count
            if count is not None:
                cost.components.append(_requests(ctx, resource, "Standard", count, "Standard",
                                                 tier))
        for prefix, label, sku, put_class, get_class in S3_CLASSES:
            storage_key = ("frequent_access_storage_gb" if prefix == "intelligent_tiering"
                           else "storage_gb")
            gb = use(f"{prefix}.{storage_key}")
            if gb is not None:
                cost.components.append(_storage(ctx, resource, f"{label} storage", sku, gb,
                                                f"{prefix}.{storage_key}",
                                                prefix == "intelligent_tiering"))
            if prefix == "intelligent_tiering":
                for key, tier_label, tier_sku in S3_IT_TIERS:
                    tier_gb = use(f"{prefix}.{key}")
                    if tier_gb is not None:
                        cost.components.append(_storage(
                            ctx, resource, f"{label} storage ({tier_label})", tier_sku, tier_gb,
                            f"{prefix}.{key}", False))
                objects = use(f"{prefix}.monitored_objects")
                if objects is not None:
                    cost.components.append(component(
                        f"{label} monitoring and automation", "1k objects", objects / 1000,
                        _need(ctx, resource, "s3", "Intelligent-Tiering monitoring and automation",
                              "other")))
            for tier, sku_class in ((1, put_class), (2, get_class)):
                count = use(f"{prefix}.monthly_tier_{tier}_requests")
                if count is not None:
                    cost.components.append(_requests(ctx, resource, label, count, sku_class,
                                                     tier))
            transitions = use(f"{prefix}.monthly_lifecycle_transition_requests")
            if transitions is not None:
                cost.components.append(component(
                    f"{label} lifecycle transitions", "1k requests", transitions / 1000,
                    _need(ctx, resource, "s3", f"lifecycle transition requests ({label})",
                          "request")))
            retrieved = use(f"{prefix}.monthly_data_retrieval_gb")
            if retrieved is not None:
                cost.components.append(component(
                    f"{label} retrievals", "GB", retrieved,
                    _need(ctx, resource, "s3", f"data retrieval ({label})", "other")))
            restores = [key for key in S3_RESTORE_KEYS if use(f"{prefix}.{key}") is not None]
            if restores:
                raise MissingRow(f"{label} {restores[0]} has no catalog row (Glacier restore "
                                 "tiers and early deletes are not modelled)")
    except MissingRow as exc:
        return unpriced(resource, str(exc))
    return cost


KMS_RSA_2048 = "RSA_2048"


@pricer("aws_kms_key")
def kms_key(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Key-month ($1 for symmetric, asymmetric, HMAC and custom-key-store keys), rotated key
    material (each of the first two rotations adds a key-month, no charge after the second;
    default: steady state of two, or usage `rotations`), requests by key spec (usage
    `monthly_requests`, `monthly_generate_data_key_pair_requests`)."""
    values = resource.values
    spec = attribute(values, "customer_master_key_spec", "SYMMETRIC_DEFAULT")
    notes = []
    if values.get("custom_key_store_id"):
        notes.append("custom key store: its CloudHSM cluster or external key manager is "
                     "billed separately")
    cost = ResourceCost(resource.address, resource.type, [component(
        "Customer managed key", "months", 1,
        ctx.price(resource, "kms", "customer managed key", "other"), "; ".join(notes))])
    try:
        if values.get("enable_key_rotation") is True and spec == "SYMMETRIC_DEFAULT":
            price = _need(ctx, resource, "kms", "rotated key material (first two rotations)",
                          "other")
            rotations = ctx.usage(resource, "rotations")
            period = literal_int(values.get("rotation_period_in_days"), 365)
            note = (f"steady state after two rotations (~{2 * period} days at "
                    f"{period}-day rotation); set usage rotations for a younger key"
                    if rotations is None else f"{rotations} rotation(s) so far")
            count = 2 if rotations is None else min(max(int(rotations), 0), 2)
            cost.components.append(component("Rotated key material", "months", count, price,
                                             note))
        requests = ctx.usage(resource, "monthly_requests")
        if requests is not None:
            if not spec:
                raise MissingRow("customer_master_key_spec is an expression: request rate unknown")
            if spec == "SYMMETRIC_DEFAULT":
                label, sku = "Symmetric requests", "symmetric API requests"
            elif spec == KMS_RSA_2048:
                label, sku = "Requests (RSA 2048)", "RSA 2048 API requests"
            elif spec.startswith(("RSA_", "ECC_")):
                label, sku = "Asymmetric requests", "asymmetric API requests (non-RSA-2048)"
            else:
                raise MissingRow(f"{spec} key requests have no catalog row")
            cost.components.append(component(label, "10k requests", requests / 10_000,
                                             _need(ctx, resource, "kms", sku, "request")))
        pairs = ctx.usage(resource, "monthly_generate_data_key_pair_requests")
        if pairs is not None:
            cost.components.append(component(
                "GenerateDataKeyPair requests", "10k requests", pairs / 10_000,
                _need(ctx, resource, "kms", "GenerateDataKeyPair requests", "request")))
    except MissingRow as exc:
        return unpriced(resource, str(exc))
    return cost


@pricer("aws_ecr_repository")
def ecr_repository(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Image storage (usage `storage_gb`, else the project's `registry_gb_per_repository`)."""
    price = ctx.price(resource, "ecr", "private repository storage", "storage")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("registry_gb_per_repository"))
    return ResourceCost(resource.address, resource.type, [
        _usage_component("Image storage", "GB", gb, price, "storage_gb")])


@pricer("aws_nat_gateway")
def nat_gateway(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Gateway hours and data processed (usage `monthly_data_processed_gb`). Its Elastic IP
    is priced on the aws_eip."""
    hourly = ctx.price(resource, "vpc-nat-gateway", "NAT gateway hour")
    data = ctx.price(resource, "vpc-nat-gateway", "NAT data processed", "other")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    return ResourceCost(resource.address, resource.type, [
        component("NAT gateway", "hours", HOURS_PER_MONTH, hourly),
        _usage_component("Data processed", "GB", gb, data, "monthly_data_processed_gb"),
    ])


@pricer("aws_eip")
def elastic_ip(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """A public IPv4 address, billed per hour whether attached or idle."""
    price = ctx.price(resource, "vpc-public-ipv4", "public IPv4 address hour")
    if price is None:
        return unpriced(resource, "no public IPv4 price in the catalog")
    hours = ctx.usage(resource, "monthly_hours", HOURS_PER_MONTH)
    return ResourceCost(resource.address, resource.type,
                        [component("Public IPv4 address", "hours", hours, price)])


# Interface endpoint data tiers in GB per month (Infracost fixture: 1 PB = 1,000,000 GB).
ENDPOINT_TIERS = (
    (1_000_000, "first 1 PB", "data processed (first 1 PB/month/region)"),
    (4_000_000, "next 4 PB", "data processed (next 4 PB/month/region)"),
    (None, "over 5 PB", "data processed (over 5 PB/month/region)"),
)


def _zones(values: dict[str, Any]) -> tuple[int, str]:
    subnets = values.get("subnet_ids")
    if isinstance(subnets, list) and subnets:
        return len(subnets), ""
    if subnets:
        return 1, "subnet_ids is an expression: priced for 1 AZ"
    return 1, ""


@pricer("aws_vpc_endpoint")
def vpc_endpoint(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Gateway endpoints are free. Interface endpoints: hours per AZ (subnet) and tiered
    data processed; Gateway Load Balancer endpoints: hours per AZ and data processed
    (usage `monthly_data_processed_gb`)."""
    kind = attribute(resource.values, "vpc_endpoint_type", "Gateway")
    if not kind:
        return unpriced(resource, "vpc_endpoint_type is an expression")
    if kind == "Gateway":
        return ResourceCost(resource.address, resource.type, free=True)
    zones, zone_note = _zones(resource.values)
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    try:
        if kind == "GatewayLoadBalancer":
            return ResourceCost(resource.address, resource.type, [
                component(f"Gateway Load Balancer endpoint ({zones} AZ)", "hours",
                          HOURS_PER_MONTH * zones,
                          _need(ctx, resource, "vpc-gwlb-endpoint", "endpoint hour (per AZ)"),
                          zone_note),
                _usage_component("Data processed", "GB", gb,
                                 _need(ctx, resource, "vpc-gwlb-endpoint", "data processed",
                                       "other"), "monthly_data_processed_gb"),
            ])
        if kind != "Interface":
            return unpriced(resource, f"no pricer for {kind} endpoints")
        service = "vpc-interface-endpoint"
        cost = ResourceCost(resource.address, resource.type, [component(
            f"Interface endpoint ({zones} AZ)", "hours", HOURS_PER_MONTH * zones,
            _need(ctx, resource, service, "endpoint hour (per AZ)"), zone_note)])
        if gb is None:
            cost.components.append(_usage_component(
                "Data processed", "GB", None,
                _need(ctx, resource, service, ENDPOINT_TIERS[0][2], "other"),
                "monthly_data_processed_gb"))
            return cost
        remaining = float(gb)
        for size, label, sku in ENDPOINT_TIERS:
            used = remaining if size is None else min(remaining, size)
            if used <= 0:
                break
            cost.components.append(component(f"Data processed ({label})", "GB", used,
                                             _need(ctx, resource, service, sku, "other")))
            remaining -= used
        return cost
    except MissingRow as exc:
        return unpriced(resource, str(exc))


def _metric_resolution(metric: dict[str, Any]) -> bool:
    """True for a high-resolution metric (period below 60 seconds)."""
    period = literal_number(metric.get("period"))
    return period is not None and period < 60


@pricer("aws_cloudwatch_metric_alarm")
def metric_alarm(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Per alarm metric per month: standard vs high resolution (period < 60 s); metric-math
    alarms pay for each metric in the query; anomaly-detection alarms pay for 3 metrics per
    band at the band's metric resolution (Infracost fixture)."""
    queries = blocks(resource.values, "metric_query")
    std = ctx.price(resource, "cloudwatch", "metric alarm (standard resolution)", "other")
    high = ctx.price(resource, "cloudwatch", "metric alarm (high resolution)", "other")
    if std is None or high is None:
        return unpriced(resource, "no CloudWatch alarm price in the catalog")
    if not queries:
        hi = _metric_resolution(resource.values)
        label = "High resolution alarm" if hi else "Standard resolution alarm"
        return ResourceCost(resource.address, resource.type,
                            [component(label, "months", 1, high if hi else std)])
    metrics = [block(q, "metric") for q in queries]
    bands = [q for q in queries
             if "ANOMALY_DETECTION_BAND" in literal_text(q.get("expression"), "")]
    cost = ResourceCost(resource.address, resource.type)
    if bands:
        hi = any(_metric_resolution(m) for m in metrics if m)
        label = "High resolution anomaly detection" if hi else "Standard anomaly detection"
        cost.components.append(component(label, "alarm metrics", 3 * len(bands),
                                         high if hi else std, "3 metrics per band"))
        return cost
    counted = [m for m in metrics if m]
    highs = sum(1 for m in counted if _metric_resolution(m))
    if len(counted) - highs:
        cost.components.append(component("Standard resolution alarm metrics", "alarm metrics",
                                         len(counted) - highs, std))
    if highs:
        cost.components.append(component("High resolution alarm metrics", "alarm metrics",
                                         highs, high))
    return cost


@pricer("aws_cloudwatch_composite_alarm")
def composite_alarm(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """One composite alarm per month."""
    price = ctx.price(resource, "cloudwatch", "composite alarm", "other")
    if price is None:
        return unpriced(resource, "no composite alarm price in the catalog")
    return ResourceCost(resource.address, resource.type,
                        [component("Composite alarm", "months", 1, price)])


@pricer("aws_budgets_budget")
def budget(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Budget-days of a budget without actions."""
    price = ctx.price(resource, "budgets", "budget without actions", "other")
    return ResourceCost(resource.address, resource.type,
                        [component("Budget (no actions)", "budget-days", 30, price)])


@pricer("aws_cloudwatch_log_group")
def log_group(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Ingestion by log class (usage `monthly_data_ingested_gb`), storage (`storage_gb`) and
    Logs Insights scans (`monthly_data_scanned_gb`). Vended logs (flow logs) are priced on
    the aws_flow_log: leave their ingestion out here."""
    kind = attribute(resource.values, "log_group_class", "STANDARD")
    if kind not in ("STANDARD", "INFREQUENT_ACCESS"):
        return unpriced(resource, f"log_group_class {kind or 'expression'} has no catalog rows")
    label = "Standard" if kind == "STANDARD" else "Infrequent Access"
    ingested = ctx.usage(resource, "monthly_data_ingested_gb")
    stored = ctx.usage(resource, "storage_gb")
    scanned = ctx.usage(resource, "monthly_data_scanned_gb")
    try:
        cost = ResourceCost(resource.address, resource.type, [_usage_component(
            f"Data ingested ({label})", "GB", ingested,
            _need(ctx, resource, "cloudwatch-logs", f"log ingestion ({label})", "other"),
            "monthly_data_ingested_gb")])
        if kind == "INFREQUENT_ACCESS" and stored is not None:
            raise MissingRow("Infrequent Access log storage has no verified catalog row")
        if kind == "STANDARD" or stored is not None:
            cost.components.append(_usage_component(
                "Archival storage", "GB", stored,
                _need(ctx, resource, "cloudwatch-logs", "log storage (Standard)", "storage"),
                "storage_gb"))
        cost.components.append(_usage_component(
            "Insights queries data scanned", "GB", scanned,
            _need(ctx, resource, "cloudwatch-logs", "Logs Insights data scanned", "other"),
            "monthly_data_scanned_gb"))
    except MissingRow as exc:
        return unpriced(resource, str(exc))
    return cost


VENDED_FIRST_TIER_GB = 10_240


@pricer("aws_flow_log")
def flow_log(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Vended-log delivery of flow logs to CloudWatch Logs (first 10 TB tier) or S3 (usage
    `monthly_data_ingested_gb`); storage is priced on the destination log group or bucket."""
    target = attribute(resource.values, "log_destination_type", "cloud-watch-logs")
    skus = {"cloud-watch-logs": ("CloudWatch Logs",
                                 "vended log delivery to CloudWatch Logs (first 10 TB)"),
            "s3": ("S3", "vended log delivery to S3")}
    if target not in skus:
        return unpriced(resource, f"flow logs to {target or 'an unresolved destination'} "
                                  "have no catalog row")
    label, sku = skus[target]
    gb = ctx.usage(resource, "monthly_data_ingested_gb")
    if target == "cloud-watch-logs" and gb is not None and gb > VENDED_FIRST_TIER_GB:
        return unpriced(resource, "vended log delivery above 10 TB/month (next tiers) has no "
                                  "catalog row")
    price = ctx.price(resource, "cloudwatch-logs", sku, "other")
    if price is None:
        return unpriced(resource, f"no catalog price for {sku}")
    return ResourceCost(resource.address, resource.type, [_usage_component(
        f"Flow log delivery to {label}", "GB", gb, price, "monthly_data_ingested_gb")])


def _sns_requests(ctx: PricingContext, resource: Resource) -> tuple[float | None, float]:
    """Monthly requests and 64 KB chunks per request (usage `request_size_kb`)."""
    requests = ctx.usage(resource, "monthly_requests")
    size = literal_number(ctx.usage(resource, "request_size_kb", 64)) or 64
    return requests, max(math.ceil(size / 64), 1)


@pricer("aws_sns_topic")
def sns_topic(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Publish requests (usage `monthly_requests`, billed per 64 KB chunk of
    `request_size_kb`); FIFO topics: requests and payload GB. Deliveries are priced on each
    aws_sns_topic_subscription."""
    requests, chunks = _sns_requests(ctx, resource)
    try:
        if resource.values.get("fifo_topic") is True:
            size = literal_number(ctx.usage(resource, "request_size_kb"))
            payload = None if requests is None or size is None else requests * size / 1e6
            return ResourceCost(resource.address, resource.type, [
                _usage_component("FIFO publish requests", "1M requests",
                                 None if requests is None else requests / 1e6,
                                 _need(ctx, resource, "sns", "FIFO publish API requests",
                                       "request"), "monthly_requests"),
                _usage_component("FIFO publish payload", "GB", payload,
                                 _need(ctx, resource, "sns", "FIFO publish payload", "other"),
                                 "monthly_requests and request_size_kb"),
            ])
        price = _need(ctx, resource, "sns", "publish API requests", "request")
    except MissingRow as exc:
        return unpriced(resource, str(exc))
    quantity = None if requests is None else requests * chunks / 1e6
    return ResourceCost(resource.address, resource.type, [_usage_component(
        "Publish requests", "1M requests", quantity, price, "monthly_requests",
        "account free tier (first 1M) not applied")])


# protocol -> (label, sku, unit, requests per unit)
SNS_DELIVERIES = {
    "http": ("HTTP/HTTPS deliveries", "HTTP/HTTPS deliveries", "1M notifications", 1e6),
    "https": ("HTTP/HTTPS deliveries", "HTTP/HTTPS deliveries", "1M notifications", 1e6),
    "email": ("Email deliveries", "email deliveries", "100k notifications", 1e5),
    "email-json": ("Email deliveries", "email deliveries", "100k notifications", 1e5),
    "firehose": ("Firehose deliveries", "Kinesis Data Firehose deliveries", "1M notifications",
                 1e6),
    "application": ("Mobile push deliveries", "mobile push deliveries", "1M notifications", 1e6),
}


@pricer("aws_sns_topic_subscription")
def sns_subscription(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Deliveries by protocol (usage `monthly_requests`, 64 KB chunks of `request_size_kb`):
    HTTP/S, email, Firehose and mobile push; SMS prices vary by destination country and
    SQS/Lambda deliveries have no catalog row, so those are unpriced."""
    protocol = literal_text(resource.values.get("protocol"), "")
    if protocol == "sms":
        return unpriced(resource, "SMS delivery prices vary by destination country")
    if protocol not in SNS_DELIVERIES:
        return unpriced(resource, f"no catalog figure for deliveries to "
                                  f"{protocol or 'an unresolved protocol'}")
    label, sku, unit, per = SNS_DELIVERIES[protocol]
    price = ctx.price(resource, "sns", sku, "other")
    if price is None:
        return unpriced(resource, f"no catalog price for {sku}")
    requests, chunks = _sns_requests(ctx, resource)
    quantity = None if requests is None else requests * chunks / per
    return ResourceCost(resource.address, resource.type, [
        _usage_component(label, unit, quantity, price, "monthly_requests")])


@pricer("aws_athena_workgroup")
def athena_workgroup(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Data scanned by the workgroup's queries (usage `monthly_data_scanned_tb`)."""
    price = ctx.price(resource, "athena", "data scanned", "other")
    if price is None:
        return unpriced(resource, "no Athena price in the catalog")
    return ResourceCost(resource.address, resource.type, [_usage_component(
        "Data scanned", "TB", ctx.usage(resource, "monthly_data_scanned_tb"), price,
        "monthly_data_scanned_tb")])


@pricer("aws_glue_catalog_database")
def glue_catalog_database(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Data Catalog objects stored (usage `monthly_objects`) and requests
    (`monthly_requests`); the account-level free tier is not subtracted."""
    objects = ctx.usage(resource, "monthly_objects")
    requests = ctx.usage(resource, "monthly_requests")
    try:
        return ResourceCost(resource.address, resource.type, [
            _usage_component("Catalog storage", "100k objects",
                             None if objects is None else objects / 1e5,
                             _need(ctx, resource, "glue", "Data Catalog storage", "storage"),
                             "monthly_objects"),
            _usage_component("Catalog requests", "1M requests",
                             None if requests is None else requests / 1e6,
                             _need(ctx, resource, "glue", "Data Catalog requests", "request"),
                             "monthly_requests"),
        ])
    except MissingRow as exc:
        return unpriced(resource, str(exc))
