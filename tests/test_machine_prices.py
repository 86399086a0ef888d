"""Every machine an adapter's tables can choose (each neutral accelerator x count the cloud
offers, and each CPU size) has a catalog price for training (spot and on-demand) and serving in
the shipped regions of its cloud, or a region fallback that the report states."""

from __future__ import annotations

import pytest

from adapters.aws.machines import CPU_INSTANCES, GPU_INSTANCES
from adapters.azure.machines import CPU_SIZES, GPU_SIZES
from adapters.gcp.machines import CPU_MACHINES, GPU_MACHINES
from cost.catalog import load_catalog
from cost.machine_rates import NoRate, machine_rate

REGIONS = {"aws": ["us-east-1", "eu-west-1"], "gcp": ["us-central1", "europe-west4"],
           "azure": ["eastus", "westeurope"]}


def _machines():
    """(cloud, machine, accelerator type, GPUs) for every row of every cloud's tables."""
    for (_, count), machine in GPU_INSTANCES.items():
        yield "aws", machine, None, count
    for machine in CPU_INSTANCES.values():
        yield "aws", machine, None, 0
    for (_, count), (machine, kind) in GPU_MACHINES.items():
        yield "gcp", machine, kind, count
    for machine in CPU_MACHINES.values():
        yield "gcp", machine, None, 0
    for (_, count), size in GPU_SIZES.items():
        yield "azure", size, None, count
    for size in CPU_SIZES.values():
        yield "azure", size, None, 0


CASES = [(cloud, machine, kind, gpus, region, purpose, spot)
         for cloud, machine, kind, gpus in _machines() for region in REGIONS[cloud]
         for purpose, spot in (("training", False), ("training", True), ("serving", False))]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize(("cloud", "machine", "kind", "gpus", "region", "purpose", "spot"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[4]}-{c[5]}{'-spot' if c[6] else ''}"
                              for c in CASES])
def test_machine_has_a_price(catalog, cloud, machine, kind, gpus, region, purpose, spot):
    try:
        parts = machine_rate(catalog, cloud, purpose, machine, region, spot=spot,
                             accelerator_type=kind, gpus=gpus)
    except NoRate as missing:
        pytest.fail(f"{cloud} {machine} {purpose}{' spot' if spot else ''} in {region}: "
                    f"{missing}")
    assert parts and all(part.price.usd > 0 for part in parts)
    for part in parts:  # a figure from another region is always stated
        assert part.price.region in (region, "*") or part.price.fallback
