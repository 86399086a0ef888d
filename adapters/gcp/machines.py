"""Neutral accelerator / CPU size -> Vertex AI machine type + accelerator, for GCP."""

from __future__ import annotations

from adapters.machines import AcceleratorChoice, MachineChooser, pick

# (accelerator, count) -> (machine type, Vertex accelerator type)
GPU_MACHINES: dict[tuple[str, int], tuple[str, str]] = {
    ("T4", 1): ("n1-standard-8", "NVIDIA_TESLA_T4"),
    ("T4", 2): ("n1-standard-16", "NVIDIA_TESLA_T4"),
    ("T4", 4): ("n1-standard-32", "NVIDIA_TESLA_T4"),
    ("L4", 1): ("g2-standard-8", "NVIDIA_L4"),
    ("L4", 2): ("g2-standard-24", "NVIDIA_L4"),
    ("L4", 4): ("g2-standard-48", "NVIDIA_L4"),
    ("L4", 8): ("g2-standard-96", "NVIDIA_L4"),
    ("A100", 1): ("a2-highgpu-1g", "NVIDIA_TESLA_A100"),
    ("A100", 2): ("a2-highgpu-2g", "NVIDIA_TESLA_A100"),
    ("A100", 4): ("a2-highgpu-4g", "NVIDIA_TESLA_A100"),
    ("A100", 8): ("a2-highgpu-8g", "NVIDIA_TESLA_A100"),
    ("H100", 8): ("a3-highgpu-8g", "NVIDIA_H100_80GB"),
}
CPU_MACHINES = {"small": "e2-standard-2", "medium": "e2-standard-4", "large": "e2-standard-8",
                "xlarge": "e2-standard-16"}
NOT_OFFERED = {"A10G": "it is an AWS-only GPU; use L4 (same generation, 24 GB) or T4"}


def gpu_machine(accelerator: str, count: int) -> AcceleratorChoice:
    machine, accelerator_type = pick(GPU_MACHINES, accelerator, count, "gcp", NOT_OFFERED)
    return AcceleratorChoice(instance_type=machine, accelerator=accelerator, count=count,
                             accelerator_type=accelerator_type)


class GcpMachines(MachineChooser):
    """GCP machine tables behind the neutral `MachineChooser`."""

    def neutral_accelerator(self, accelerator_type: str) -> str | None:
        return next((neutral for (neutral, _), (_, kind) in GPU_MACHINES.items()
                     if kind == accelerator_type), None)

    def gpu_machine(self, accelerator: str, count: int) -> AcceleratorChoice:
        return gpu_machine(accelerator, count)

    def cpu_machine(self, size: str) -> str:
        return CPU_MACHINES[size]
