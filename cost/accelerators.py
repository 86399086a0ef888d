"""What accelerator an instance / machine / VM size carries, for guardrails (GPU limits,
allowed accelerators). Kept in cost/ because cost reads Terraform JSON only."""

from __future__ import annotations

import re

# (full-match pattern, accelerator, GPUs per instance; 0 = the count is the pattern's group 1)
_TABLE: list[tuple[str, str, int]] = [
    # AWS, SageMaker (ml.) and EC2 names
    (r"(ml\.)?g4dn\.(x|2x|4x|8x|16x)large", "T4", 1), (r"(ml\.)?g4dn\.12xlarge", "T4", 4),
    (r"(ml\.)?g4dn\.metal", "T4", 8),
    (r"(ml\.)?g5\.(x|2x|4x|8x|16x)large", "A10G", 1), (r"(ml\.)?g5\.(12|24)xlarge", "A10G", 4),
    (r"(ml\.)?g5\.48xlarge", "A10G", 8),
    (r"(ml\.)?g6\.(x|2x|4x|8x|16x)large", "L4", 1), (r"(ml\.)?g6\.(12|24)xlarge", "L4", 4),
    (r"(ml\.)?g6\.48xlarge", "L4", 8),
    (r"(ml\.)?p4de?\.24xlarge", "A100", 8), (r"(ml\.)?p5(e|en)?\.48xlarge", "H100", 8),
    (r"(ml\.)?p3\.2xlarge", "V100", 1), (r"(ml\.)?p3\.8xlarge", "V100", 4),
    (r"(ml\.)?p3\.16xlarge", "V100", 8), (r"(ml\.)?p3dn\.24xlarge", "V100", 8),
    # GCP machines that carry their GPUs (N1 machines take attached GPUs, named apart)
    (r"a2-(?:highgpu|ultragpu|megagpu)-(\d+)g", "A100", 0), (r"a3-(?:highgpu|megagpu)-(\d+)g", "H100", 0),
    (r"g2-standard-(4|8|12|16|32)", "L4", 1), (r"g2-standard-24", "L4", 2),
    (r"g2-standard-48", "L4", 4), (r"g2-standard-96", "L4", 8),
    # Azure
    (r"Standard_NC(4|8|16)as_T4_v3", "T4", 1), (r"Standard_NC64as_T4_v3", "T4", 4),
    (r"Standard_NC24ads_A100_v4", "A100", 1), (r"Standard_NC48ads_A100_v4", "A100", 2),
    (r"Standard_NC96ads_A100_v4", "A100", 4), (r"Standard_ND96a(m)?sr(_A100)?_v4", "A100", 8),
    (r"Standard_NC40ads_H100_v5", "H100", 1), (r"Standard_NC80adis_H100_v5", "H100", 2),
    (r"Standard_ND96isr_H100_v5", "H100", 8),
    (r"Standard_NC6s_v3", "V100", 1), (r"Standard_NC12s_v3", "V100", 2),
    (r"Standard_NC24r?s_v3", "V100", 4),
]


def accelerator_of(instance_type: str) -> tuple[str, int] | None:
    """(accelerator, GPUs) for a GPU instance type; None for CPU-only types."""
    for pattern, accelerator, gpus in _TABLE:
        match = re.fullmatch(pattern, instance_type or "")
        if match:
            if gpus == 0:  # GCP encodes the GPU count in the machine name
                gpus = int(match.group(1))
            return accelerator, gpus
    return None


# The clouds' own accelerator names (Vertex AI machine specs) -> neutral names.
ACCELERATOR_TYPES = {"NVIDIA_TESLA_T4": "T4", "NVIDIA_L4": "L4", "NVIDIA_TESLA_A100": "A100",
                     "NVIDIA_A100_80GB": "A100", "NVIDIA_H100_80GB": "H100",
                     "NVIDIA_TESLA_V100": "V100"}


def neutral_accelerator(accelerator_type: str) -> str | None:
    """The neutral GPU name of a cloud accelerator type (NVIDIA_TESLA_T4 -> T4), if known."""
    return ACCELERATOR_TYPES.get(accelerator_type)
