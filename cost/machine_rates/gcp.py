"""Vertex AI rates: custom training and online prediction bill their own SKUs (machine,
plus each GPU apart unless the row says "with GPUs"). Where the catalog has no Vertex
figure, the Compute Engine rate of the same machine is used and stated as a floor.
Workbench notebooks bill the Compute Engine rate. A pipeline's steps (purpose "processing" for
its CPU steps) run as Vertex AI custom jobs, billed at the custom-training rates."""

from __future__ import annotations

from cost.catalog import Catalog
from cost.machine_rates import NoRate, RatePart, rate_for

VERTEX = {"training": "vertex-ai-training", "serving": "vertex-ai-prediction",
          "processing": "vertex-ai-training"}
# Compute Engine GPU SKUs name the A100 by memory size.
ENGINE_GPU_SKU = {"NVIDIA_TESLA_A100": "NVIDIA_TESLA_A100 (40GB)"}
# A2, A3 and G2 Compute Engine machine rates include their GPUs.
ENGINE_BUNDLES_GPUS = ("a2-", "a3-", "g2-")
FLOOR = ("stand-in: no Vertex AI figure in the catalog; the Compute Engine rate of the same "
         "machine is a floor (Vertex AI bills its own, higher SKUs)")


@rate_for("gcp")
def vertex(catalog: Catalog, purpose: str, machine: str, region: str, *, spot: bool,
           accelerator_type: str | None, gpus: int) -> list[RatePart]:
    kind = "spot" if spot else "on_demand"
    label = f"{machine}, {'spot' if spot else 'on-demand'}"
    service = VERTEX.get(purpose)
    if service:
        bundled = catalog.price("gcp", service, f"{machine} (with GPUs)", region, kind)
        if bundled:
            return [RatePart(label, bundled)]
        price = catalog.price("gcp", service, machine, region, kind)
        if price and not (accelerator_type and gpus):
            return [RatePart(label, price)]
        gpu = catalog.price("gcp", f"{service}-gpu", accelerator_type or "", region, kind) \
            if accelerator_type and gpus else None
        if price and gpu:
            return [RatePart(label, price), RatePart(f"{accelerator_type} x{gpus}", gpu, gpus)]
    return _compute_engine(catalog, machine, region, kind, label, accelerator_type, gpus,
                           FLOOR if service else "")


def _compute_engine(catalog: Catalog, machine: str, region: str, kind: str, label: str,
                    accelerator_type: str | None, gpus: int, note: str) -> list[RatePart]:
    price = catalog.price("gcp", "compute-engine", machine, region, kind)
    if price is None:
        raise NoRate(f"no Vertex AI or Compute Engine {kind} price for {machine}")
    parts = [RatePart(label, price, stand_in=note)]
    if accelerator_type and gpus and not machine.startswith(ENGINE_BUNDLES_GPUS):
        sku = ENGINE_GPU_SKU.get(accelerator_type, accelerator_type)
        gpu = catalog.price("gcp", "compute-engine-gpu", sku, region, kind)
        if gpu is None:
            raise NoRate(f"no Compute Engine {kind} price for {accelerator_type}")
        parts.append(RatePart(f"{accelerator_type} x{gpus}", gpu, gpus, stand_in=note))
    return parts
