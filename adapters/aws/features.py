"""The feature store on AWS: one SageMaker Feature Store feature group per `features.groups`.

Each group's record identifier is its entity's key (String or Integral), its event-time column
a String (ISO-8601), and its features map the neutral types onto SageMaker's three (string and
timestamp -> String, int and bool -> Integral, float -> Fractional). The offline store (always
on) writes Parquet under `s3://<features bucket>/feature-store/`, encrypted with the environment
key, and registers one Glue table per group (`features_<group>`) in the data lake's catalog
database, so Athena queries it. The online store (the environment key) is on only for groups with
`online: true`; it is billed every month it holds data.

SageMaker feature groups do not read their source: records are ingested with `PutRecord` (the
SageMaker SDK's `FeatureGroup.ingest`, or a pipeline step) from the group's source, which each
group records in its `terraml-source` tag (`<bucket>/<prefix>` in the data lake, or
`warehouse:<table>` in the catalog database); its description (at most 128 characters) is
`terraml <env>: <group>`. SageMaker's limits are checked as one-line errors: group names of at
most 64 characters, feature names too, and none of the names the offline store reserves.

The feature store's role (the one SageMaker writes the offline store as) may only write under
the offline-store prefix (objects and their ACLs, as AWS's own feature-store policy), use the
environment key and create or update the groups' own Glue tables. Provider 5.x arguments only
(no `region`).
"""

from __future__ import annotations

import re

from cdktn_provider_aws.sagemaker_feature_group import (
    SagemakerFeatureGroup,
    SagemakerFeatureGroupFeatureDefinition,
    SagemakerFeatureGroupOfflineStoreConfig,
    SagemakerFeatureGroupOfflineStoreConfigDataCatalogConfig,
    SagemakerFeatureGroupOfflineStoreConfigS3StorageConfig,
    SagemakerFeatureGroupOnlineStoreConfig,
    SagemakerFeatureGroupOnlineStoreConfigSecurityConfig,
)
from constructs import Construct

from adapters.aws import policy
from adapters.aws.adapter import AwsAdapter
from adapters.aws.refs import (
    AwsDataRefs,
    AwsFeatureRefs,
    AwsIdentityRefs,
    AwsKeyRefs,
    AwsNetworkRefs,
)
from adapters.aws.roles import service_role
from adapters.lifecycle import protect
from core.errors import UserError
from core.features import FeatureGroup
from core.props import FeatureStoreProps

OFFLINE_PREFIX = "feature-store"
FEATURE_TYPES = {"string": "String", "timestamp": "String", "int": "Integral",
                 "bool": "Integral", "float": "Fractional"}
KEY_TYPES = {"string": "String", "int": "Integral"}
# SageMaker's FeatureGroupName / FeatureName: letters and digits, joined by '-' or '_', <= 64.
NAME = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")
MAX_NAME = 64
# Columns the offline store adds to every group's table: no feature may take their names.
RESERVED = ("is_deleted", "write_time", "api_invocation_time")
GLUE_TABLE_ACTIONS = ["glue:GetTable", "glue:CreateTable", "glue:UpdateTable"]
USE_KEY = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]


def group_name(prefix: str, group: str) -> str:
    """The SageMaker feature group name of a neutral group."""
    return f"{prefix}-{group}"


def table_name(group: str) -> str:
    """The Glue table the offline store registers for a neutral group."""
    return f"features_{group}"


