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

# Machines whose figure no citable source gave yet (see the catalog's gaps in README): the
# engine lists them as unpriced with the reason below. The test fails when one of them gains a
# price (remove it here) or when any other machine loses one.
KNOWN_GAPS = {
    ("aws", "ml.g6.xlarge"): "no sagemaker-",  # no SageMaker figure for ml.g6.xlarge
    ("aws", "ml.m5.4xlarge"): "no sagemaker-",
    ("aws", "ml.m5.large", "serving"): "no sagemaker-realtime-inference",
    ("azure", "Standard_NC64as_T4_v3", "spot"): "no low-priority price",
    ("azure", "Standard_NC48ads_A100_v4", "spot"): "no low-priority price",
    ("azure", "Standard_NC96ads_A100_v4", "spot"): "no low-priority price",
    ("azure", "Standard_ND96isr_H100_v5", "spot"): "no low-priority price",
}
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
    gap = KNOWN_GAPS.get((cloud, machine)) or KNOWN_GAPS.get((cloud, machine, purpose)) or \
        (KNOWN_GAPS.get((cloud, machine, "spot")) if spot else None)
    try:
        parts = machine_rate(catalog, cloud, purpose, machine, region, spot=spot,
                             accelerator_type=kind, gpus=gpus)
    except NoRate as missing:
        if gap and gap in str(missing):
            return  # a known, stated gap: the report lists it as unpriced with this reason
        pytest.fail(f"{cloud} {machine} {purpose}{' spot' if spot else ''} in {region}: "
                    f"{missing}")
    assert not gap, f"{cloud} {machine} is priced now: remove it from KNOWN_GAPS"
    assert parts and all(part.price.usd > 0 for part in parts)


def test_guardrails_count_the_gpus_each_adapter_table_promises():
    """max_gpus and allowed_accelerators read GPUs from machine names: the same neutral
    accelerator x count must come back for every machine any adapter can choose."""
    from cost.accelerators import accelerator_of, neutral_accelerator

    for (accelerator, count), machine in {**GPU_INSTANCES, **GPU_SIZES}.items():
        assert accelerator_of(machine) == (accelerator, count), machine
        assert accelerator_of(machine.removeprefix("ml.")) == (accelerator, count), machine
    for (accelerator, count), (machine, kind) in GPU_MACHINES.items():
        assert neutral_accelerator(kind) == accelerator, kind
        bundled = accelerator_of(machine)
        assert bundled in (None, (accelerator, count)), machine  # N1 takes attached GPUs
    for machine in [*CPU_INSTANCES.values(), *CPU_SIZES.values(), *CPU_MACHINES.values()]:
        assert accelerator_of(machine) is None, machine
