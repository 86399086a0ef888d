"""What one hour of a machine costs on a cloud, for training, serving or notebooks.

Contract: `machine_rate(catalog, cloud, purpose, machine, region, spot=..., accelerator_type=...,
gpus=...)` (purpose: training, serving, notebook, or processing for a pipeline's CPU steps)
returns a list of `RatePart` (the machine, and its GPUs where the cloud bills them
apart) or raises `NoRate` with the reason. One module per cloud registers its rate function;
the training, serving, pipeline-step and burn-rate pricers share them, so every cloud's
workload is priced by the same path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cost.catalog import Catalog, Price

PURPOSES = ("training", "serving", "notebook", "processing")


@dataclass(frozen=True)
class RatePart:
    """`quantity` units (per machine-hour) of `price`, e.g. 1 machine or 4 GPUs."""

    label: str
    price: Price
    quantity: float = 1.0
    note: str = ""
    stand_in: str = ""  # set when a sibling service's rate stands in for a missing figure


class NoRate(Exception):
    """The catalog has no figure for this machine; the message says which."""


RateFunction = Callable[..., list[RatePart]]
RATES: dict[str, RateFunction] = {}


def rate_for(cloud: str):
    """Register a cloud's rate function."""
    def register(function: RateFunction) -> RateFunction:
        RATES[cloud] = function
        return function
    return register


def machine_rate(catalog: Catalog, cloud: str, purpose: str, machine: str, region: str, *,
                 spot: bool = False, accelerator_type: str | None = None,
                 gpus: int = 0) -> list[RatePart]:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    if not RATES:
        _load()
    function = RATES.get(cloud)
    if function is None:
        raise NoRate(f"no machine rates for cloud {cloud!r}")
    if not machine:
        raise NoRate("no machine type recorded")
    return function(catalog, purpose, machine, region, spot=spot,
                    accelerator_type=accelerator_type, gpus=gpus)


def hourly(parts: list[RatePart]) -> float:
    return round(sum(part.price.usd * part.quantity for part in parts), 6)


def _load() -> None:
    from cost.machine_rates import aws, azure, gcp  # noqa: F401
