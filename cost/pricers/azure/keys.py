"""Azure pricers: Key Vault operations and keys (software vs HSM)."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import ResourceCost
from cost.pricers import (
    PricingContext,
    component,
    literal_int,
    literal_text,
    pricer,
    unpriced,
    usage_note,
)
from cost.pricers.azure.common import join_notes, per


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
        note = join_notes(note, "sku_name not literal: standard and premium operations cost the "
                           "same")
    return ResourceCost(resource.address, resource.type, [component(
        "Secrets operations", "10k operations", per(operations, 10_000), price, note)])


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
                                         "10k operations", per(operations, 10_000), price,
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
                                     per(operations, 10_000), rate,
                                     usage_note(operations,
                                                "monthly_protected_keys_operations")))
    return cost

