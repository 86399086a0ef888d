"""Encryption key, data lake and registry modules."""

from __future__ import annotations

from constructs import Construct

from adapters.base import CloudAdapter, Refs
from core.spec import Environment
from modules.base import PlatformModule


class EncryptionKey(PlatformModule):
    """A customer-managed key for everything this environment stores."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        self.refs = adapter.encryption_key(self, env)


class DataLake(PlatformModule):
    """Encrypted, versioned, private buckets (raw, features, models, artifacts) + table catalog."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, key: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        self.refs = adapter.data_lake(self, env, key)


class Registry(PlatformModule):
    """Container repositories (train, serve) and the model registry."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, key: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        self.refs = adapter.registry(self, env, key)
