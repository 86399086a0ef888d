"""The feature store on GCP: Vertex AI Feature Store (the BigQuery-based one).

Offline store (history, for training) = BigQuery, in the stack's catalog dataset (CMEK):
- a `warehouse:<table>` group gets that table created there with the entity key, the event-time
  column and its features (types mapped; day-partitioned on the event time; the table's own
  CMEK setting is the stack key);
- a `<bucket>/<prefix>` group gets a BigQuery *external* table `<group>` over the Parquet files
  under `gs://<bucket>/<prefix>/` (`*.parquet`: no `_SUCCESS` or `.crc` files, no sibling
  prefix): the files stay in the CMEK data bucket and BigQuery reads them in place, so
  nothing is copied and there is no load job for terraml to own.
Vertex AI reads a feature group's source by its own conventions (the event time must be a
TIMESTAMP column named `feature_timestamp`; entity ids are strings), so each group also gets a
view `<group>_vertex` that renames the event time and casts the key; the feature group
(`<prefix>_<group>`, its entity id column = the entity key) and one feature per column are
registered over that view. `feature_timestamp` is therefore refused as a feature or key name.

Online store (opt-in per group): one `google_vertex_ai_feature_online_store` of the Bigtable
kind, autoscaling pinned to min = max = `features.online_store.nodes` (the neutral setting is a
node count, which the Optimized kind does not have: it sizes itself and serves through a
dedicated public or Private Service Connect endpoint), with CMEK, and one feature view per
online group (feature-registry source, synced hourly from BigQuery). The Vertex AI service
agent, which runs the syncs, gets object read on each online bucket group's source prefix only
(conditional bucket IAM; the `Bucket` clause lets BigQuery list the object names behind the
external table's wildcard) and `bigquery.dataViewer` on the catalog dataset. That grant stays
dataset-wide, as table-level grants are not practical here: the `_vertex` views are not
authorized views, so the sync would need a binding on each view and on its table, none of
which can be verified offline against what the sync reads; the dataset holds only the
stack's feature tables and views (plus the drift request log, which the agent already writes
when drift watches the endpoint).

Outputs: `feature_store` (the dataset id), `feature_groups` (group -> feature group resource
id), `feature_online_store` (the store's resource id, "" when none) and the extras
`feature_tables` (group -> `project.dataset.view` Vertex AI reads), `feature_views`
(group -> feature view id) and `feature_sync_schedule`.
"""

from __future__ import annotations

import json

from cdktn import TerraformResource
from cdktn_provider_google.bigquery_dataset_iam_member import BigqueryDatasetIamMember
from cdktn_provider_google.bigquery_table import (
    BigqueryTable,
    BigqueryTableEncryptionConfiguration,
    BigqueryTableExternalDataConfiguration,
    BigqueryTableTimePartitioning,
    BigqueryTableView,
)
from cdktn_provider_google.storage_bucket_iam_member import (
    StorageBucketIamMember,
    StorageBucketIamMemberCondition,
)
from cdktn_provider_google.vertex_ai_feature_group import (
    VertexAiFeatureGroup,
    VertexAiFeatureGroupBigQuery,
    VertexAiFeatureGroupBigQueryBigQuerySource,
)
from cdktn_provider_google.vertex_ai_feature_group_feature import VertexAiFeatureGroupFeature
from cdktn_provider_google.vertex_ai_feature_online_store import (
    VertexAiFeatureOnlineStore,
    VertexAiFeatureOnlineStoreBigtable,
    VertexAiFeatureOnlineStoreBigtableAutoScaling,
    VertexAiFeatureOnlineStoreEncryptionSpec,
)
from cdktn_provider_google.vertex_ai_feature_online_store_featureview import (
    VertexAiFeatureOnlineStoreFeatureview,
    VertexAiFeatureOnlineStoreFeatureviewFeatureRegistrySource,
    VertexAiFeatureOnlineStoreFeatureviewFeatureRegistrySourceFeatureGroups,
    VertexAiFeatureOnlineStoreFeatureviewSyncConfig,
)
from constructs import Construct

from adapters.gcp.adapter import GcpAdapter
from adapters.gcp.labels import labels
from adapters.gcp.platform import READ
from adapters.gcp.refs import (
    GcpDataRefs,
    GcpFeatureRefs,
    GcpIdentityRefs,
    GcpKeyRefs,
    GcpNetworkRefs,
)
from adapters.gcp.settings import GcpIds
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.errors import UserError
from core.features import FeatureGroup, FeatureStore
from core.props import FeatureStoreProps, Site

