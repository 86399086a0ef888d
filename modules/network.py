"""Private network and least-privilege identities."""

from __future__ import annotations

from constructs import Construct

from adapters.base import CloudAdapter, Refs
from core.spec import Environment
from modules.base import PlatformModule


class Network(PlatformModule):
    """Private subnets across zones; egress through private endpoints (NAT only on request)."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, key: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        self.refs = adapter.network(self, env, key)


class Identity(PlatformModule):
    """Training and serving identities scoped to this environment's data, key and images."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, key: Refs, data: Refs, registry: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        self.refs = adapter.identity(self, env, key, data, registry)
