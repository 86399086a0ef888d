"""AWS pricers for orchestration: the pipeline's schedule, the MLflow tracking server, Step
Functions state machines (the notebooks' idle stop). The pipeline's steps are priced from
terraml's step records (cost/pricers/pipeline.py); the pipeline definition itself bills
nothing."""

from __future__ import annotations

import re

from core.cron import MONTH_MINUTES, parse
from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    PricingContext,
    attribute,
    component,
    free,
    literal_text,
    need,
    pricer,
    usage_note,
)

free(
    # SageMaker Pipelines: "There is no additional charge for SageMaker Pipelines. You pay only
    # for the underlying compute" (AWS SageMaker FAQ); the steps' jobs are priced from records.
    "aws_sagemaker_pipeline",
    # A schedule group only names and tags schedules; Scheduler bills per invocation.
    "aws_scheduler_schedule_group",
    # S3 does not bill the notification configuration. The object events it then sends are
    # EventBridge "opt-in data events"; the catalog has no sourced figure for them (the pricing
    # page bills them apart from the free management events), so they are not included.
    "aws_s3_bucket_notification",
)

RATE = re.compile(r"^rate\((\d+)\s+(minutes?|hours?|days?)\)$")
RATE_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}


def _invocations(values: dict) -> tuple[float | None, str]:
    """(invocations in a 30-day month, where that figure comes from), or (None, why) when the
    schedule expression cannot be read."""
    if literal_text(values.get("state"), "ENABLED").upper() == "DISABLED":
        return 0.0, "schedule disabled"
    expression = literal_text(values.get("schedule_expression")).strip()
    if expression.startswith("cron("):
        return parse(expression).runs_per_month(), f"{expression}, in a 30-day month"
    match = RATE.match(expression)
    if match:
        every = int(match.group(1)) * RATE_MINUTES[match.group(2).rstrip("s")]
        return round(MONTH_MINUTES / max(every, 1), 3), f"{expression}, in a 30-day month"
    if expression.startswith("at("):
        return 0.0, f"{expression} fires once, not every month"
    return None, "the schedule expression is not a literal cron(), rate() or at()"


@pricer("aws_scheduler_schedule")
def scheduler_schedule(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """EventBridge Scheduler: per invocation, from the schedule's own cron()/rate() expression
    (or `monthly_invocations` in the usage file). The account's free tier (14M invocations a
    month) is not subtracted, like every account-level free tier."""
    price = need(ctx, resource, "eventbridge-scheduler", "invocations", "request")
    invocations = ctx.usage(resource, "monthly_invocations")
    source = "usage file"
    if invocations is None:
        invocations, source = _invocations(resource.values)
    note = usage_note(invocations, "monthly_invocations", (
        f"{invocations:g} invocations/month ({source}); " if invocations is not None else "") +
        "first 14M invocations/month free per account, not subtracted")
    return ResourceCost(resource.address, resource.type, [component(
        "Scheduler invocations", "1M invocations",
        None if invocations is None else invocations / 1_000_000, price, note)])


@pricer("aws_sfn_state_machine")
def state_machine(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Step Functions: a state machine bills nothing while it waits; a Standard workflow bills
    its state transitions (`monthly_state_transitions` in the usage file, else usage-based).
    Express workflows bill requests and duration, for which the catalog has no sourced rate."""
    kind = literal_text(resource.values.get("type"), "STANDARD").upper()
    if kind != "STANDARD":
        return ResourceCost(resource.address, resource.type, unpriced_reason=(
            f"type {kind or 'set by an expression'}: no sourced Step Functions Express "
            "(requests and duration) rate in the catalog"))
    price = need(ctx, resource, "step-functions", "standard state transitions", "request")
    transitions = ctx.usage(resource, "monthly_state_transitions")
    note = usage_note(transitions, "monthly_state_transitions",
                      "4,000 state transitions/month free per account, not subtracted")
    return ResourceCost(resource.address, resource.type, [component(
        "Standard workflow state transitions", "1K transitions",
        None if transitions is None else transitions / 1000, price, note)])


MLFLOW_SIZES = ("Small", "Medium", "Large")


@pricer("aws_sagemaker_mlflow_tracking_server")
def mlflow_tracking_server(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """SageMaker managed MLflow: the tracking server bills per hour of its size for as long as it
    exists (730 h/month, idle or not), so it is marked as billed while idle for the
    always_on_in_dev guardrail whether or not the catalog has its rate."""
    size = attribute(resource.values, "tracking_server_size", "Small")
    what = f"SageMaker managed MLflow tracking server ({size or 'size set by an expression'})"
    idle = f"{what} bills every hour of the month, idle or not"
    if size not in MLFLOW_SIZES:
        return ResourceCost(resource.address, resource.type, idle_billing=idle, unpriced_reason=(
            f"tracking_server_size: expected one of {', '.join(MLFLOW_SIZES)}, found "
            f"{size or 'an expression'}"))
    price = ctx.price(resource, "sagemaker-mlflow", f"tracking server {size}")
    if price is None:
        return ResourceCost(resource.address, resource.type, idle_billing=idle, unpriced_reason=(
            f"no sourced SageMaker managed MLflow rate for a {size} tracking server in the "
            f"catalog (billed per hour while it exists: {HOURS_PER_MONTH:g} h/month)"))
    return ResourceCost(resource.address, resource.type, [component(
        f"MLflow tracking server ({size})", "hours", HOURS_PER_MONTH, price)], idle_billing=idle)