BIGQUERY_TYPES = {"string": "STRING", "int": "INT64", "float": "FLOAT64", "bool": "BOOL",
                  "timestamp": "TIMESTAMP"}
VERTEX_TIME = "feature_timestamp"  # the event-time column name Vertex AI Feature Store reads
VIEW_ID_MAX = 60  # Vertex AI feature view ids: [a-z0-9_], at most 60 characters
ID_MAX = 60  # feature group and feature ids (the v1 REST reference's bound for group ids)
SYNC_CRON = "CRON_TZ=Etc/UTC 0 * * * *"  # online values are refreshed from BigQuery hourly
CPU_TARGET = 50  # Bigtable's CPU target; inert while min = max, required by the API shape


@GcpAdapter.implementation("features")
def feature_store(adapter: GcpAdapter, scope: Construct, props: FeatureStoreProps, *,
                  key: GcpKeyRefs, network: GcpNetworkRefs, data: GcpDataRefs,
                  identity: GcpIdentityRefs) -> GcpFeatureRefs:
    """Offline tables and views, feature groups and features, and the online store with one
    feature view per online group; `UserError` naming the setting Vertex AI would refuse."""
    site, spec = props.site, props.features
    _check(site, spec)
    project_id, dataset = site.ids.project_id, data.dataset
    groups, features, tables = {}, {}, {}
    for name, group in spec.groups.items():
        view = _offline_table(scope, site, spec, name, group, key, data)
        tables[name] = f"{project_id}.{view.dataset_id}.{view.table_id}"
        groups[name], features[name] = _feature_group(scope, site, spec, name, group,
                                                      tables[name])
    online = spec.online_groups()
    store = _online_store(scope, site, spec, key) if online else None
    views = {}
    if store is not None:
        agent = f"serviceAccount:service-{key.project.number}@gcp-sa-aiplatform" \
                ".iam.gserviceaccount.com"
        grants: list[TerraformResource] = [BigqueryDatasetIamMember(
            scope, "feature-sync-reads-catalog", dataset_id=dataset.dataset_id,
            role="roles/bigquery.dataViewer", member=agent)]
        for name in online:
            bucket = spec.groups[name].source_bucket()
            if bucket:
                grants.append(_source_read(scope, name, data.buckets[bucket].name,
                                           _folder(spec.groups[name].source_prefix()), agent))
        views = {name: _feature_view(scope, site, spec, name, store, groups[name],
                                     key.project.number, [*features[name], *grants])
                 for name in online}
    outputs = {
        "feature_store": dataset.dataset_id,
        "feature_groups": {name: group.id for name, group in groups.items()},
        "feature_online_store": store.id if store is not None else "",
        "feature_tables": tables,
        "feature_views": {name: view.id for name, view in views.items()},
        "feature_sync_schedule": SYNC_CRON if views else "none",
    }
    return GcpFeatureRefs(outputs=outputs, groups=groups, online_store=store)


def _check(site: Site[GcpIds], spec: FeatureStore) -> None:
    """What the neutral spec allows but Vertex AI / BigQuery refuse."""
    for name, entity in spec.entities.items():
        if entity.key == VERTEX_TIME:
            raise UserError(site.where(f"features.entities.{name}.key", f"Vertex AI Feature "
                                       f"Store reserves {VERTEX_TIME!r} for the event time; "
                                       "expected another column name"))
    owners: dict[str, str] = {}  # BigQuery table or view id -> what already uses it
    for name, group in spec.groups.items():
        where = f"features.groups.{name}"
        if VERTEX_TIME in group.features:
            raise UserError(site.where(f"{where}.features", f"Vertex AI Feature Store reserves "
                                       f"{VERTEX_TIME!r} for the event time; rename the feature"))
        if group.online and len(name) > VIEW_ID_MAX:
            raise UserError(site.where(where, f"an online group's name is its Vertex AI feature "
                                       f"view id: expected at most {VIEW_ID_MAX} characters, "
                                       f"found {len(name)}"))
        group_id = _group_id(site, name)
        if len(group_id) > ID_MAX:
            raise UserError(site.where(where, f"Vertex AI feature group ids are at most "
                                       f"{ID_MAX} characters, found {group_id!r} "
                                       f"({len(group_id)}); shorten the group's name"))
        long = [feature for feature in group.features if len(feature) > ID_MAX]
        if long:
            raise UserError(site.where(f"{where}.features", f"Vertex AI feature ids are at most "
                                       f"{ID_MAX} characters, found {long[0]!r} "
                                       f"({len(long[0])})"))
        table, view = group.warehouse_table() or name, f"{name}_vertex"
        if table in owners or table == view:
            raise UserError(site.where(f"{where}.source", f"expected a table of its own, found "
                                       f"{table!r}, already "
                                       f"{owners.get(table) or 'the name of its own view'}"))
        if view in owners:
            raise UserError(site.where(where, f"terraml names this group's view {view!r}, "
                                       f"already {owners[view]}; rename the group"))
        owners[table] = f"the table of group {name!r}"
        owners[view] = f"the view terraml creates for group {name!r}"


