"""Private network and least-privilege identity layers."""

from __future__ import annotations

from core.props import IdentityProps, NetworkProps
from modules.base import PlatformModule
from modules.layers import layer


@layer("network", props=NetworkProps, setting="network", needs=("key",))
class Network(PlatformModule):
    """Private subnets across zones; egress through private endpoints (NAT only on request).
    Outputs: `network_id`, `subnet_ids`, `security_group_id`."""


@layer("identity", props=IdentityProps, setting="cloud", needs=("key", "data", "registry"))
class Identity(PlatformModule):
    """Training and serving identities scoped to this environment's data, key and images.
    Outputs: `training_role`, `serving_role`."""
