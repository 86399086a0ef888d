"""SageMaker managed MLflow tracking servers in the embedded emulator (moto has none).

Emulated: CreateMlflowTrackingServer (status `Created` at once), DescribeMlflowTrackingServer
(`ResourceNotFound` when absent, which the Terraform provider waits for after a delete),
UpdateMlflowTrackingServer (status `Updated`), DeleteMlflowTrackingServer,
ListMlflowTrackingServers, CreatePresignedMlflowTrackingServerUrl (a placeholder URL), and
tags on the server's ARN through SageMaker's AddTags / ListTags / DeleteTags (plus ListTags on
model package ARNs, which moto answers with a 500, and AddTags / DeleteTags on them). Nothing listens at the server's URL: MLflow
clients cannot log to it locally. State lives on moto's SageMaker backend, so a moto reset
clears it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from terraml.local import arn_lookups

MLFLOW_VERSION = "2.16"  # what `mlflow_version` reads back when the call sets none
MAINTENANCE_WINDOW = "Tue:03:30"  # SageMaker's default, when the call sets none
UPDATABLE = ("ArtifactStoreUri", "TrackingServerSize", "AutomaticModelRegistration",
             "WeeklyMaintenanceWindowStart")


def servers(backend: SageMakerModelBackend) -> dict[str, SimpleNamespace]:
    """Tracking servers by ARN (`.doc` the Describe answer, `.tags` moto's tag list)."""
    return backend.__dict__.setdefault("_terraml_mlflow_servers", {})


def _arn(backend: SageMakerModelBackend, name: str) -> str:
    return (f"arn:{backend.partition}:sagemaker:{backend.region_name}:{backend.account_id}:"
            f"mlflow-tracking-server/{name}")


def _find(self: SageMakerResponse) -> SimpleNamespace:
    name = self._get_param("TrackingServerName")
    server = servers(self.sagemaker_backend).get(_arn(self.sagemaker_backend, name))
    if server is None:
        raise ResourceNotFound(f"Tracking server {name} does not exist.")
    return server


def _create(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("TrackingServerName")
    arn = _arn(backend, name)
    if arn in servers(backend):
        raise ValidationError(f"Tracking server {name} already exists.")
    if not str(self._get_param("ArtifactStoreUri") or "").startswith("s3://"):
        raise ValidationError("ArtifactStoreUri: expected an s3:// URI")
    now = utcnow()
    servers(backend)[arn] = SimpleNamespace(arn=arn, tags=list(self._get_param("Tags") or []),
                                            doc={
        "TrackingServerArn": arn, "TrackingServerName": name,
        "ArtifactStoreUri": self._get_param("ArtifactStoreUri"),
        "TrackingServerSize": self._get_param("TrackingServerSize") or "Small",
        "MlflowVersion": self._get_param("MlflowVersion") or MLFLOW_VERSION,
        "RoleArn": self._get_param("RoleArn"),
        "TrackingServerStatus": "Created", "IsActive": "Active",
        "TrackingServerUrl": f"https://{name}.mlflow.local.invalid",
        "WeeklyMaintenanceWindowStart": (self._get_param("WeeklyMaintenanceWindowStart")
                                         or MAINTENANCE_WINDOW),
        "AutomaticModelRegistration": bool(self._get_param("AutomaticModelRegistration")),
        "CreationTime": now, "LastModifiedTime": now})
    return ActionResult({"TrackingServerArn": arn})


def _describe(self: SageMakerResponse) -> ActionResult:
    return ActionResult(dict(_find(self).doc))


def _update(self: SageMakerResponse) -> ActionResult:
    server = _find(self)
    for key in UPDATABLE:
        if self._get_param(key) is not None:
            server.doc[key] = self._get_param(key)
    server.doc.update(TrackingServerStatus="Updated", LastModifiedTime=utcnow())
    return ActionResult({"TrackingServerArn": server.arn})


def _delete(self: SageMakerResponse) -> ActionResult:
    server = _find(self)
    del servers(self.sagemaker_backend)[server.arn]
    return ActionResult({"TrackingServerArn": server.arn})


def _list(self: SageMakerResponse) -> ActionResult:
    summaries = [{key: server.doc[key] for key in (
        "TrackingServerArn", "TrackingServerName", "CreationTime", "LastModifiedTime",
        "TrackingServerStatus", "IsActive", "MlflowVersion")}
        for server in servers(self.sagemaker_backend).values()]
    return ActionResult({"TrackingServerSummaries": summaries})


def _presigned_url(self: SageMakerResponse) -> ActionResult:
    return ActionResult({"AuthorizedUrl": _find(self).doc["TrackingServerUrl"] +
                         "/auth?token=local-emulator"})


def _tracking_server(self: SageMakerModelBackend, arn: str) -> Any:
    if arn not in servers(self):
        raise ValidationError(f"Could not find mlflow-tracking-server {arn}")
    return servers(self)[arn]


def _model_package(self: SageMakerModelBackend, arn: str) -> Any:
    """Model packages (`model-package/<group>/<n>`, which moto's split on `/` turns into a
    500)."""
    package = self.model_packages.get(arn)
    if package is None:
        raise ValidationError(f"Could not find model-package {arn}")
    if package.tags is None:  # created without tags
        package.tags = []
    return package


def install() -> None:
    SageMakerResponse.create_mlflow_tracking_server = _create
    SageMakerResponse.describe_mlflow_tracking_server = _describe
    SageMakerResponse.update_mlflow_tracking_server = _update
    SageMakerResponse.delete_mlflow_tracking_server = _delete
    SageMakerResponse.list_mlflow_tracking_servers = _list
    SageMakerResponse.create_presigned_mlflow_tracking_server_url = _presigned_url
    arn_lookups.register(":mlflow-tracking-server/", _tracking_server)
    arn_lookups.register(":model-package/", _model_package)
    arn_lookups.install()