@AwsAdapter.implementation("features")
def features(adapter: AwsAdapter, scope: Construct, props: FeatureStoreProps, *,
             key: AwsKeyRefs, network: AwsNetworkRefs, data: AwsDataRefs,
             identity: AwsIdentityRefs) -> AwsFeatureRefs:
    """One feature group per `features.groups`, its offline store in the features bucket and
    the data lake's catalog, an online store where the group asks for one. Outputs
    `feature_store` (offline store URI), `feature_groups` (group -> name),
    `feature_online_store` (online group names, or "" when none), `feature_store_role`,
    `feature_catalog_database`."""
    site, spec = props.site, props.features
    account, partition = adapter.account, adapter.partition
    bucket, database = data.buckets["features"], data.database
    glue = f"arn:{partition}:glue:{site.region}:{account}"
    tables = [f"{glue}:table/{database.name}/{table_name(name)}" for name in spec.groups]
    role, access = service_role(
        scope, "feature-store-role", f"{site.prefix}-feature-store",
        f"terraml {site.name}: SageMaker Feature Store offline store", "sagemaker.amazonaws.com",
        account, [
            policy.allow("LocateOfflineStore", ["s3:GetBucketAcl", "s3:GetBucketLocation"],
                         [bucket.arn]),
            policy.allow("ListOfflineStore", ["s3:ListBucket"], [bucket.arn],
                         {"StringLike": {"s3:prefix": [OFFLINE_PREFIX, f"{OFFLINE_PREFIX}/*"]}}),
            policy.allow("WriteOfflineStore", ["s3:PutObject", "s3:PutObjectAcl",
                                               "s3:GetObject", "s3:AbortMultipartUpload"],
                         [f"{bucket.arn}/{OFFLINE_PREFIX}/*"]),
            policy.allow("UseEnvironmentKey", USE_KEY, [key.key.arn]),
            policy.allow("RegisterOfflineTables", GLUE_TABLE_ACTIONS + ["glue:GetDatabase"],
                         [f"{glue}:catalog", f"{glue}:database/{database.name}", *tables]),
        ], policy_name="offline-store")
    offline_uri = f"s3://{bucket.bucket}/{OFFLINE_PREFIX}/"
    groups: dict[str, SagemakerFeatureGroup] = {}
    for name, group in spec.groups.items():
        entity = spec.entities[group.entity or ""]
        _check_names(props, name, group, entity.key)
        groups[name] = SagemakerFeatureGroup(
            scope, f"feature-group-{name}", feature_group_name=group_name(site.prefix, name),
            record_identifier_feature_name=entity.key,
            event_time_feature_name=group.event_time,
            feature_definition=_definitions(group, entity.key, KEY_TYPES[entity.key_type]),
            description=f"terraml {site.name}: {name}",  # <= 128; the source is in the tag
            role_arn=role.arn,
            offline_store_config=SagemakerFeatureGroupOfflineStoreConfig(
                s3_storage_config=SagemakerFeatureGroupOfflineStoreConfigS3StorageConfig(
                    s3_uri=offline_uri, kms_key_id=key.key.arn),
                data_catalog_config=SagemakerFeatureGroupOfflineStoreConfigDataCatalogConfig(
                    catalog="AwsDataCatalog", database=database.name,
                    table_name=table_name(name)),
            ),
            online_store_config=SagemakerFeatureGroupOnlineStoreConfig(
                enable_online_store=True,
                security_config=SagemakerFeatureGroupOnlineStoreConfigSecurityConfig(
                    kms_key_id=key.key.arn)) if group.online else None,
            tags={"terraml-source": group.source, "entity": group.entity or ""},
            depends_on=[access],  # SageMaker checks the role when it creates the group
            lifecycle=protect(site),  # the online store's records live in the group
        )
    online = [groups[name].feature_group_name for name in spec.online_groups()]
    return AwsFeatureRefs(
        outputs={
            "feature_store": offline_uri,
            "feature_groups": {name: g.feature_group_name for name, g in groups.items()},
            "feature_online_store": online or "",
            "feature_store_role": role.arn,
            "feature_catalog_database": database.name,
        },
        groups=groups, role=role)


def _definitions(group: FeatureGroup, key: str,
                 key_type: str) -> list[SagemakerFeatureGroupFeatureDefinition]:
    """The record identifier, the event time (an ISO-8601 String) and the features."""
    columns = {key: key_type, group.event_time: "String",
               **{name: FEATURE_TYPES[kind] for name, kind in group.features.items()}}
    return [SagemakerFeatureGroupFeatureDefinition(feature_name=name, feature_type=kind)
            for name, kind in columns.items()]


def _check_names(props: FeatureStoreProps, name: str, group: FeatureGroup, key: str) -> None:
    """SageMaker's naming rules, as one-line errors naming the setting."""
    site = props.site
    full = group_name(site.prefix, name)
    if not NAME.match(full) or len(full) > MAX_NAME:
        raise UserError(site.where(f"features.groups.{name}", "expected a name that ends with "
                                   f"a letter or digit and, after '{site.prefix}-', fits "
                                   f"SageMaker's {MAX_NAME} characters"))
    for column in (key, group.event_time, *group.features):
        if not NAME.match(column) or len(column) > MAX_NAME:
            raise UserError(site.where(f"features.groups.{name}.features",
                                       f"expected column names of at most {MAX_NAME} "
                                       f"characters that end with a letter or digit, found "
                                       f"{column!r}"))
        if column in RESERVED:
            raise UserError(site.where(f"features.groups.{name}.features",
                                       f"{column!r} is reserved by SageMaker's offline store "
                                       f"({', '.join(RESERVED)}); rename the feature"))
