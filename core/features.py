"""The feature-store section of the environment file (`features:`), off when absent.

Entities name the keys features are looked up by; a feature group is a table of features for
one entity, with an event-time column, read from a data-lake prefix (the features bucket) or a
warehouse table. The offline store (history, for training) is always on; the online store
(low-latency reads, for serving) is opt-in per group, and is billed all month on every cloud:
the `always_on_in_dev` guardrail blocks it in dev unless allowed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from core.types import Bool, Int, Num, Strict

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
FeatureType = Literal["string", "int", "float", "bool", "timestamp"]


class Entity(Strict):
    key: Identifier = Field(description="the column that identifies one entity")
    key_type: Literal["string", "int"] = "string"


class FeatureGroup(Strict):
    entity: Identifier | None = Field(None, description="one of features.entities: whose "
                                      "key the rows carry")
    source: Annotated[str, Field(pattern=r"^([a-z][a-z0-9-]{0,30}/[A-Za-z0-9_./=-]*|"
                                 r"warehouse:[a-z][a-z0-9_]{0,62})$")] = Field(
        description="<bucket>/<prefix> of Parquet/CSV files (bucket is one of data.buckets) "
        "or warehouse:<table> in the catalog database")
    event_time: Identifier = Field("event_time", description="the event-time column")
    features: dict[Identifier, FeatureType] = Field(description="feature column -> type")
    online: Bool | None = Field(None, description="also serve the latest values from the "
                                "online store (default: features.online)")

    @model_validator(mode="after")
    def _columns(self) -> FeatureGroup:
        if not self.features:
            raise ValueError("expected at least one feature, found none")
        if self.event_time in self.features:
            raise ValueError(f"event_time {self.event_time!r} is also listed as a feature")
        return self

    def source_bucket(self) -> str | None:
        return None if self.source.startswith("warehouse:") else self.source.split("/", 1)[0]

    def source_prefix(self) -> str:
        return "" if self.source.startswith("warehouse:") else self.source.split("/", 1)[1]

    def warehouse_table(self) -> str | None:
        return self.source.removeprefix("warehouse:") if self.source.startswith(
            "warehouse:") else None


class OnlineStore(Strict):
    """Sizing of the online store where the cloud runs one (nodes / a cache)."""

    nodes: Int = Field(1, ge=1, le=100, description="online serving nodes where the cloud "
                       "sizes them (Vertex AI Bigtable online store); at most 100")
    reads_per_month: Num = Field(1_000_000, ge=0, le=10**12, description="expected online "
                                 "reads a month, for cost estimates")
    writes_per_month: Num = Field(1_000_000, ge=0, le=10**12, description="expected online "
                                  "writes a month, for cost estimates")
    stored_gb: Num = Field(1, ge=0, le=100_000, description="expected online data in GB")


class FeatureStore(Strict):
    entities: dict[Identifier, Entity] = Field(description="entity name -> its key")
    groups: dict[Identifier, FeatureGroup] = Field(description="feature group name -> its "
                                                   "table")
    online: Bool = Field(False, description="default for every group's `online`")
    online_store: OnlineStore = Field(default_factory=OnlineStore)
    offline_stored_gb: Num = Field(10, ge=0, le=10_000_000, description="expected offline "
                                   "feature data in GB, for cost estimates")

    @model_validator(mode="after")
    def _groups_name_entities(self) -> FeatureStore:
        if not self.entities:
            raise ValueError("expected at least one entity, found none")
        if not self.groups:
            raise ValueError("expected at least one feature group, found none")
        for name, group in self.groups.items():
            if group.entity is None:
                raise ValueError(f"groups.{name}: expected an entity (one of "
                                 f"{', '.join(self.entities)}), found none")
            if group.entity not in self.entities:
                raise ValueError(f"groups.{name}.entity: expected one of "
                                 f"{', '.join(self.entities)}, found {group.entity!r}")
            key = self.entities[group.entity].key
            if key in group.features or key == group.event_time:
                raise ValueError(f"groups.{name}: the entity key {key!r} is added by "
                                 "terraml; remove it from features")
            if group.online is None:
                group.online = self.online
        return self

    def online_groups(self) -> list[str]:
        return [name for name, group in self.groups.items() if group.online]


def feature_bucket_problem(store: FeatureStore, buckets: list[str]) -> tuple[str, str] | None:
    """(setting, problem) for a group whose source names a bucket that is not a data bucket."""
    for name, group in store.groups.items():
        bucket = group.source_bucket()
        if bucket is not None and bucket not in buckets:
            return (f"features.groups.{name}.source",
                    f"expected one of the data buckets ({', '.join(buckets)}), found {bucket!r}")
    return None
