"""SageMaker rates: training and hosting per ml.* type; managed spot training at the
training rate times the EC2 spot/on-demand ratio of the same family (AWS publishes no
per-instance managed-spot price)."""

from __future__ import annotations

from dataclasses import replace

from cost.catalog import Catalog
from cost.machine_rates import NoRate, RatePart, rate_for

SERVICE = {"training": "sagemaker-training", "serving": "sagemaker-realtime-inference",
           "notebook": "sagemaker-notebook"}
TRAINING_AT_HOSTING = ("stand-in: no SageMaker training figure in the catalog; the real-time "
                       "hosting rate of the same instance is used (AWS lists the same hourly rate "
                       "for both, checked on the catalog's eu-west-1 bill rows)")


@rate_for("aws")
def sagemaker(catalog: Catalog, purpose: str, machine: str, region: str, *, spot: bool,
              accelerator_type: str | None, gpus: int) -> list[RatePart]:
    price = catalog.price("aws", SERVICE[purpose], machine, region)
    stand_in = ""
    if purpose == "training" and (price is None or price.fallback):
        hosting = catalog.price("aws", SERVICE["serving"], machine, region)
        if hosting is not None and (price is None or not hosting.fallback):
            price, stand_in = hosting, TRAINING_AT_HOSTING
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
