"""SageMaker Feature Store feature groups and notebook-instance extras in the embedded emulator.

Moto's feature groups drop the online store, the description and the data catalog the caller
names (it invents its own), cannot be deleted, listed or tagged, and a missing one answers 500.
Emulated instead, as AWS answers: CreateFeatureGroup (checks no feature takes a name the
offline store reserves, the record identifier and event time are defined features, the event
time a String or Fractional, the offline store an s3:// URI in a Glue database that exists;
registers the group's Glue table there, as SageMaker does),
DescribeFeatureGroup (`ResourceNotFound` when absent, which the Terraform provider waits for
after a delete), UpdateFeatureGroup (new features, the online store's TTL, throughput),
DeleteFeatureGroup (the Glue table and offline data stay, as on AWS), ListFeatureGroups and
tags on the group's ARN through AddTags / ListTags / DeleteTags.

Notebook instances keep what moto drops and Terraform reads back (the platform identifier, the
instance metadata service setting, a network interface in the subnet); notebook lifecycle
configurations gain tags and UpdateNotebookInstanceLifecycleConfig / ListNotebookInstanceLifecycleConfigs.
No notebook server runs: the idle check in the lifecycle script is not executed here.
State lives on moto's SageMaker backend, so a moto reset clears it.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.glue.models import glue_backends
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from terraml.local import arn_lookups

EVENT_TIME_TYPES = ("String", "Fractional")
GLUE_TYPES = {"String": "string", "Integral": "bigint", "Fractional": "double"}
# Columns SageMaker adds to every offline-store table.
OFFLINE_COLUMNS = [{"Name": "write_time", "Type": "timestamp"},
                   {"Name": "api_invocation_time", "Type": "timestamp"},
                   {"Name": "is_deleted", "Type": "boolean"}]
PLATFORM = "notebook-al2-v1"  # SageMaker's default when the call names none
IMDS_DEFAULT = {"MinimumInstanceMetadataServiceVersion": "1"}


def feature_groups(backend: SageMakerModelBackend) -> dict[str, SimpleNamespace]:
    """Feature groups by ARN (`.doc` the Describe answer, `.tags` the tag list)."""
    return backend.__dict__.setdefault("_terraml_feature_groups", {})


def _arn(backend: SageMakerModelBackend, kind: str, name: str) -> str:
    return (f"arn:{backend.partition}:sagemaker:{backend.region_name}:{backend.account_id}:"
            f"{kind}/{name.lower()}")


def _find(self: SageMakerResponse) -> SimpleNamespace:
    backend = self.sagemaker_backend
    name = self._get_param("FeatureGroupName")
    found = feature_groups(backend).get(_arn(backend, "feature-group", name))
    if found is None:
        raise ResourceNotFound(f"Resource Not Found: FeatureGroup with name {name} not found.")
    return found


def _check(definitions: list[dict], record: str, event_time: str) -> None:
    types = {d.get("FeatureName"): d.get("FeatureType") for d in definitions}
    if len(types) != len(definitions):
        raise ValidationError("FeatureDefinitions: feature names must be unique")
    reserved = sorted(set(types) & {column["Name"] for column in OFFLINE_COLUMNS})
    if reserved:
        raise ValidationError(f"FeatureDefinitions: the feature names {reserved} are reserved "
                              "(is_deleted, write_time, api_invocation_time)")
    if record not in types:
        raise ValidationError(f"RecordIdentifierFeatureName {record} is not a defined feature")
    if types.get(event_time) not in EVENT_TIME_TYPES:
        raise ValidationError(f"EventTimeFeatureName {event_time} must be a defined String or "
                              "Fractional feature")


def _offline_store(self: SageMakerResponse, name: str, definitions: list[dict],
                   config: dict | None) -> dict | None:
    """The offline store as AWS describes it, its Glue table registered in the database."""
    if not config:
        return None
    backend = self.sagemaker_backend
    storage = dict(config.get("S3StorageConfig") or {})
    uri = str(storage.get("S3Uri") or "")
    if not uri.startswith("s3://"):
        raise ValidationError("Invalid S3Uri provided: expected s3://<bucket>/<prefix>")
    created = utcnow()
    storage["ResolvedOutputS3Uri"] = (
        f"{uri.rstrip('/')}/{backend.account_id}/sagemaker/{backend.region_name}/offline-store/"
        f"{name}-{int(created.timestamp())}/data")
    store: dict[str, Any] = {"S3StorageConfig": storage,
                             "DisableGlueTableCreation": bool(config.get(
                                 "DisableGlueTableCreation", False)),
                             "TableFormat": config.get("TableFormat") or "Glue"}
    if not store["DisableGlueTableCreation"]:
        catalog = dict(config.get("DataCatalogConfig") or {})
        catalog.setdefault("Catalog", "AwsDataCatalog")
        catalog.setdefault("Database", "sagemaker_featurestore")
        catalog.setdefault("TableName", f"{name.replace('-', '_')}_{int(created.timestamp())}")
        glue = glue_backends[backend.account_id][backend.region_name]
        try:
            glue.get_database(catalog["Database"])
        except Exception as exc:  # moto's EntityNotFoundException
            raise ValidationError(f"DataCatalogConfig: Glue database {catalog['Database']} "
                                  "does not exist") from exc
        columns = [{"Name": d["FeatureName"], "Type": GLUE_TYPES[d["FeatureType"]]}
                   for d in definitions] + OFFLINE_COLUMNS
        glue.create_table(catalog["Database"], catalog["TableName"], {
            "Name": catalog["TableName"], "TableType": "EXTERNAL_TABLE",
            "Description": f"Offline store of SageMaker feature group {name}",
            "StorageDescriptor": {"Columns": columns, "Location": storage["ResolvedOutputS3Uri"],
                                  "InputFormat": "org.apache.hadoop.hive.ql.io.parquet."
                                                 "MapredParquetInputFormat"},
            "Parameters": {"classification": "parquet"}})
        store["DataCatalogConfig"] = catalog
    return store


def _create(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("FeatureGroupName")
    arn = _arn(backend, "feature-group", name)
    if arn in feature_groups(backend):
        raise ResourceInUseException(f"Resource Already Exists: FeatureGroup with name {name} already "
                              "exists. Choose a different name.")
    definitions = list(self._get_param("FeatureDefinitions") or [])
    record = self._get_param("RecordIdentifierFeatureName")
    event_time = self._get_param("EventTimeFeatureName")
    _check(definitions, record, event_time)
    online = self._get_param("OnlineStoreConfig")
    offline = self._get_param("OfflineStoreConfig")
    if not online and not offline:
        raise ValidationError("Either OnlineStoreConfig or OfflineStoreConfig is required")
    now = utcnow()
    doc: dict[str, Any] = {
        "FeatureGroupArn": arn, "FeatureGroupName": name,
        "RecordIdentifierFeatureName": record, "EventTimeFeatureName": event_time,
        "FeatureDefinitions": definitions, "CreationTime": now, "LastModifiedTime": now,
        "RoleArn": self._get_param("RoleArn"), "FeatureGroupStatus": "Created",
        "ThroughputConfig": self._get_param("ThroughputConfig") or {"ThroughputMode": "OnDemand"},
    }
    if self._get_param("Description"):
        doc["Description"] = self._get_param("Description")
    if online:
        doc["OnlineStoreConfig"] = online
        doc["OnlineStoreTotalSizeBytes"] = 0
    store = _offline_store(self, name, definitions, offline)
    if store:
        doc["OfflineStoreConfig"] = store
        doc["OfflineStoreStatus"] = {"Status": "Active"}
    feature_groups(backend)[arn] = SimpleNamespace(arn=arn, doc=doc,
                                                   tags=list(self._get_param("Tags") or []))
    return ActionResult({"FeatureGroupArn": arn})


def _describe(self: SageMakerResponse) -> ActionResult:
    return ActionResult(dict(_find(self).doc))


def _update(self: SageMakerResponse) -> ActionResult:
    group = _find(self)
    doc = group.doc
    added = list(self._get_param("FeatureAdditions") or [])
    if added:
        known = {d["FeatureName"] for d in doc["FeatureDefinitions"]}
        if known & {d.get("FeatureName") for d in added}:
            raise ValidationError("FeatureAdditions: a feature of that name already exists")
        doc["FeatureDefinitions"] = doc["FeatureDefinitions"] + added
    online = self._get_param("OnlineStoreConfig")
    if online:
        if "OnlineStoreConfig" not in doc:
            raise ValidationError("OnlineStoreConfig: this feature group has no online store")
        doc["OnlineStoreConfig"] = {**doc["OnlineStoreConfig"], **online}
    if self._get_param("ThroughputConfig"):
        doc["ThroughputConfig"] = {**doc["ThroughputConfig"],
                                   **self._get_param("ThroughputConfig")}
    doc.update(LastModifiedTime=utcnow(), LastUpdateStatus={"Status": "Successful"})
    return ActionResult({"FeatureGroupArn": group.arn})


def _delete(self: SageMakerResponse) -> EmptyResult:
    group = _find(self)
    del feature_groups(self.sagemaker_backend)[group.arn]
    return EmptyResult()


def _list(self: SageMakerResponse) -> ActionResult:
    contains = self._get_param("NameContains") or ""
    summaries = [{key: group.doc[key] for key in ("FeatureGroupName", "FeatureGroupArn",
                                                  "CreationTime", "FeatureGroupStatus")
                  if key in group.doc}
                 for group in feature_groups(self.sagemaker_backend).values()
                 if contains in group.doc["FeatureGroupName"]]
    return ActionResult({"FeatureGroupSummaries": sorted(
        summaries, key=lambda s: s["FeatureGroupName"])})


# -- notebook instances and lifecycle configurations ------------------------------------


def _extras(backend: SageMakerModelBackend) -> dict[str, dict[str, Any]]:
    """What moto drops from a notebook instance, by instance name."""
    return backend.__dict__.setdefault("_terraml_notebook_extras", {})


def _create_notebook_keeping_settings(self: SageMakerResponse) -> ActionResult:
    answer = _create_notebook(self)
    name = self._get_param("NotebookInstanceName")
    _extras(self.sagemaker_backend)[name] = {
        "PlatformIdentifier": self._get_param("PlatformIdentifier") or PLATFORM,
        "InstanceMetadataServiceConfiguration": (
            self._get_param("InstanceMetadataServiceConfiguration") or IMDS_DEFAULT),
        "NetworkInterfaceId": f"eni-{uuid.uuid4().hex[:17]}",
    }
    return answer


def _describe_notebook_with_settings(self: SageMakerResponse) -> ActionResult:
    answer = _describe_notebook(self)
    extras = _extras(self.sagemaker_backend).get(self._get_param("NotebookInstanceName"), {})
    body = {key: value for key, value in answer.result.items() if value not in (None, [])}
    body.update(extras)
    if not body.get("SubnetId"):
        body.pop("NetworkInterfaceId", None)
    return ActionResult(body)


def _delete_notebook_and_settings(self: SageMakerResponse) -> Any:
    answer = _delete_notebook(self)
    _extras(self.sagemaker_backend).pop(self._get_param("NotebookInstanceName"), None)
    return answer


def _lifecycle_tags(backend: SageMakerModelBackend) -> dict[str, list]:
    """Tag lists of lifecycle configurations, by ARN."""
    return backend.__dict__.setdefault("_terraml_lifecycle_tags", {})


def _create_lifecycle_with_tags(self: SageMakerResponse) -> ActionResult:
    answer = _create_lifecycle(self)
    arn = answer.result["NotebookInstanceLifecycleConfigArn"]
    _lifecycle_tags(self.sagemaker_backend)[arn] = list(self._get_param("Tags") or [])
    return answer


def _delete_lifecycle_and_tags(self: SageMakerResponse) -> Any:
    backend = self.sagemaker_backend
    name = self._get_param("NotebookInstanceLifecycleConfigName")
    config = backend.notebook_instance_lifecycle_configurations.get(name)
    answer = _delete_lifecycle(self)
    if config is not None:
        _lifecycle_tags(backend).pop(config.arn, None)
    return answer


def _update_lifecycle(self: SageMakerResponse) -> EmptyResult:
    backend = self.sagemaker_backend
    name = self._get_param("NotebookInstanceLifecycleConfigName")
    config = backend.notebook_instance_lifecycle_configurations.get(name)
    if config is None:
        raise ValidationError(f"Unable to describe Notebook Instance Lifecycle Config "
                              f"'{name}'. (Details: Notebook Instance Lifecycle Config does "
                              "not exist.)")
    for param, attribute in (("OnCreate", "on_create"), ("OnStart", "on_start")):
        if self._get_param(param) is not None:
            setattr(config, attribute, self._get_param(param))
    config.last_modified_time = utcnow()
    return EmptyResult()


def _list_lifecycles(self: SageMakerResponse) -> ActionResult:
    contains = self._get_param("NameContains") or ""
    configs = self.sagemaker_backend.notebook_instance_lifecycle_configurations.values()
    return ActionResult({"NotebookInstanceLifecycleConfigs": [
        {"NotebookInstanceLifecycleConfigName": c.notebook_instance_lifecycle_config_name,
         "NotebookInstanceLifecycleConfigArn": c.arn, "CreationTime": c.creation_time,
         "LastModifiedTime": c.last_modified_time}
        for c in configs if contains in c.notebook_instance_lifecycle_config_name]})


# -- tags -----------------------------------------------------------------------------------


def _feature_group(self: SageMakerModelBackend, arn: str) -> Any:
    group = feature_groups(self).get(arn)
    if group is None:
        raise ValidationError(f"Could not find feature-group {arn}")
    return group


def _lifecycle_config(self: SageMakerModelBackend, arn: str) -> Any:
    if arn not in _lifecycle_tags(self):
        raise ValidationError(f"Could not find notebook-instance-lifecycle-config {arn}")
    return SimpleNamespace(tags=_lifecycle_tags(self)[arn])


_create_notebook = SageMakerResponse.create_notebook_instance
_describe_notebook = SageMakerResponse.describe_notebook_instance
_delete_notebook = SageMakerResponse.delete_notebook_instance
_create_lifecycle = SageMakerResponse.create_notebook_instance_lifecycle_config
_delete_lifecycle = SageMakerResponse.delete_notebook_instance_lifecycle_config


def install() -> None:
    """Add these calls to moto's responses."""
    SageMakerResponse.create_feature_group = _create
    SageMakerResponse.describe_feature_group = _describe
    SageMakerResponse.update_feature_group = _update
    SageMakerResponse.delete_feature_group = _delete
    SageMakerResponse.list_feature_groups = _list
    SageMakerResponse.create_notebook_instance = _create_notebook_keeping_settings
    SageMakerResponse.describe_notebook_instance = _describe_notebook_with_settings
    SageMakerResponse.delete_notebook_instance = _delete_notebook_and_settings
    SageMakerResponse.create_notebook_instance_lifecycle_config = _create_lifecycle_with_tags
    SageMakerResponse.delete_notebook_instance_lifecycle_config = _delete_lifecycle_and_tags
    SageMakerResponse.update_notebook_instance_lifecycle_config = _update_lifecycle
    SageMakerResponse.list_notebook_instance_lifecycle_configs = _list_lifecycles
    arn_lookups.register(":feature-group/", _feature_group)
    arn_lookups.register(":notebook-instance-lifecycle-config/", _lifecycle_config)
    arn_lookups.install()
