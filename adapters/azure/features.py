"""Azure builder of the `features` layer: an Azure ML managed feature store.

The store is an Azure ML workspace of kind `FeatureStore` over the platform's storage account,
Key Vault and Application Insights, with a user-assigned materialization identity. Public
network access and high-business-impact mirror the platform workspace (public in dev only).
Customer-managed keys are not set, as on the platform workspace: the Azure foundation holds a
Key Vault but no key (`kms_key` is the vault), and Redis Basic/Standard/Premium take no CMEK.

Offline store: the `features` container, through the store's `offline-store` connection
(ADLS Gen2, managed identity). Entities and feature sets are ARM resources (azapi,
`featurestoreEntities` / `featuresets` and their `versions`, version "1"); each feature set's
specification (`FeaturesetSpec.yaml`: source, event-time column, index columns, features) is
written by Terraform to `features/featuresets/<group>/` and its version points there. Sources:
`<bucket>/<prefix>` reads Parquet files under the prefix; `warehouse:<table>` reads the Delta
table `features/<table>/` (the Azure catalog is the features container).

Online store, when any group is online: Azure Cache for Redis (TLS 1.2 only, non-SSL port off,
public network access off: reached through a private endpoint of the team's hub network), the
smallest cache holding `features.online_store.stored_gb` (Basic C in dev, Standard C
elsewhere, Premium P5 above 53 GB; more than 120 GB is refused), connected as `online-store`.
Online groups materialize to both stores daily (00:00 UTC, Spark `standard_e4s_v3`); offline
groups materialize to the offline store on demand (backfill), so dev runs no daily Spark job.

The materialization identity gets least privilege: AzureML Data Scientist on the store, Storage
Blob Data Contributor on the features container, Storage Blob Data Reader on the other source
containers, Redis Cache Contributor on the cache.
"""

from __future__ import annotations

import json

from cdktn_provider_azapi.resource import Resource as AzapiResource
from cdktn_provider_azurerm.machine_learning_workspace import (
    MachineLearningWorkspace,
    MachineLearningWorkspaceFeatureStore,
    MachineLearningWorkspaceIdentity,
)
from cdktn_provider_azurerm.redis_cache import RedisCache
from cdktn_provider_azurerm.role_assignment import RoleAssignment
from cdktn_provider_azurerm.storage_blob import StorageBlob
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from adapters.azure import resources as az
from adapters.azure.adapter import AzureAdapter
from adapters.azure.machines import global_name
from adapters.azure.refs import (
    AzureDataRefs,
    AzureFeatureStoreRefs,
    AzureIdentityRefs,
    AzureKeyRefs,
    AzureNetworkRefs,
)
from adapters.azure.settings import AzureIds
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.errors import UserError
from core.features import FeatureGroup, FeatureStore, OnlineStore
from core.props import FeatureStoreProps, Site

WORKSPACE = "Microsoft.MachineLearningServices/workspaces"
API = "2024-04-01"
CONNECTION = f"{WORKSPACE}/connections@{API}"
ENTITY = f"{WORKSPACE}/featurestoreEntities@{API}"
ENTITY_VERSION = f"{WORKSPACE}/featurestoreEntities/versions@{API}"
FEATURE_SET = f"{WORKSPACE}/featuresets@{API}"
FEATURE_SET_VERSION = f"{WORKSPACE}/featuresets/versions@{API}"
VERSION = "1"
OFFLINE_CONNECTION, ONLINE_CONNECTION = "offline-store", "online-store"
SPARK_RUNTIME = "3.4"
SPARK_INSTANCE = "standard_e4s_v3"  # the smallest serverless Spark size materialization takes
OFFLINE_CONTAINER = "features"
# neutral type -> (FeaturesetSpec column type, ARM FeatureDataType)
TYPES = {"string": ("string", "String"), "int": ("long", "Long"), "float": ("double", "Double"),
         "bool": ("boolean", "Boolean"), "timestamp": ("datetime", "Datetime")}
