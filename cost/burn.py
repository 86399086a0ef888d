"""Hourly burn rate of what runs right now, priced from the offline catalog.

Contract: `training_hourly(...)` / `instance_hourly(...)` return `(usd_per_hour, note)` for
one running workload, or `(None, reason)` when the catalog has no figure. They use the same
machine rates (`cost.machine_rates`) as the monthly estimate, so a running job or endpoint
costs per hour what the estimate says it costs per month / 730.
"""

from __future__ import annotations

from cost.catalog import Catalog
from cost.machine_rates import NoRate, hourly, machine_rate


def _rate(catalog: Catalog, cloud: str, purpose: str, region: str, instance_type: str,
          machines: int, spot: bool, accelerator_type: str | None,
          accelerator_count: int) -> tuple[float | None, str]:
    try:
        parts = machine_rate(catalog, cloud, purpose, instance_type, region, spot=spot,
                             accelerator_type=accelerator_type, gpus=accelerator_count)
    except NoRate as missing:
        return None, str(missing)
    notes = [note for part in parts for note in (part.note, part.stand_in, part.price.note)
             if note]
    return round(hourly(parts) * machines, 6), "; ".join(dict.fromkeys(notes))


def training_hourly(catalog: Catalog, cloud: str, region: str, instance_type: str,
                    instances: int, spot: bool, accelerator_type: str | None = None,
                    accelerator_count: int = 0) -> tuple[float | None, str]:
    """One hour of a running training job on `instances` machines."""
    return _rate(catalog, cloud, "training", region, instance_type, instances, spot,
                 accelerator_type, accelerator_count)


def instance_hourly(catalog: Catalog, cloud: str, region: str, instance_type: str,
                    instances: int, *, notebook: bool = False, accelerator_type: str | None = None,
                    accelerator_count: int = 0) -> tuple[float | None, str]:
    """One hour of `instances` always-on serving (or notebook) machines."""
    return _rate(catalog, cloud, "notebook" if notebook else "serving", region, instance_type,
                 instances, False, accelerator_type, accelerator_count)