def _group_id(site: Site[GcpIds], name: str) -> str:
    return f"{site.prefix}_{name}".replace("-", "_")


def _source_read(scope: Construct, name: str, bucket: str, prefix: str,
                 member: str) -> StorageBucketIamMember:
    """Object read on `prefix` of `bucket` only (and listing the bucket's object names)."""
    cid = f"feature-sync-reads-{name}"
    objects = f'"projects/_/buckets/{bucket}/objects/{prefix}"'
    return StorageBucketIamMember(
        scope, cid, bucket=bucket, role=READ, member=member,
        condition=StorageBucketIamMemberCondition(
            title=cid, description=f"Vertex AI Feature Store sync of group {name}",
            expression=f"resource.name.startsWith({objects}) || "
                       'resource.type == "storage.googleapis.com/Bucket"'))


def _folder(prefix: str) -> str:
    """`a/b` or `a/b/` -> `a/b/` (so `a/b-old/` and `a/b.crc` are not read); "" stays ""."""
    stem = prefix.strip("/")
    return f"{stem}/" if stem else ""


def _columns(spec: FeatureStore, group: FeatureGroup) -> list[dict[str, str]]:
    assert group.entity is not None  # the spec fills it in
    entity = spec.entities[group.entity]
    return [{"name": entity.key, "type": BIGQUERY_TYPES[entity.key_type], "mode": "REQUIRED"},
            {"name": group.event_time, "type": "TIMESTAMP", "mode": "REQUIRED"},
            *({"name": column, "type": BIGQUERY_TYPES[kind], "mode": "NULLABLE"}
              for column, kind in group.features.items())]


def _offline_table(scope: Construct, site: Site[GcpIds], spec: FeatureStore, name: str,
                   group: FeatureGroup, key: GcpKeyRefs, data: GcpDataRefs) -> BigqueryTable:
    """The group's table (native or external) and the view Vertex AI reads; returns the view."""
    dataset, tags = data.dataset, labels(site.tags)
    common = {"dataset_id": dataset.dataset_id, "labels": tags,
              "deletion_protection": site.deletion_protection, "lifecycle": protect(site)}
    schema = json.dumps(_columns(spec, group))
    warehouse, bucket = group.warehouse_table(), group.source_bucket()
    if warehouse:
        table = BigqueryTable(
            scope, f"feature-table-{name}", table_id=warehouse, schema=schema,
            description=f"terraml {site.name} offline features of group {name}",
            time_partitioning=BigqueryTableTimePartitioning(type="DAY", field=group.event_time),
            encryption_configuration=BigqueryTableEncryptionConfiguration(
                kms_key_name=key.key.id),
            depends_on=key.key_grants, **common)
    else:
        assert bucket is not None  # a source is a warehouse table or a bucket prefix
        table = BigqueryTable(
            scope, f"feature-table-{name}", table_id=name, schema=schema,
            description=f"terraml {site.name} offline features of group {name}: Parquet files "
                        f"under {group.source}",
            external_data_configuration=BigqueryTableExternalDataConfiguration(
                autodetect=False, source_format="PARQUET",
                source_uris=[(f"gs://{data.buckets[bucket].name}/"
                              f"{_folder(group.source_prefix())}*.parquet")]),
            **common)
        skip_checks(table, {"CKV_GCP_80": "an external table holds no data: the Parquet files "
                                          "stay in the data bucket, encrypted with the stack "
                                          "key"})
    key_column = spec.entities[group.entity or ""].key
    columns = ", ".join(f"`{column}`" for column in group.features)
    query = (f"SELECT CAST(`{key_column}` AS STRING) AS `{key_column}`, "
             f"`{group.event_time}` AS `{VERTEX_TIME}`, {columns} "
             f"FROM `{site.ids.project_id}.{dataset.dataset_id}.{table.table_id}`")
    view = BigqueryTable(
        scope, f"feature-view-{name}", table_id=f"{name}_vertex",
        description=f"terraml {site.name} group {name} as Vertex AI Feature Store reads it",
        view=BigqueryTableView(query=query, use_legacy_sql=False), **common)
    skip_checks(view, {"CKV_GCP_80": "a view stores no data; it reads the group's table, "
                                     "whose data is encrypted with the stack key"})
    if not site.deletion_protection:
        for item in (table, view):
            skip_checks(item, {"CKV_GCP_121": "dev tables are disposable; staging and prod "
                                              "turn deletion protection on"})
    return view


