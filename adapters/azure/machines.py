"""Neutral accelerator / CPU size -> Azure VM size, for Azure ML compute and endpoints."""

from __future__ import annotations

import re
import zlib

from adapters.machines import AcceleratorChoice, MachineChooser, pick

GPU_SIZES: dict[tuple[str, int], str] = {
    ("T4", 1): "Standard_NC4as_T4_v3",
    ("T4", 4): "Standard_NC64as_T4_v3",
    ("A100", 1): "Standard_NC24ads_A100_v4",
    ("A100", 2): "Standard_NC48ads_A100_v4",
    ("A100", 4): "Standard_NC96ads_A100_v4",
    ("A100", 8): "Standard_ND96asr_v4",
    ("H100", 1): "Standard_NC40ads_H100_v5",
    ("H100", 2): "Standard_NC80adis_H100_v5",
    ("H100", 8): "Standard_ND96isr_H100_v5",
}
CPU_SIZES = {"small": "Standard_D2s_v3", "medium": "Standard_D4s_v3", "large": "Standard_D8s_v3",
             "xlarge": "Standard_D16s_v3"}
# Serverless Spark sizes Azure ML model monitoring accepts (E-series only), by neutral size.
SPARK_SIZES = {"small": "Standard_E4s_v3", "medium": "Standard_E8s_v3",
               "large": "Standard_E16s_v3", "xlarge": "Standard_E32s_v3"}
NOT_OFFERED = {"A10G": "use T4 (NCasT4_v3) or A100 (NC A100 v4)",
               "L4": "use T4 (NCasT4_v3) or A100 (NC A100 v4)"}


def gpu_size(accelerator: str, count: int) -> AcceleratorChoice:
    size = pick(GPU_SIZES, accelerator, count, "azure", NOT_OFFERED)
    return AcceleratorChoice(instance_type=size, accelerator=accelerator, count=count)


def global_name(*parts: str, limit: int, hyphens: bool = False) -> str:
    """A globally unique, deterministic name: readable prefix + 8-hex hash of the parts."""
    digest = f"{zlib.crc32('/'.join(parts).encode()):08x}"
    allowed = r"[^a-z0-9-]" if hyphens else r"[^a-z0-9]"
    readable = re.sub(allowed, "", "-".join(parts[1:]).lower() if hyphens
                      else "".join(parts[1:]).lower())
    return (readable[: limit - 9] + ("-" if hyphens else "") + digest)[:limit]


class AzureMachines(MachineChooser):
    """Azure machine tables behind the neutral `MachineChooser`."""

    def gpu_machine(self, accelerator: str, count: int) -> AcceleratorChoice:
        return gpu_size(accelerator, count)

    def cpu_machine(self, size: str) -> str:
        return CPU_SIZES[size]

    def drift_machine(self, size: str) -> str:
        """Azure ML model monitoring runs on serverless Spark, which takes E-series sizes only."""
        return SPARK_SIZES[size]
