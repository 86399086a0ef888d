"""Typed props for layer builders: who and where (`Site`) and each layer's own settings.

A builder gets its layer's props and the typed `Refs` of the layers it needs, never the whole
`Environment`. A props class lists the spec sections it reads as fields named after those
sections; `LayerProps.of(env)` fills them, so a layer's inputs are visible in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from core.features import FeatureStore
from core.notebooks import Notebooks
from core.pipeline import Pipeline, Tracking
from core.spec import Budget, Compute, Data, Monitoring, Network, Registry, Serving, Tier, Training

if TYPE_CHECKING:
    from typing_extensions import Self

    from core.spec import Environment


@dataclass(frozen=True)
class CloudIds:
    """The cloud's account ids from the environment file (each cloud subclasses it)."""


Ids = TypeVar("Ids", bound=CloudIds)


@dataclass(frozen=True)
class Site(Generic[Ids]):
    """Who and where every layer builds: names, tier, region, tags and the cloud's ids."""

    name: str
    tier: Tier
    cloud: str
    region: str
    project: str
    prefix: str  # `<project>-<env>`, the prefix of every resource name
    tags: Mapping[str, str]  # what every taggable resource carries
    deletion_protection: bool
    ids: Ids
    source: Path
    locate: Callable[[str, str], str]  # (dotted setting, problem) -> `file:line: ...`

    @property
    def is_dev(self) -> bool:
        return self.tier is Tier.dev

    def where(self, setting: str, problem: str) -> str:
        """One-line error about `setting` as `file:line: setting: problem`."""
        return self.locate(setting, problem)


def site_of(env: Environment) -> Site:
    assert env.tier is not None and env.deletion_protection is not None  # set by the spec
    return Site(name=env.name, tier=env.tier, cloud=env.cloud, region=env.region,
                project=env.project, prefix=env.prefix, tags=env.all_tags(),
                deletion_protection=env.deletion_protection, ids=env.cloud_ids(),
                source=env.source, locate=env.where)


@dataclass(frozen=True)
class LayerProps:
    """Base of every layer's props: the `Site`, plus (in subclasses) one field per spec
    section the layer reads, named after the section."""

    site: Site

    @classmethod
    def of(cls, env: Environment) -> Self:
        values: dict[str, Any] = {"site": site_of(env)}
        for field in dataclasses.fields(cls):
            if field.name != "site":
                values[field.name] = getattr(env, field.name)
        return cls(**values)


@dataclass(frozen=True)
class KeyProps(LayerProps):
    monitoring: Monitoring  # log retention where the key layer holds the cloud's log store


@dataclass(frozen=True)
class NetworkProps(LayerProps):
    network: Network
    monitoring: Monitoring  # flow-log retention


@dataclass(frozen=True)
class DataProps(LayerProps):
    data: Data


@dataclass(frozen=True)
class RegistryProps(LayerProps):
    registry: Registry


@dataclass(frozen=True)
class IdentityProps(LayerProps):
    pass


@dataclass(frozen=True)
class ComputeProps(LayerProps):
    compute: Compute


@dataclass(frozen=True)
class TrainingProps(LayerProps):
    training: Training


@dataclass(frozen=True)
class ServingProps(LayerProps):
    serving: Serving
    registry: Registry  # the serving image's repository
    monitoring: Monitoring  # endpoint log retention


@dataclass(frozen=True)
class MonitoringProps(LayerProps):
    monitoring: Monitoring
    serving: Serving  # what the endpoint alarms watch


@dataclass(frozen=True)
class BudgetProps(LayerProps):
    budget: Budget


@dataclass(frozen=True)
class PipelineProps(LayerProps):
    pipeline: Pipeline
    training: Training  # the train step's machine, spot and runtime limit
    data: Data  # the buckets the steps read and write
    tracking: Tracking  # passed to every step (MLFLOW_TRACKING_URI) when on


@dataclass(frozen=True)
class TrackingProps(LayerProps):
    tracking: Tracking


@dataclass(frozen=True)
class DriftProps(LayerProps):
    monitoring: Monitoring  # `monitoring.drift` (set when the layer is on) and the alert emails
    serving: Serving  # the endpoint whose captured requests are watched
    data: Data  # the buckets of the baseline and of a data-lake target


@dataclass(frozen=True)
class FeatureStoreProps(LayerProps):
    features: FeatureStore
    data: Data  # the buckets feature groups read and the offline store writes


@dataclass(frozen=True)
class NotebooksProps(LayerProps):
    notebooks: Notebooks
    data: Data  # the buckets notebook users read and write