def _feature_group(scope: Construct, site: Site[GcpIds], spec: FeatureStore, name: str,
                   group: FeatureGroup, table: str,
                   ) -> tuple[VertexAiFeatureGroup, list[VertexAiFeatureGroupFeature]]:
    key_column = spec.entities[group.entity or ""].key
    registered = VertexAiFeatureGroup(
        scope, f"feature-group-{name}", name=_group_id(site, name),
        region=site.region, labels=labels(site.tags),
        description=f"terraml {site.name} feature group {name} (entity {group.entity})",
        big_query=VertexAiFeatureGroupBigQuery(
            big_query_source=VertexAiFeatureGroupBigQueryBigQuerySource(input_uri=f"bq://{table}"),
            entity_id_columns=[key_column]),
        lifecycle=protect(site))
    features = [VertexAiFeatureGroupFeature(
        scope, f"feature-{name}-{feature}", name=feature, feature_group=registered.name,
        region=site.region, version_column_name=feature, labels=labels(site.tags),
        description=f"{kind} feature of group {name}", lifecycle=protect(site))
        for feature, kind in group.features.items()]
    return registered, features


def _online_store(scope: Construct, site: Site[GcpIds], spec: FeatureStore,
                  key: GcpKeyRefs) -> VertexAiFeatureOnlineStore:
    nodes = spec.online_store.nodes
    return VertexAiFeatureOnlineStore(
        scope, "feature-online-store", name=site.prefix.replace("-", "_"), region=site.region,
        labels=labels(site.tags), force_destroy=site.is_dev,
        bigtable=VertexAiFeatureOnlineStoreBigtable(
            auto_scaling=VertexAiFeatureOnlineStoreBigtableAutoScaling(
                min_node_count=nodes, max_node_count=nodes, cpu_utilization_target=CPU_TARGET)),
        encryption_spec=VertexAiFeatureOnlineStoreEncryptionSpec(kms_key_name=key.key.id),
        depends_on=key.key_grants, lifecycle=protect(site))


def _feature_view(scope: Construct, site: Site[GcpIds], spec: FeatureStore, name: str,
                  store: VertexAiFeatureOnlineStore, group: VertexAiFeatureGroup,
                  project_number: str, after: list[TerraformResource],
                  ) -> VertexAiFeatureOnlineStoreFeatureview:
    """A feature view over the group's registered features; created `after` them and after
    the sync identity's grants, so the first sync finds both."""
    features = list(spec.groups[name].features)
    return VertexAiFeatureOnlineStoreFeatureview(
        scope, f"feature-online-view-{name}", name=name, region=site.region,
        feature_online_store=store.name, labels=labels(site.tags),
        feature_registry_source=VertexAiFeatureOnlineStoreFeatureviewFeatureRegistrySource(
            feature_groups=[VertexAiFeatureOnlineStoreFeatureviewFeatureRegistrySourceFeatureGroups(
                feature_group_id=group.name, feature_ids=features)],
            project_number=project_number),
        sync_config=VertexAiFeatureOnlineStoreFeatureviewSyncConfig(cron=SYNC_CRON),
        depends_on=after, lifecycle=protect(site))
