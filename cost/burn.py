"""Hourly burn rate of what runs right now, priced from the offline catalog.

Contract: `hourly(catalog, cloud, region, ...)` returns `(usd_per_hour, note)` for one
running workload, or `(None, reason)` when the catalog has no figure. Training uses
the same rates (and managed-spot ratio) as the monthly training estimate.
"""

from __future__ import annotations

from cost.catalog import Catalog
from cost.inputs import Project, Resource
from cost.pricers import PricingContext
from cost.pricers.gcp import GPU_SKU, gpus_billed_separately
from cost.pricers.training import price_training

# Hosting and notebook rates per cloud: (service, sku prefix). Vertex and Azure ML bill
# the machine's Compute Engine / VM rate as a floor (the catalog has no Vertex SKUs).
SERVING_SERVICE = {"aws": "sagemaker-realtime-inference", "gcp": "compute-engine",
                   "azure": "virtual-machines"}
NOTEBOOK_SERVICE = {"aws": "sagemaker-notebook", "gcp": "compute-engine",
                    "azure": "virtual-machines"}


def _context(catalog: Catalog, cloud: str, region: str) -> PricingContext:
    return PricingContext(catalog, Project("runtime", None, [], regions={cloud: region}))


def training_hourly(catalog: Catalog, cloud: str, region: str, instance_type: str,
                    instances: int, spot: bool, accelerator_type: str | None = None,
                    accelerator_count: int = 0) -> tuple[float | None, str]:
    """One hour of a running training job on `instances` machines."""
    spec = {"cloud": cloud, "region": region, "instance_type": instance_type, "spot": spot,
            "accelerator": None, "count": 1, "gpu_hours_per_month": float(instances),
            "accelerator_type": accelerator_type or ""}
    if accelerator_type and accelerator_count:
        spec.update(accelerator=accelerator_type, count=accelerator_count,
                    gpu_hours_per_month=float(instances * accelerator_count))
    cost = price_training(Resource("runtime.training", "terraml_training_jobs", "training",
                                   spec), _context(catalog, cloud, region))
    if cost.unpriced_reason:
        return None, cost.unpriced_reason
    return cost.monthly, "; ".join(c.note for c in cost.components if c.note)


def instance_hourly(catalog: Catalog, cloud: str, region: str, instance_type: str,
                    instances: int, *, notebook: bool = False, accelerator_type: str | None = None,
                    accelerator_count: int = 0) -> tuple[float | None, str]:
    """One hour of `instances` always-on serving (or notebook) machines."""
    service = (NOTEBOOK_SERVICE if notebook else SERVING_SERVICE)[cloud]
    price = catalog.price(cloud, service, instance_type, region)
    if price is None:
        return None, f"no {service} price for {instance_type}"
    usd = price.usd * instances
    if accelerator_type and accelerator_count and gpus_billed_separately(instance_type):
        gpu = catalog.price(cloud, "compute-engine-gpu", GPU_SKU.get(accelerator_type,
                                                                     accelerator_type), region)
        if gpu is None:
            return None, f"no price for {accelerator_type}"
        usd += gpu.usd * accelerator_count * instances
    note = price.note
    if cloud != "aws":
        note = "; ".join(n for n in ("machine rate used as a floor", note) if n)
    return round(usd, 6), note
