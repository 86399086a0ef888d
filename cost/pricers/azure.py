"""Azure pricers. Figures come from cost/catalog/azure.csv; hours per month are 730.

Attributes may be `${...}` expressions: a dimension the engine cannot read is either priced
with a stated assumption (noted on the component) or the resource is unpriced with a reason.
"""

from __future__ import annotations

from typing import Any

from cost.catalog import Price
from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH, ResourceCost
from cost.pricers import (
    PricingContext,
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

free("azurerm_resource_group", "azurerm_machine_learning_workspace",
     "azurerm_storage_container", "azurerm_role_assignment", "azurerm_virtual_network",
     "azurerm_subnet", "azurerm_network_security_group", "azurerm_subnet_nat_gateway_association",
     "azurerm_subnet_network_security_group_association",
     "azurerm_nat_gateway_public_ip_association", "azurerm_consumption_budget_resource_group",
     "azurerm_management_lock", "azurerm_user_assigned_identity",
     "azurerm_storage_management_policy", "azurerm_monitor_diagnostic_setting")

DAYS_PER_MONTH = 30  # registry and commitment-tier days, as Infracost counts them


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _per(quantity: float | None, unit: float) -> float | None:
    return None if quantity is None else quantity / unit


# --- Azure ML compute -------------------------------------------------------------------------

def _vm_price(resource: Resource, ctx: PricingContext, size: str,
              low_priority: bool) -> Price | None:
    if low_priority:
        return ctx.price(resource, "virtual-machines", f"{size} (low-priority)", "spot")
    return ctx.price(resource, "virtual-machines", size)


@pricer("azurerm_machine_learning_compute_cluster")
def compute_cluster(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Minimum nodes run all month at the VM rate (dedicated pay-as-you-go or low-priority);
    job node-hours come from usage `monthly_node_hours`."""
    size = literal_text(resource.values.get("vm_size"))
    if not size:
        return unpriced(resource, "vm_size is not a literal VM size")
    priority = literal_text(resource.values.get("vm_priority"), "?")
    if priority not in ("Dedicated", "LowPriority"):
        return unpriced(resource, f"vm_priority {priority!r} is not Dedicated or LowPriority")
    low = priority == "LowPriority"
    price = _vm_price(resource, ctx, size, low)
    label = "low-priority" if low else "dedicated"
    if price is None:
        return unpriced(resource, f"no {label} VM price for {size} in {ctx.region(resource)}")
    raw = block(resource.values, "scale_settings").get("min_node_count")
    minimum = literal_number(0 if raw is None else raw)
    note = "scales to zero"
    if minimum is None:
        minimum, note = 0, f"min_node_count is an expression ({raw}): priced as 0 always-on nodes"
    minimum = int(minimum)
    if minimum:
        note = ""
    cost = ResourceCost(resource.address, resource.type)
    cost.components.append(component(f"Always-on nodes ({size} x{minimum}, {label})", "hours",
                                     HOURS_PER_MONTH * minimum, price, note))
    burst = ctx.usage(resource, "monthly_node_hours")
    cost.components.append(component(f"Job node-hours ({size}, {label})", "hours", burst, price,
                                     usage_note(burst, "monthly_node_hours")))
    return cost


@pricer("azurerm_machine_learning_compute_instance")
def compute_instance(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """The instance's VM at the pay-as-you-go rate, 730 h (usage `monthly_hours`)."""
    size = literal_text(resource.values.get("virtual_machine_size"))
    if not size:
        return unpriced(resource, "virtual_machine_size is not a literal VM size")
    price = ctx.price(resource, "virtual-machines", size)
    if price is None:
        return unpriced(resource, f"no VM price for {size} in {ctx.region(resource)}")
    hours = ctx.usage(resource, "monthly_hours", HOURS_PER_MONTH)
    return ResourceCost(resource.address, resource.type,
                        [component(f"Compute instance ({size})", "hours", hours, price)])


# --- Storage accounts -------------------------------------------------------------------------

BLOB_KINDS = {"StorageV2", "BlobStorage", "BlockBlobStorage"}
REPLICATION = {"LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"}
OPERATIONS = (("write operations", "monthly_write_operations"),
              ("list and create container operations",
               "monthly_list_and_create_container_operations"),
              ("read operations", "monthly_read_operations"),
              ("all other operations", "monthly_other_operations"))


def _storage_service(kind: str, tier: str, hns: bool) -> tuple[str, str] | str:
    """(service, sku prefix) of the capacity meter, or the reason it has none."""
    if kind == "FileStorage":
        return "azure-files", tier
    if kind == "Storage":
        return "storage-v1", tier
    if kind not in BLOB_KINDS:
        return f"account_kind {kind!r} is not a known kind"
    if tier == "Premium" and kind != "BlockBlobStorage":
        return f"Premium {kind} accounts hold page blobs, which are not priced"
    return ("adls-gen2" if hns else "blob-storage"), tier


@pricer("azurerm_storage_account")
def storage_account(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Capacity (usage `storage_gb`, else the project's `storage_gb_per_bucket`) for the
    account's kind, tier, replication, access tier and hierarchical namespace, plus operations
    (Infracost usage keys, per 10k) where the catalog has that combination's operation rates."""
    values = resource.values
    kind = literal_text(values.get("account_kind"), "?") if "account_kind" in values \
        else "StorageV2"
    tier = literal_text(values.get("account_tier"), "?")
    replication = literal_text(values.get("account_replication_type"), "?")
    if tier not in ("Standard", "Premium"):
        return unpriced(resource, f"account_tier {values.get('account_tier')!r} is not a "
                                  "literal Standard or Premium")
    if replication not in REPLICATION:
        return unpriced(resource, f"account_replication_type "
                                  f"{values.get('account_replication_type')!r} is not a literal "
                                  f"{'/'.join(sorted(REPLICATION))}")
    hns = values.get("is_hns_enabled")
    if isinstance(hns, str):
        return unpriced(resource, "is_hns_enabled is an expression: ADLS Gen2 and blob rates "
                                  "differ")
    found = _storage_service(kind, tier, bool(hns))
    if isinstance(found, str):
        return unpriced(resource, found)
    service, prefix = found
    if tier == "Standard":
        access = literal_text(values.get("access_tier"), "?") if "access_tier" in values \
            else "Hot"
        if access not in ("Hot", "Cool", "Cold"):
            return unpriced(resource, f"access_tier {access!r} is not Hot, Cool or Cold")
        prefix = access
    sku = f"{prefix} {replication}"
    label = f"{service} {sku} (account_kind {kind}, account_tier {tier})"
    price = ctx.price(resource, service, f"{sku} capacity", "storage")
    if price is None:
        return unpriced(resource, f"no capacity price for {label} in {ctx.region(resource)}")
    gb = ctx.usage(resource, "storage_gb", ctx.project.usage.get("storage_gb_per_bucket"))
    cost = ResourceCost(resource.address, resource.type)
    cost.components.append(component(f"Capacity ({sku}, {kind})", "GB", gb, price,
                                     usage_note(gb, "storage_gb")))
    for name, key in OPERATIONS:
        rate = ctx.price(resource, service, f"{sku} {name}", "request")
        count = ctx.usage(resource, key)
        if rate is None:
            if count is not None:
                return unpriced(resource, f"{key} is set but there is no {name} price for "
                                          f"{label} in {ctx.region(resource)}")
            continue
        cost.components.append(component(name.capitalize(), "10k operations",
                                         _per(count, 10_000), rate, usage_note(count, key)))
    return cost


# --- Container registry -----------------------------------------------------------------------

ACR_SKU = {"Basic": ("Basic (includes 10 GB)", 10), "Standard": ("Standard (includes 100 GB)", 100),
           "Premium": ("Premium (includes 500 GB)", 500)}


def _replica_count(values: dict[str, Any]) -> int | None:
    """Geo-replicas: `georeplications` blocks (azurerm 3+) or `georeplication_locations`."""
    replicas = blocks(values, "georeplications")
    legacy = values.get("georeplication_locations")
    if isinstance(legacy, str):
        return None
    return len(replicas) + (len(legacy) if isinstance(legacy, list) else 0)


@pricer("azurerm_container_registry")
def container_registry(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Registry days at the SKU's rate, each geo-replica at the registry's Premium rate, and
    storage above the SKU's included amount (usage `storage_gb`)."""
    sku = literal_text(resource.values.get("sku"), "?")
    if sku not in ACR_SKU:
        return unpriced(resource, f"sku {sku!r} is not Basic, Standard or Premium")
    catalog_sku, included = ACR_SKU[sku]
    price = ctx.price(resource, "container-registry", catalog_sku, "other")
    if price is None:
        return unpriced(resource, f"no Container Registry price for {sku} in "
                                  f"{ctx.region(resource)}")
    cost = ResourceCost(resource.address, resource.type,
                        [component(f"Registry ({sku})", "days", DAYS_PER_MONTH, price)])
    replicas = _replica_count(resource.values)
    if replicas is None:
        return unpriced(resource, "georeplication_locations is an expression: replica count "
                                  "unknown")
    if replicas:
        if sku != "Premium":
            return unpriced(resource, f"geo-replication needs Premium; sku is {sku}")
        cost.components.append(component(f"Geo-replicas ({replicas}, Premium rate)", "days",
                                         DAYS_PER_MONTH * replicas, price,
                                         "each replica billed at the Premium registry rate"))
    gb = ctx.usage(resource, "storage_gb")
    if gb is not None and gb > included:
        over = ctx.price(resource, "container-registry", "storage above included amount",
                         "storage")
        if over is not None and not over.fallback:
            cost.components.append(component(f"Storage above {included} GB", "GB",
                                             gb - included, over))
        elif sku == "Basic" and (daily := ctx.price(
                resource, "container-registry", "Basic storage above included 10 GB",
                "storage")) is not None:
            cost.components.append(component(f"Storage above {included} GB", "GB-days",
                                             (gb - included) * DAYS_PER_MONTH, daily))
        else:
            return unpriced(resource, f"no storage-overage price for {sku} in "
                                      f"{ctx.region(resource)}")
    return cost


# --- Key Vault --------------------------------------------------------------------------------

@pricer("azurerm_key_vault")
def key_vault(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Secrets/certificate operations (usage `monthly_operations` or Infracost's
    `monthly_secrets_operations`, per 10k; same rate for standard and premium). HSM keys are
    billed on azurerm_key_vault_key."""
    sku = literal_text(resource.values.get("sku_name"), "?")
    if sku not in ("standard", "premium", "?"):
        return unpriced(resource, f"sku_name {sku!r} is not standard or premium")
    price = ctx.price(resource, "key-vault", "secrets operations (standard/premium)", "request")
    if price is None:
        return unpriced(resource, f"no Key Vault operations price in {ctx.region(resource)}")
    operations = ctx.usage(resource, "monthly_operations",
                           ctx.usage(resource, "monthly_secrets_operations"))
    note = usage_note(operations, "monthly_operations")
    if sku == "?":
        note = _join(note, "sku_name not literal: standard and premium operations cost the "
                           "same")
    return ResourceCost(resource.address, resource.type, [component(
        "Secrets operations", "10k operations", _per(operations, 10_000), price, note)])


@pricer("azurerm_key_vault_key")
def key_vault_key(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Software keys (RSA, EC): operations per 10k (usage `monthly_protected_keys_operations`),
    RSA 2048 cheaper than RSA 3072/4096 and EC. HSM keys (RSA-HSM, EC-HSM): per key per month
    (usage `hsm_protected_keys`, default 1) plus operations."""
    key_type = literal_text(resource.values.get("key_type"), "?")
    if key_type not in ("RSA", "EC", "RSA-HSM", "EC-HSM"):
        return unpriced(resource, f"key_type {key_type!r} is not RSA, EC, RSA-HSM or EC-HSM")
    size = literal_int(resource.values.get("key_size"), 0)
    if key_type.startswith("RSA") and size not in (2048, 3072, 4096):
        return unpriced(resource, "key_size is not a literal RSA size (2048, 3072, 4096)")
    operations = ctx.usage(resource, "monthly_protected_keys_operations")
    cost = ResourceCost(resource.address, resource.type)
    if not key_type.endswith("HSM"):
        sku = "software-protected key operations RSA 2048" if size == 2048 else \
            "software-protected key operations (RSA 3072/4096, EC)"
        price = ctx.price(resource, "key-vault", sku, "request")
        if price is None:
            return unpriced(resource, f"no {sku} price in {ctx.region(resource)}")
        cost.components.append(component(f"Software-protected key operations ({key_type})",
                                         "10k operations", _per(operations, 10_000), price,
                                         usage_note(operations,
                                                    "monthly_protected_keys_operations")))
        return cost
    keys = ctx.usage(resource, "hsm_protected_keys", 1)
    if key_type == "RSA-HSM" and size == 2048:
        sku = "HSM-protected key RSA 2048 (premium tier)"
    elif keys <= 250:
        sku = "HSM-protected key advanced (RSA 3072/4096, EC), first 250 keys"
    else:
        return unpriced(resource, "more than 250 advanced HSM keys: later volume tiers are not "
                                  "in the catalog")
    price = ctx.price(resource, "key-vault", sku, "other")
    rate = ctx.price(resource, "key-vault", "HSM-protected key operations", "request")
    if price is None or rate is None:
        return unpriced(resource, f"no {sku} price in {ctx.region(resource)}")
    cost.components.append(component(f"HSM-protected key ({key_type} {size or ''})".replace(
        " )", ")"), "key-months", keys, price, "each key version is billed as a key"))
    cost.components.append(component("HSM-protected key operations", "10k operations",
                                     _per(operations, 10_000), rate,
                                     usage_note(operations,
                                                "monthly_protected_keys_operations")))
    return cost


# --- Azure Monitor ----------------------------------------------------------------------------

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
        static, note = 1, _join(note, "no literal criteria: counted as 1")
    price = ctx.price(resource, "monitor", "metric alert monitored time series", "other")
    if price is None:
        return unpriced(resource, f"no metric alert price in {ctx.region(resource)}")
    series = (static + dynamic) * scope_count
    free_note = "free monthly allowance not modeled; wildcard dimension values count as 1"
    cost = ResourceCost(resource.address, resource.type, [component(
        "Metrics monitoring", "time series", series, price, _join(note, free_note))])
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
            quantity, price, _join(usage_note(per_receiver, usage_key),
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
            _join(usage_note(gb, "monthly_log_data_ingestion_gb"),
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


# --- Networking -------------------------------------------------------------------------------

@pricer("azurerm_nat_gateway")
def nat_gateway(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Standard NAT gateway hours plus data processed (usage `monthly_data_processed_gb`)."""
    sku = literal_text(resource.values.get("sku_name"), "?") if "sku_name" in resource.values \
        else "Standard"
    if sku != "Standard":
        return unpriced(resource, f"sku_name {sku!r} is not Standard")
    hourly = ctx.price(resource, "nat-gateway", "Standard gateway hour")
    data = ctx.price(resource, "nat-gateway", "data processed", "other")
    if hourly is None or data is None:
        return unpriced(resource, f"no NAT gateway price in {ctx.region(resource)}")
    gb = ctx.usage(resource, "monthly_data_processed_gb")
    return ResourceCost(resource.address, resource.type, [
        component("NAT gateway", "hours", HOURS_PER_MONTH, hourly),
        component("Data processed", "GB", gb, data, usage_note(gb, "monthly_data_processed_gb")),
    ])


@pricer("azurerm_public_ip")
def public_ip(resource: Resource, ctx: PricingContext) -> ResourceCost:
    """Standard static IPv4 addresses, regional or global tier, per hour."""
    values = resource.values
    sku = literal_text(values.get("sku"), "?") if "sku" in values else "Standard"
    allocation = literal_text(values.get("allocation_method"), "?")
    tier = literal_text(values.get("sku_tier"), "?") if "sku_tier" in values else "Regional"
    version = literal_text(values.get("ip_version"), "?") if "ip_version" in values else "IPv4"
    if sku != "Standard" or allocation != "Static" or version != "IPv4":
        return unpriced(resource, f"only Standard static IPv4 addresses are priced (sku {sku}, "
                                  f"allocation_method {allocation}, ip_version {version})")
    if tier not in ("Regional", "Global"):
        return unpriced(resource, f"sku_tier {tier!r} is not Regional or Global")
    price = ctx.price(resource, "public-ip", f"Standard static IPv4 ({tier.lower()}) hour")
    if price is None:
        return unpriced(resource, f"no {tier.lower()} public IP price in {ctx.region(resource)}")
    return ResourceCost(resource.address, resource.type, [component(
        f"IP address (Standard static, {tier.lower()})", "hours", HOURS_PER_MONTH, price)])
