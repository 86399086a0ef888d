"""SageMaker rates: training, hosting and processing per ml.* type; managed spot training at
the training rate times the EC2 spot/on-demand ratio of the same family (AWS publishes no
per-instance managed-spot price). A pipeline's CPU steps are SageMaker Processing jobs
(purpose "processing"), which never run on spot."""

from __future__ import annotations

from dataclasses import replace

from cost.catalog import Catalog
from cost.machine_rates import NoRate, RatePart, rate_for

SERVICE = {"training": "sagemaker-training", "serving": "sagemaker-realtime-inference",
           "notebook": "sagemaker-notebook", "processing": "sagemaker-processing"}
# Where the catalog has no figure of its own for a purpose, the first sibling service with one
# stands in for it (stated): AWS lists the same hourly rate per ml.* type for training, hosting
# and processing (checked on the catalog's eu-west-1 bill rows).
STAND_INS = {"training": ("serving",), "processing": ("training", "serving")}
SAME_RATE = ("AWS lists the same hourly rate for training, hosting and processing, checked on "
             "the catalog's eu-west-1 bill rows")
TRAINING_AT_HOSTING = ("stand-in: no SageMaker training figure in the catalog; the real-time "
                       f"hosting rate of the same instance is used ({SAME_RATE})")
STAND_IN_TEXT = {
    ("training", "serving"): TRAINING_AT_HOSTING,
    ("processing", "training"): ("stand-in: no SageMaker Processing figure in the catalog; the "
                                 f"training rate of the same instance is used ({SAME_RATE})"),
    ("processing", "serving"): ("stand-in: no SageMaker Processing figure in the catalog; the "
                                "real-time hosting rate of the same instance is used "
                                f"({SAME_RATE})"),
}


@rate_for("aws")
def sagemaker(catalog: Catalog, purpose: str, machine: str, region: str, *, spot: bool,
              accelerator_type: str | None, gpus: int) -> list[RatePart]:
    price = catalog.price("aws", SERVICE[purpose], machine, region)
    stand_in = ""
    for sibling in STAND_INS.get(purpose, ()):
        if price is not None and not price.fallback:
            break  # the purpose's own figure (or a stand-in) for this very region
        other = catalog.price("aws", SERVICE[sibling], machine, region)
        if other is not None and (price is None or not other.fallback):
            price, stand_in = other, STAND_IN_TEXT[(purpose, sibling)]
    if price is None:
        raise NoRate(f"no {SERVICE[purpose]} price for {machine}")
    if not (spot and purpose == "training"):
        return [RatePart(f"{machine}, on-demand", price, stand_in=stand_in)]
    family = machine.removeprefix("ml.")
    on_demand = catalog.price("aws", "ec2", family, region, "on_demand")
    spot_price = catalog.price("aws", "ec2", family, region, "spot")
    if not (on_demand and spot_price and on_demand.usd):
        return [RatePart(f"{machine}, managed spot", price, stand_in=stand_in,
                         note=f"no EC2 spot figure for {family}: priced at on-demand "
                              "(upper bound)")]
    ratio = spot_price.usd / on_demand.usd
    return [RatePart(f"{machine}, managed spot", replace(price, usd=round(price.usd * ratio, 6)),
                     stand_in=stand_in, note=f"spot discount {1 - ratio:.0%} from the EC2 {family} "
                          "spot/on-demand ratio")]
