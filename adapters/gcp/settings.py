"""GCP's part of the environment spec: project and billing ids, provider constraint, state
backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from core.props import CloudIds
from core.spec import Constraint, Environment, Strict, register_cloud


class GcpProviders(Strict):
    """Override the default constraint (adapters/gcp: GcpAdapter.provider_versions)."""

    google: Constraint | None = None


@dataclass(frozen=True)
class GcpIds(CloudIds):
    """The gcp ids layers build with (from the environment file)."""

    project_id: str | None
    billing_account: str | None


@register_cloud
class GcpEnvironment(Environment):
    cloud: Literal["gcp"]
    project_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")] | None = None
    billing_account: Annotated[
        str, Field(pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")] | None = None
    providers: GcpProviders = Field(default_factory=GcpProviders)

    state_backends: ClassVar[tuple[str, ...]] = ("local", "gcs")

    def cloud_ids(self) -> GcpIds:
        return GcpIds(project_id=self.project_id, billing_account=self.billing_account)
