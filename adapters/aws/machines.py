"""Neutral accelerator / CPU size -> SageMaker instance type, for AWS.

Rows are (accelerator, GPU count) -> instance type. Instances with local NVMe
storage cannot take a KMS key on the endpoint config (SageMaker rejects it);
they encrypt that storage with a hardware key instead.
"""

from __future__ import annotations

from adapters.machines import AcceleratorChoice, MachineChooser, pick

GPU_INSTANCES: dict[tuple[str, int], str] = {
    ("T4", 1): "ml.g4dn.xlarge",
    ("T4", 4): "ml.g4dn.12xlarge",
    ("A10G", 1): "ml.g5.xlarge",
    ("A10G", 4): "ml.g5.12xlarge",
    ("A10G", 8): "ml.g5.48xlarge",
    ("L4", 1): "ml.g6.xlarge",
    ("L4", 4): "ml.g6.12xlarge",
    ("L4", 8): "ml.g6.48xlarge",
    ("A100", 8): "ml.p4d.24xlarge",
    ("H100", 8): "ml.p5.48xlarge",
}

CPU_INSTANCES: dict[str, str] = {
    "small": "ml.m5.large",
    "medium": "ml.m5.xlarge",
    "large": "ml.m5.2xlarge",
    "xlarge": "ml.m5.4xlarge",
}

LOCAL_NVME_FAMILIES = ("ml.g4dn.", "ml.g5.", "ml.g6.", "ml.p4d.", "ml.p5.", "ml.m5d.", "ml.c5d.")


def gpu_instance(accelerator: str, count: int) -> AcceleratorChoice:
    """The instance with exactly `count` x `accelerator`, or a UserError listing valid counts."""
    instance = pick(GPU_INSTANCES, accelerator, count, "aws")
    return AcceleratorChoice(instance_type=instance, accelerator=accelerator, count=count)


def has_local_nvme(instance_type: str) -> bool:
    return instance_type.startswith(LOCAL_NVME_FAMILIES)


# SageMaker notebook instance types by neutral size.
NOTEBOOK_INSTANCES = {"small": "ml.t3.medium", "medium": "ml.m5.xlarge",
                      "large": "ml.m5.2xlarge", "xlarge": "ml.m5.4xlarge"}

class AwsMachines(MachineChooser):
    """AWS machine tables behind the neutral `MachineChooser`."""

    def gpu_machine(self, accelerator: str, count: int) -> AcceleratorChoice:
        return gpu_instance(accelerator, count)

    def notebook_machine(self, size: str) -> str:
        """SageMaker notebook instances (burstable ml.t3 for small)."""
        return NOTEBOOK_INSTANCES[size]

    def cpu_machine(self, size: str) -> str:
        return CPU_INSTANCES[size]
