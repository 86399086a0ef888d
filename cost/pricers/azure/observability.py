"""Azure pricers: metric alerts, action groups, Log Analytics and Application Insights."""

from __future__ import annotations

from typing import Any

from cost.inputs import Resource
from cost.model import ResourceCost
from cost.pricers import (
    PricingContext,
    block,
    blocks,
    component,
    literal_int,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)
from cost.pricers.azure.common import DAYS_PER_MONTH, join_notes


def _time_series(criteria: dict[str, Any]) -> int:
    """Infracost's count: the values of the criterion's dimensions (at least one)."""
    count = 0
    for dimension in blocks(criteria, "dimension"):
        values = dimension.get("values")
        count += len(values) if isinstance(values, list) else 1
    return max(count, 1)


@pricer("azurerm_monitor_metric_alert")
def metric_alert(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Per monitored time series per month: scopes x dimension values of each criterion;
    dynamic thresholds add the dynamic-threshold rate. A disabled rule is not billed."""
    if resource.values.get("enabled") is False:
        return ResourceCost(resource.address, resource.type, free=True)
    scopes = resource.values.get("scopes")
    scope_count = len(scopes) if isinstance(scopes, list) and scopes else 1
    note = "" if isinstance(scopes, list) and scopes else "scopes not literal: counted as 1"
    static = sum(_time_series(c) for c in blocks(resource.values, "criteria"))
    dynamic = sum(_time_series(c) for c in blocks(resource.values, "dynamic_criteria"))
    if not static and not dynamic:
        static, note = 1, join_notes(note, "no literal criteria: counted as 1")
    price = ctx.price(resource, "monitor", "metric alert monitored time series", "other")
    if price is None:
        return unpriced(resource, f"no metric alert price in {ctx.region(resource)}")
    series = (static + dynamic) * scope_count
    free_note = "free monthly allowance not modeled; wildcard dimension values count as 1"
    cost = ResourceCost(resource.address, resource.type, [component(
        "Metrics monitoring", "time series", series, price, join_notes(note, free_note))])
    if dynamic:
        extra = ctx.price(resource, "monitor", "metric alert dynamic threshold time series",
                          "other")
        if extra is None:
            return unpriced(resource, "no dynamic-threshold price")
        cost.components.append(component("Dynamic threshold monitoring", "time series",
                                         dynamic * scope_count, extra))
    return cost


ACTION_RECEIVERS = (
    # block, catalog sku, usage key (Infracost, per receiver per month), unit
    ("email_receiver", "email notification", "email_notifications", "emails"),
    ("azure_app_push_receiver", "push notification", "push_notifications", "notifications"),
    ("itsm_receiver", "ITSM connector event", "itsm_events", "events"),
)


@pricer("azurerm_monitor_action_group")
def action_group(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Notifications per receiver (usage keys per receiver per month): email, push, ITSM,
    webhooks (secure when aad_auth is set), SMS and voice calls by country code. Every
    notification is priced: the monthly free allowance is not modeled."""
    values = resource.values
    cost = ResourceCost(resource.address, resource.type)
    wanted: list[tuple[str, str, str, int]] = []
    for key, sku, usage_key, unit in ACTION_RECEIVERS:
        if blocks(values, key):
            wanted.append((sku, usage_key, unit, len(blocks(values, key))))
    hooks = blocks(values, "webhook_receiver")
    secure = sum(1 for h in hooks if block(h, "aad_auth"))
    if secure:
        wanted.append(("secure webhook notification", "secure_web_hook_notifications",
                       "notifications", secure))
    if len(hooks) - secure:
        wanted.append(("webhook notification", "web_hook_notifications", "notifications",
                       len(hooks) - secure))
    for key, kind, usage_key, unit in (("sms_receiver", "SMS", "sms_notifications", "messages"),
                                       ("voice_receiver", "voice call", "voice_call_notifications",
                                        "calls")):
        codes: dict[str, int] = {}
        for receiver in blocks(values, key):
            code = literal_text(str(receiver.get("country_code", "")), "?")
            codes[code] = codes.get(code, 0) + 1
        for code, count in sorted(codes.items()):
            wanted.append((f"{kind} country code {code}", usage_key, unit, count))
    for sku, usage_key, unit, receivers in wanted:
        price = ctx.price(resource, "monitor-action-group", sku, "request")
        if price is None:
            return unpriced(resource, f"no action group price for {sku}")
        per_receiver = ctx.usage(resource, usage_key)
        quantity = None if per_receiver is None else per_receiver * receivers
        cost.components.append(component(
            f"{sku.capitalize()}s ({receivers} receiver{'s' if receivers > 1 else ''})", unit,
            quantity, price, join_notes(usage_note(per_receiver, usage_key),
                                   "per receiver; free allowance not modeled")))
    return cost


LEGACY_LOG_SKUS = {"Free", "Standalone", "PerNode", "Premium", "Standard", "Unlimited",
                   "LACluster"}


@pricer("azurerm_log_analytics_workspace")
def log_analytics(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """PerGB2018: Analytics Logs ingestion per GB (usage `monthly_log_data_ingestion_gb`, or
    `monthly_ingested_gb`). CapacityReservation: the commitment tier per day, 30 days.
    Retention beyond the 31 free days (usage `monthly_additional_log_data_retention_gb`) and
    data export (usage `monthly_log_data_export_gb`)."""
    values = resource.values
    sku = literal_text(values.get("sku"), "?") if "sku" in values else "PerGB2018"
    if sku in LEGACY_LOG_SKUS:
        return unpriced(resource, f"legacy sku {sku} is not priced")
    cost = ResourceCost(resource.address, resource.type)
    region = ctx.region(resource)
    if sku == "PerGB2018":
        price = ctx.price(resource, "log-analytics", "Analytics Logs data ingestion (PerGB2018)",
                          "other")
        if price is None:
            return unpriced(resource, f"no PerGB2018 ingestion price in {region}")
        gb = ctx.usage(resource, "monthly_log_data_ingestion_gb",
                       ctx.usage(resource, "monthly_ingested_gb"))
        cost.components.append(component(
            "Data ingestion (PerGB2018)", "GB", gb, price,
            join_notes(usage_note(gb, "monthly_log_data_ingestion_gb"),
                  "first 5 GB per billing account per month free: not modeled")))
    elif sku == "CapacityReservation":
        raw = values.get("reservation_capacity_in_gb_per_day",
                         values.get("reservation_capcity_in_gb_per_day"))
        tier = literal_int(raw, 0)
        if not tier:
            return unpriced(resource, "CapacityReservation without a literal "
                                      "reservation_capacity_in_gb_per_day")
        price = ctx.price(resource, "log-analytics", f"{tier} GB/day commitment tier", "other")
        if price is None:
            return unpriced(resource, f"no {tier} GB/day commitment tier price in {region}")
        cost.components.append(component(f"Commitment tier ({tier} GB/day)", "days",
                                         DAYS_PER_MONTH, price))
    else:
        return unpriced(resource, f"sku {sku!r} is not PerGB2018 or CapacityReservation")
    retention = literal_int(values.get("retention_in_days"), 30)
    if retention > 31:
        rate = ctx.price(resource, "log-analytics",
                         "Analytics Logs data retention beyond 31 days", "other")
        if rate is None:
            return unpriced(resource, f"retention_in_days {retention}: no retention price in "
                                      f"{region}")
        gb = ctx.usage(resource, "monthly_additional_log_data_retention_gb")
        cost.components.append(component(
            f"Data retention ({retention} days, 31 free)", "GB-months", gb, rate,
            usage_note(gb, "monthly_additional_log_data_retention_gb")))
    exported = ctx.usage(resource, "monthly_log_data_export_gb")
    if exported is not None:
        rate = ctx.price(resource, "log-analytics", "data export", "other")
        if rate is None:
            return unpriced(resource, f"monthly_log_data_export_gb set: no export price in "
                                      f"{region}")
        cost.components.append(component("Data export", "GB", exported, rate))
    return cost


@pricer("azurerm_application_insights")
def application_insights(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Workspace-based (workspace_id set): ingestion is billed on the Log Analytics workspace.
    Classic: ingestion per GB (usage `monthly_data_ingested_gb` or `monthly_ingested_gb`) and
    retention beyond 90 days per GB retained."""
    price = ctx.price(resource, "application-insights", "data ingested (classic)", "other")
    if resource.values.get("workspace_id"):
        if price is None:
            return ResourceCost(resource.address, resource.type, free=True)
        return ResourceCost(resource.address, resource.type, [component(
            "Data ingestion (billed on the Log Analytics workspace)", "GB", 0, price,
            "workspace-based: priced on azurerm_log_analytics_workspace")])
    if price is None:
        return unpriced(resource, f"no Application Insights ingestion price in "
                                  f"{ctx.region(resource)}")
    gb = ctx.usage(resource, "monthly_data_ingested_gb", ctx.usage(resource, "monthly_ingested_gb"))
    cost = ResourceCost(resource.address, resource.type, [component(
        "Data ingestion (classic)", "GB", gb, price, usage_note(gb, "monthly_data_ingested_gb"))])
    retention = literal_int(resource.values.get("retention_in_days"), 90)
    if retention > 90:
        rate = ctx.price(resource, "application-insights", "data retention beyond 90 days",
                         "other")
        if rate is None:
            return unpriced(resource, f"retention_in_days {retention}: no retention price")
        cost.components.append(component(f"Data retention ({retention} days)", "GB", gb, rate,
                                         "per GB ingested, as Infracost counts it"))
    return cost

