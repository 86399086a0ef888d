"""AWS pricers. Figures come from cost/catalog/aws.csv; hours per month are 730."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import PricingContext, component, free, pricer, unpriced

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
    "aws_glue_catalog_database", "aws_athena_workgroup", "aws_sns_topic",
    "aws_sns_topic_subscription", "aws_cloudwatch_event_rule",
)



@pricer("aws_sagemaker_notebook_instance")
def notebook(resource: Resource, ctx: PricingContext) -> ResourceCost:
    instance = resource.values.get("instance_type", "")
    price = ctx.price(resource, "sagemaker-notebook", instance)
    if price is None:
        return unpriced(resource, f"no notebook price for {instance}")
    hours = ctx.usage(resource, "monthly_hours", HOURS_PER_MONTH)
    return ResourceCost(resource.address, resource.type,
                        [component(f"Notebook instance ({instance})", "hours", hours, price)])


@pricer("aws_batch_compute_environment")
def batch(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Batch itself is free; EC2 pools with min_vcpus > 0 keep instances running."""
    resources = resource.values.get("compute_resources") or {}
    resources = resources[0] if isinstance(resources, list) and resources else resources
    kind = resources.get("type", "EC2")
    minimum = int(resources.get("min_vcpus") or 0)
    if kind.startswith("FARGATE") or minimum == 0:
        return ResourceCost(resource.address, resource.type, free=True)
    instances = resources.get("instance_type") or []
    instance = instances[0] if instances else ""
    market = "spot" if kind == "SPOT" else "on_demand"
    price = ctx.price(resource, "ec2", instance, market)
    if price is None:
        return unpriced(resource, f"min_vcpus {minimum} keeps {instance or 'instances'} "
                                   "running; no EC2 price in the catalog")
    count = ctx.usage(resource, "instances", 1)
    return ResourceCost(resource.address, resource.type, [component(
        f"Always-on pool ({instance} x{count})", "hours", HOURS_PER_MONTH * count, price,
        f"min_vcpus {minimum}")])


@pricer("aws_s3_bucket")
def s3_bucket(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "s3", "Standard storage (first 50 TB)", "storage")
    shared = ctx.project.usage.get("storage_gb_per_bucket")
    gb = ctx.usage(resource, "storage_gb", shared)
    cost = ResourceCost(resource.address, resource.type)
    cost.components.append(component("Standard storage", "GB", gb, price,
                                      "" if gb is not None else "usage-based: set storage_gb"))
    requests = ctx.usage(resource, "monthly_tier_1_requests")
    if requests is not None:
        put = ctx.price(resource, "s3", "PUT, COPY, POST, LIST requests (Standard)", "request")
        cost.components.append(component("PUT, COPY, POST, LIST requests", "1k requests",
                                         requests / 1000, put))
    return cost


@pricer("aws_kms_key")
def kms_key(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "kms", "customer managed key", "other")
    cost = ResourceCost(resource.address, resource.type,
                        [component("Customer managed key", "months", 1, price)])
    requests = ctx.usage(resource, "monthly_requests")
    if requests is not None:
        cost.components.append(component("Symmetric requests", "10k requests", requests / 10_000,
                                         ctx.price(resource, "kms", "symmetric API requests",
                                                   "request")))
    return cost


@pricer("aws_ecr_repository")
def ecr_repository(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "ecr", "private repository storage", "storage")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("registry_gb_per_repository"))
    return ResourceCost(resource.address, resource.type, [component(
        "Image storage", "GB", gb, price, "" if gb is not None else "usage-based: set storage_gb")])


@pricer("aws_nat_gateway")
def nat_gateway(resource: Resource, ctx: PricingContext) -> ResourceCost:
    hourly = ctx.price(resource, "vpc-nat-gateway", "NAT gateway hour")
    data = ctx.price(resource, "vpc-nat-gateway", "NAT data processed", "other")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    return ResourceCost(resource.address, resource.type, [
        component("NAT gateway", "hours", HOURS_PER_MONTH, hourly),
        component("Data processed", "GB", gb, data,
                  "" if gb is not None else "usage-based: set monthly_data_processed_gb"),
    ])


@pricer("aws_vpc_endpoint")
def vpc_endpoint(resource: Resource, ctx: PricingContext) -> ResourceCost:
    kind = resource.values.get("vpc_endpoint_type", "Gateway")
    if kind == "Gateway":
        return ResourceCost(resource.address, resource.type, free=True)
    zones = max(len(resource.values.get("subnet_ids") or []), 1)
    hourly = ctx.price(resource, "vpc-interface-endpoint", "endpoint hour (per AZ)")
    data = ctx.price(resource, "vpc-interface-endpoint",
                     "data processed (first 1 PB/month/region)", "other")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    return ResourceCost(resource.address, resource.type, [
        component(f"Interface endpoint ({zones} AZ)", "hours", HOURS_PER_MONTH * zones, hourly),
        component("Data processed", "GB", gb, data,
                  "" if gb is not None else "usage-based: set monthly_data_processed_gb"),
    ])


@pricer("aws_cloudwatch_metric_alarm")
def metric_alarm(resource: Resource, ctx: PricingContext) -> ResourceCost:
    period = resource.values.get("period", 60)
    high = isinstance(period, int) and period < 60
    sku = "metric alarm (high resolution)" if high else "metric alarm (standard resolution)"
    price = ctx.price(resource, "cloudwatch", sku, "other")
    label = "High resolution alarm" if high else "Standard resolution alarm"
    return ResourceCost(resource.address, resource.type, [component(label, "months", 1, price)])


@pricer("aws_budgets_budget")
def budget(resource: Resource, ctx: PricingContext) -> ResourceCost:
    price = ctx.price(resource, "budgets", "budget without actions", "other")
    return ResourceCost(resource.address, resource.type,
                        [component("Budget (no actions)", "budget-days", 30, price)])


@pricer("aws_cloudwatch_log_group", "aws_flow_log")
def log_ingestion(resource: Resource, ctx: PricingContext) -> ResourceCost:
    return unpriced(resource, "CloudWatch Logs ingestion/storage is usage-based and has no "
                               "figure in the catalog yet")


@pricer("aws_eip")
def elastic_ip(resource: Resource, ctx: PricingContext) -> ResourceCost:
    return unpriced(resource, "public IPv4 addresses are billed hourly; no figure in the "
                               "catalog yet")