# Azure Cache for Redis sizes: (memory GB, family, capacity), smallest first
REDIS_SIZES = [(0.25, "C", 0), (1, "C", 1), (2.5, "C", 2), (6, "C", 3), (13, "C", 4),
               (26, "C", 5), (53, "C", 6), (120, "P", 5)]


def redis_size(site: Site[AzureIds], store: OnlineStore) -> tuple[str, str, int]:
    """(sku, family, capacity) of the smallest cache holding `stored_gb`; `UserError` above
    the largest single (unclustered) cache."""
    for memory, family, capacity in REDIS_SIZES:
        if store.stored_gb <= memory:
            sku = "Premium" if family == "P" else "Basic" if site.is_dev else "Standard"
            return sku, family, capacity
    raise UserError(site.where("features.online_store.stored_gb", (
        f"expected at most {REDIS_SIZES[-1][0]:g} GB on azure (the largest Azure Cache for "
        f"Redis, Premium P5), found {store.stored_gb:g}")))


@AzureAdapter.implementation("features")
def feature_store(adapter: AzureAdapter, scope: Construct, props: FeatureStoreProps, *,
                  key: AzureKeyRefs, network: AzureNetworkRefs, data: AzureDataRefs,
                  identity: AzureIdentityRefs) -> AzureFeatureStoreRefs:
    """The feature store, its identity and stores, entities and feature sets (see module)."""
    del adapter, network  # the store has no compute of its own; the cache is private
    site, spec = props.site, props.features
    online = spec.online_groups()
    size = redis_size(site, spec.online_store) if online else None
    run_as = UserAssignedIdentity(scope, "features-identity", name=f"id-{site.prefix}-features",
                                  location=site.region, resource_group_name=key.group.name,
                                  tags=site.tags)
    store = _store(scope, site, key, data, run_as, bool(online))
    cache = _online_store(scope, site, key, size) if size else None
    _grant(scope, spec, data, store, run_as, cache)
    _connection(scope, store, run_as, OFFLINE_CONNECTION, "ADLSGen2",
                data.containers[OFFLINE_CONTAINER].id)
    if cache is not None:
        _connection(scope, store, run_as, ONLINE_CONNECTION, "Redis", cache.id)
    entities = {name: _entity(scope, site, store, name, entity.key, entity.key_type)
                for name, entity in spec.entities.items()}
    specs: dict[str, str] = {}
    sets: dict[str, AzapiResource] = {}
    for name, group in spec.groups.items():
        specs[name] = _specification(scope, site, spec, data, name, group)
        sets[name] = _feature_set(scope, site, store, name, group, specs[name],
                                  entities[group.entity or ""])
    return AzureFeatureStoreRefs(outputs={
        "feature_store": store.id,
        "feature_groups": {name: item.id for name, item in sets.items()},
        "feature_online_store": cache.id if cache else "",
        "feature_store_name": store.name,
        "feature_entities": {name: item.id for name, item in entities.items()},
        "feature_offline_store": _abfss(data, OFFLINE_CONTAINER, ""),
        "feature_specs": specs,  # group -> the folder of its FeaturesetSpec.yaml
        "feature_materialization": {name: _store_type(group) for name, group in
                                    spec.groups.items()},
        "feature_materialization_identity": run_as.id,
    }, store=store, identity=run_as, online=cache, feature_sets=sets)


