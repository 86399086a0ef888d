"""AWS pricers: CloudWatch alarms and logs, flow logs, SNS, budgets."""

from __future__ import annotations

import math
from typing import Any

from cost.inputs import Resource
from cost.model import ResourceCost
from cost.pricers import (
    MissingRow,
    PricingContext,
    attribute,
    block,
    blocks,
    component,
    literal_number,
    literal_text,
    need,
    pricer,
    unpriced,
)
from cost.pricers.aws.common import usage_component


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
    price = need(ctx, resource, "budgets", "budget without actions", "other")
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
        cost = ResourceCost(resource.address, resource.type, [usage_component(
            f"Data ingested ({label})", "GB", ingested,
            need(ctx, resource, "cloudwatch-logs", f"log ingestion ({label})", "other"),
            "monthly_data_ingested_gb")])
        if kind == "INFREQUENT_ACCESS" and stored is not None:
            raise MissingRow("Infrequent Access log storage has no verified catalog row")
        if kind == "STANDARD" or stored is not None:
            cost.components.append(usage_component(
                "Archival storage", "GB", stored,
                need(ctx, resource, "cloudwatch-logs", "log storage (Standard)", "storage"),
                "storage_gb"))
        cost.components.append(usage_component(
            "Insights queries data scanned", "GB", scanned,
            need(ctx, resource, "cloudwatch-logs", "Logs Insights data scanned", "other"),
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
    return ResourceCost(resource.address, resource.type, [usage_component(
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
                usage_component("FIFO publish requests", "1M requests",
                                 None if requests is None else requests / 1e6,
                                 need(ctx, resource, "sns", "FIFO publish API requests",
                                       "request"), "monthly_requests"),
                usage_component("FIFO publish payload", "GB", payload,
                                 need(ctx, resource, "sns", "FIFO publish payload", "other"),
                                 "monthly_requests and request_size_kb"),
            ])
        price = need(ctx, resource, "sns", "publish API requests", "request")
    except MissingRow as exc:
        return unpriced(resource, str(exc))
    quantity = None if requests is None else requests * chunks / 1e6
    return ResourceCost(resource.address, resource.type, [usage_component(
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
        usage_component(label, unit, quantity, price, "monthly_requests")])

