"""Tags on SageMaker resources the shim keeps itself (tracking servers, model packages,
monitoring schedules, feature groups, ...): moto finds a resource for AddTags / ListTags /
DeleteTags by its ARN and answers 500 for kinds it does not know.

Each shim module registers, for the ARN marker of its kind (`:feature-group/`), a lookup
`(backend, arn) -> resource with .tags`, raising moto's ValidationError when there is none;
`install()` puts the one lookup that consults them, then moto's own, in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.sagemaker.models import SageMakerModelBackend

Lookup = Callable[[SageMakerModelBackend, str], Any]

_LOOKUPS: dict[str, Lookup] = {}
_moto_lookup = SageMakerModelBackend._get_resource_from_arn


def register(marker: str, lookup: Lookup) -> None:
    """Find ARNs containing `marker` with `lookup` (registering a marker again replaces it)."""
    _LOOKUPS[marker] = lookup


def _get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
    for marker, lookup in _LOOKUPS.items():
        if marker in arn:
            return lookup(self, arn)
    return _moto_lookup(self, arn)


def install() -> None:
    SageMakerModelBackend._get_resource_from_arn = _get_resource_from_arn