def _store(scope: Construct, site: Site[AzureIds], key: AzureKeyRefs, data: AzureDataRefs,
           run_as: UserAssignedIdentity, online: bool) -> MachineLearningWorkspace:
    """The FeatureStore workspace, public in dev only (as the platform workspace)."""
    store = MachineLearningWorkspace(
        scope, "feature-store", name=f"mlfs-{site.prefix}"[:33].rstrip("-"), kind="FeatureStore",
        location=site.region, resource_group_name=key.group.name,
        application_insights_id=key.insights.id, key_vault_id=key.vault.id,
        storage_account_id=data.account.id,
        identity=MachineLearningWorkspaceIdentity(type="SystemAssigned, UserAssigned",
                                                  identity_ids=[run_as.id]),
        feature_store=MachineLearningWorkspaceFeatureStore(
            computer_spark_runtime_version=SPARK_RUNTIME,
            offline_connection_name=OFFLINE_CONNECTION,
            online_connection_name=ONLINE_CONNECTION if online else None),
        public_network_access_enabled=site.is_dev, high_business_impact=not site.is_dev,
        description=f"terraml {site.name} feature store", tags=site.tags,
        lifecycle=protect(site))
    public = ("dev feature stores are reached from laptops; public access is off outside dev"
              if site.is_dev else "public access is disabled")
    if site.is_dev:
        skip_checks(store, {"CKV_AZURE_144": public, "CKV2_AZURE_49": public})
    skip_checks(store, {"CKV_AZURE_134": public,
                        "CKV2_AZURE_50": "the platform storage account is reached over its public "
                                         "endpoint with Entra ID auth only (shared keys off); "
                                         "private endpoints come with the hub network",
                        "CKV2_AZURE_46": "the Azure foundation has no Key Vault key to use; "
                                         "data is encrypted at rest by the platform"})
    return store


def _online_store(scope: Construct, site: Site[AzureIds], key: AzureKeyRefs,
                  size: tuple[str, str, int]) -> RedisCache:
    """A private Azure Cache for Redis: TLS 1.2 only, non-SSL port off."""
    sku, family, capacity = size
    cache = RedisCache(
        scope, "feature-online-store",
        name=global_name(az.subscription(site), "redis", site.prefix, "features", limit=63,
                         hyphens=True),
        location=site.region, resource_group_name=key.group.name, sku_name=sku, family=family,
        capacity=capacity, minimum_tls_version="1.2", non_ssl_port_enabled=False,
        public_network_access_enabled=False, redis_version="6", tags=site.tags,
        lifecycle=protect(site))
    if sku != "Premium":
        skip_checks(cache, {"CKV_AZURE_191": "Basic/Standard caches have no zones or geo "
                                             "replication; the size follows "
                                             "features.online_store.stored_gb"})
    return cache


def _grant(scope: Construct, spec: FeatureStore, data: AzureDataRefs,
           store: MachineLearningWorkspace, run_as: UserAssignedIdentity,
           cache: RedisCache | None) -> None:
    """The materialization identity's roles, each on the narrowest scope."""
    grants = [("features-store-role", store.id, "AzureML Data Scientist"),
              ("features-offline-store", data.containers[OFFLINE_CONTAINER].id,
               "Storage Blob Data Contributor")]
    sources = sorted({b for g in spec.groups.values() if (b := g.source_bucket())}
                     - {OFFLINE_CONTAINER})
    grants += [(f"features-source-{b}", data.containers[b].id, "Storage Blob Data Reader")
               for b in sources]
    if cache is not None:
        grants.append(("features-online-store", cache.id, "Redis Cache Contributor"))
    for cid, target, role in grants:
        RoleAssignment(scope, cid, scope=target, role_definition_name=role,
                       principal_id=run_as.principal_id, principal_type="ServicePrincipal")


def _connection(scope: Construct, store: MachineLearningWorkspace,
                run_as: UserAssignedIdentity, name: str, category: str,
                target: str) -> AzapiResource:
    """A store connection authenticated as the materialization identity."""
    return AzapiResource(
        scope, f"feature-connection-{name}", type=CONNECTION, name=name, parent_id=store.id,
        body={"properties": {"category": category, "target": target,
                             "authType": "ManagedIdentity",
                             "credentials": {"clientId": run_as.client_id,
                                             "resourceId": run_as.id}}})


