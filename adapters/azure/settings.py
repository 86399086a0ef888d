"""Azure's part of the environment spec: subscription id, provider constraints, state
backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from core.props import CloudIds
from core.spec import Constraint, Environment, Strict, register_cloud


class AzureProviders(Strict):
    """Override the default constraints (adapters/azure: AzureAdapter.provider_versions)."""

    azurerm: Constraint | None = None
    azapi: Constraint | None = None


@dataclass(frozen=True)
class AzureIds(CloudIds):
    """The azure ids layers build with (from the environment file)."""

    subscription_id: str | None


@register_cloud
class AzureEnvironment(Environment):
    cloud: Literal["azure"]
    subscription_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")] | None = None
    providers: AzureProviders = Field(default_factory=AzureProviders)

    state_backends: ClassVar[tuple[str, ...]] = ("local", "azurerm")

    def cloud_ids(self) -> AzureIds:
        return AzureIds(subscription_id=self.subscription_id)
