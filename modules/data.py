"""Encryption key, data lake and registry layers."""

from __future__ import annotations

from core.props import DataProps, KeyProps, RegistryProps
from modules.base import PlatformModule
from modules.layers import layer


@layer("key", props=KeyProps, setting="cloud")
class EncryptionKey(PlatformModule):
    """A customer-managed key for everything this environment stores. Outputs: `kms_key`."""


@layer("data", props=DataProps, setting="data", needs=("key",))
class DataLake(PlatformModule):
    """Encrypted, versioned, private buckets (raw, features, models, artifacts) + table catalog.
    Outputs: `bucket_<name>` for each bucket, `catalog_database`."""


@layer("registry", props=RegistryProps, setting="registry", needs=("key",))
class Registry(PlatformModule):
    """Container repositories (train, serve) and the model registry.
    Outputs: `repository_<name>_url`, `model_registry`."""
