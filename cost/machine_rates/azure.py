"""Azure ML rates: clusters, compute instances, managed online deployments and pipeline steps
(every purpose) bill the VM size's rate; spot training runs on low-priority cluster nodes,
priced at the low-priority rate only (Azure's spot VM rate is another SKU)."""

from __future__ import annotations

from cost.catalog import Catalog
from cost.machine_rates import NoRate, RatePart, rate_for


@rate_for("azure")
def virtual_machine(catalog: Catalog, purpose: str, machine: str, region: str, *, spot: bool,
                    accelerator_type: str | None, gpus: int) -> list[RatePart]:
    if not spot:
        price = catalog.price("azure", "virtual-machines", machine, region)
        if price is None:
            raise NoRate(f"no pay-as-you-go price for {machine}")
        return [RatePart(f"{machine}, dedicated", price)]
    price = catalog.price("azure", "virtual-machines", f"{machine} (low-priority)", region,
                          "spot")
    if price is None:
        raise NoRate(f"no low-priority price for {machine}")
    return [RatePart(f"{machine}, low-priority", price)]