def _entity(scope: Construct, site: Site[AzureIds], store: MachineLearningWorkspace,
            name: str, key: str, key_type: str) -> AzapiResource:
    """An entity (container + version 1) indexed by its key column."""
    container = AzapiResource(
        scope, f"feature-entity-{name}", type=ENTITY, name=name, parent_id=store.id,
        body={"properties": {"description": f"terraml entity {name}", "tags": dict(site.tags),
                             "isArchived": False}})
    return AzapiResource(
        scope, f"feature-entity-{name}-v{VERSION}", type=ENTITY_VERSION, name=VERSION,
        parent_id=container.id,
        body={"properties": {"description": f"keyed by {key}", "tags": dict(site.tags),
                             "indexColumns": [{"columnName": key,
                                               "dataType": TYPES[key_type][1]}]}})


def _abfss(data: AzureDataRefs, container: str, path: str) -> str:
    return f"abfss://{container}@{data.account.name}.dfs.core.windows.net/{path}"


def _specification(scope: Construct, site: Site[AzureIds], spec: FeatureStore,
                   data: AzureDataRefs, name: str, group: FeatureGroup) -> str:
    """`FeaturesetSpec.yaml` (JSON, which is YAML) in the offline container; its folder."""
    table = group.warehouse_table()
    if table:
        source = {"type": "deltaTable", "path": _abfss(data, OFFLINE_CONTAINER, f"{table}/")}
    else:
        prefix = group.source_prefix().rstrip("/")
        path = f"{prefix}/**/*.parquet" if prefix else "**/*.parquet"
        source = {"type": "parquet", "path": _abfss(data, group.source_bucket() or "", path)}
    source["timestamp_column"] = {"name": group.event_time}
    entity = spec.entities[group.entity or ""]
    document = {
        "$schema": "http://azureml/sdk-2-0/FeatureSetSpec.json",
        "source": source,
        "features": [{"name": f, "type": TYPES[t][0]} for f, t in group.features.items()],
        "index_columns": [{"name": entity.key, "type": TYPES[entity.key_type][0]}],
    }
    folder = f"featuresets/{name}"
    StorageBlob(scope, f"feature-spec-{name}", name=f"{folder}/FeaturesetSpec.yaml",
                storage_container_id=data.containers[OFFLINE_CONTAINER].id, type="Block",
                content_type="application/yaml",
                source_content=json.dumps(document, indent=2) + "\n",
                metadata={"environment": site.name})
    return _abfss(data, OFFLINE_CONTAINER, f"{folder}/")


def _store_type(group: FeatureGroup) -> str:
    return "OnlineAndOffline" if group.online else "Offline"


def _feature_set(scope: Construct, site: Site[AzureIds], store: MachineLearningWorkspace,
                 name: str, group: FeatureGroup, specification: str,
                 entity: AzapiResource) -> AzapiResource:
    """A feature set (container + version 1) over its specification; online groups
    materialize daily to both stores, offline groups on demand."""
    materialization: dict[str, object] = {"storeType": _store_type(group),
                                          "resource": {"instanceType": SPARK_INSTANCE}}
    if group.online:
        materialization["schedule"] = {
            "triggerType": "Recurrence", "frequency": "Day", "interval": 1, "timeZone": "UTC",
            "schedule": {"hours": [0], "minutes": [0]}}
    container = AzapiResource(
        scope, f"feature-set-{name}", type=FEATURE_SET, name=name, parent_id=store.id,
        body={"properties": {"description": f"terraml feature group {name}",
                             "tags": dict(site.tags), "isArchived": False}})
    entity_name = group.entity or ""
    return AzapiResource(
        scope, f"feature-set-{name}-v{VERSION}", type=FEATURE_SET_VERSION, name=VERSION,
        parent_id=container.id, depends_on=[entity],
        body={"properties": {
            "description": f"{len(group.features)} features from {group.source}",
            "tags": dict(site.tags), "entities": [f"azureml:{entity_name}:{VERSION}"],
            "specification": {"path": specification},
            "materializationSettings": materialization,
            "stage": "Development" if site.is_dev else "Production"}})

