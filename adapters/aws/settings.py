"""AWS's part of the environment spec: account id, provider constraint, state backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from core.props import CloudIds
from core.spec import Constraint, Environment, Strict, register_cloud


class AwsProviders(Strict):
    """Override the default constraint (adapters/aws: AwsAdapter.provider_versions)."""

    aws: Constraint | None = None


@dataclass(frozen=True)
class AwsIds(CloudIds):
    """The aws ids layers build with (from the environment file)."""

    account_id: str | None


@register_cloud
class AwsEnvironment(Environment):
    cloud: Literal["aws"]
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    providers: AwsProviders = Field(default_factory=AwsProviders)

    state_backends: ClassVar[tuple[str, ...]] = ("local", "s3")

    def cloud_ids(self) -> AwsIds:
        return AwsIds(account_id=self.account_id)
