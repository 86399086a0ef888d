"""Capability names: features a cloud may or may not offer. Layers ask
`adapter.supports(Capability.X)` instead of comparing cloud names."""

from __future__ import annotations

from enum import Enum, auto


class Capability(Enum):
    """Features a cloud may or may not offer; modules ask before they rely on one."""

    SERVERLESS_SERVING = auto()  # pay-per-request endpoints with no instance to size
    SCALE_TO_ZERO_SERVING = auto()  # 'serverless' as: the deployment is removed while idle
    SPOT_TRAINING = auto()  # managed spot / preemptible training jobs
    BATCH_COMPUTE = auto()  # a managed CPU batch pool that scales from zero
    SERVERLESS_DATA_CAPTURE = auto()  # 'serverless' serving still captures requests (drift)
    LOCAL_EMULATOR = auto()  # `terraml up --local` can deploy into an embedded emulator
