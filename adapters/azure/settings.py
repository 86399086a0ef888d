"""Azure's part of the environment spec: subscription id, the notebook users' Microsoft Entra
object ids, provider constraints, state backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from core.props import CloudIds
from core.spec import Constraint, Environment, Strict, register_cloud

OBJECT_ID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class AzureProviders(Strict):
    """Override the default constraints (adapters/azure: AzureAdapter.provider_versions)."""

    azurerm: Constraint | None = None
    azapi: Constraint | None = None


@dataclass(frozen=True)
class AzureIds(CloudIds):
    """The azure ids layers build with (from the environment file)."""

    subscription_id: str | None
    entra_object_ids: tuple[tuple[str, str], ...] = ()  # (notebooks user, Entra object id)


@register_cloud
class AzureEnvironment(Environment):
    cloud: Literal["azure"]
    subscription_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")] | None = None
    entra_object_ids: dict[str, Annotated[str, Field(pattern=OBJECT_ID)]] = Field(
        default_factory=dict, description="each notebooks user's Microsoft Entra object id "
        "(`az ad user show --id <upn> --query id`): Azure ML assigns a compute instance to it")
    providers: AzureProviders = Field(default_factory=AzureProviders)

    state_backends: ClassVar[tuple[str, ...]] = ("local", "azurerm")

    def cloud_ids(self) -> AzureIds:
        return AzureIds(subscription_id=self.subscription_id,
                        entra_object_ids=tuple(sorted(self.entra_object_ids.items())))
