"""AWS pricers: KMS keys: key spec, custom key stores, rotated key material, requests."""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import ResourceCost
from cost.pricers import (
    MissingRow,
    PricingContext,
    attribute,
    component,
    literal_int,
    need,
    pricer,
    unpriced,
)

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
        need(ctx, resource, "kms", "customer managed key", "other"), "; ".join(notes))])
    try:
        if values.get("enable_key_rotation") is True and spec == "SYMMETRIC_DEFAULT":
            price = need(ctx, resource, "kms", "rotated key material (first two rotations)",
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
                                             need(ctx, resource, "kms", sku, "request")))
        pairs = ctx.usage(resource, "monthly_generate_data_key_pair_requests")
        if pairs is not None:
            cost.components.append(component(
                "GenerateDataKeyPair requests", "10k requests", pairs / 10_000,
                need(ctx, resource, "kms", "GenerateDataKeyPair requests", "request")))
    except MissingRow as exc:
        return unpriced(resource, str(exc))
    return cost

