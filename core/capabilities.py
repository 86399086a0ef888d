"""Capability names: features a cloud may or may not offer. Layers ask
`adapter.supports(Capability.X)` instead of comparing cloud names."""

from __future__ import annotations

from enum import Enum, auto


class Capability(Enum):
    """Features a cloud may or may not offer; modules ask before they rely on one."""

    SERVERLESS_SERVING = auto()  # pay-per-request endpoints with no instance to size
    SCALE_TO_ZERO_SERVING = auto()  # 'serverless' as: the deployment is removed while idle
    SERVERLESS_GPU = auto()  # GPUs on serverless endpoints
    SERVERLESS_IN_VPC = auto()  # serverless endpoints inside the private network
    SERVING_DATA_CAPTURE = auto()  # request/response capture to the data lake
    SERVERLESS_DATA_CAPTURE = auto()
    SPOT_TRAINING = auto()  # managed spot / preemptible training jobs
    BATCH_COMPUTE = auto()  # a managed CPU batch pool that scales from zero
    BUDGET_TAG_FILTER = auto()  # budgets filtered by the environment's tag/label
    LOCAL_EMULATOR = auto()  # `terraml up --local` can deploy into an embedded emulator
