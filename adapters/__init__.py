"""Cloud adapters, looked up by the environment's `cloud:` value.

Adapters are imported lazily: a cloud's provider bindings (hundreds of MB) load
only when an environment uses that cloud.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from core.errors import UserError

if TYPE_CHECKING:
    from adapters.base import CloudAdapter

_ADAPTERS = {
    "aws": "adapters.aws:AwsAdapter",
    "gcp": "adapters.gcp:GcpAdapter",
    "azure": "adapters.azure:AzureAdapter",
}


def get_adapter(cloud: str, *, source: str = "") -> CloudAdapter:
    """The adapter for `cloud`; `UserError` when the cloud has no adapter yet."""
    where = f"{source}: " if source else ""
    target = _ADAPTERS.get(cloud)
    if target is None:
        raise UserError(f"{where}cloud: expected one of {', '.join(sorted(_ADAPTERS))}, "
                        f"found {cloud!r}")
    try:
        adapter = load(target)
    except ModuleNotFoundError as exc:  # each cloud's bindings and SDKs are the extra of its name
        raise UserError(
            f"{where}cloud '{cloud}' needs the '{cloud}' extra: pip install 'terraml[{cloud}]' "
            f"(missing module {exc.name})"
        ) from None
    return adapter()


def register_clouds() -> None:
    """Join every cloud's part of the environment spec (`adapters/<cloud>/settings.py`: ids,
    provider constraints, state backends) to `core.spec`; light: no provider bindings."""
    for cloud in _ADAPTERS:
        importlib.import_module(f"adapters.{cloud}.settings")


def load(target: str):
    """Import `package.module:Name` and return `Name` (lazy loading of cloud code)."""
    module_name, name = target.split(":")
    return getattr(importlib.import_module(module_name), name)


def supported_clouds() -> tuple[str, ...]:
    return tuple(sorted(_ADAPTERS))
