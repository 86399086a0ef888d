"""What each GCP layer hands to the layers after it: typed `Refs` subclasses."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_google.artifact_registry_repository import ArtifactRegistryRepository
from cdktn_provider_google.bigquery_dataset import BigqueryDataset
from cdktn_provider_google.billing_budget import BillingBudget
from cdktn_provider_google.compute_network import ComputeNetwork
from cdktn_provider_google.compute_subnetwork import ComputeSubnetwork
from cdktn_provider_google.data_google_project import DataGoogleProject
from cdktn_provider_google.kms_crypto_key import KmsCryptoKey
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.logging_metric import LoggingMetric
from cdktn_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_networking_connection import ServiceNetworkingConnection
from cdktn_provider_google.storage_bucket import StorageBucket
from cdktn_provider_google.vertex_ai_endpoint import VertexAiEndpoint
from cdktn_provider_google.vertex_ai_feature_group import VertexAiFeatureGroup
from cdktn_provider_google.vertex_ai_feature_online_store import VertexAiFeatureOnlineStore
from cdktn_provider_google.vertex_ai_tensorboard import VertexAiTensorboard
from cdktn_provider_google.workbench_instance import WorkbenchInstance

from adapters.base import Refs, ServingRefs

__all__ = ["GcpBudgetRefs", "GcpDataRefs", "GcpFeatureRefs", "GcpIdentityRefs", "GcpKeyRefs",
           "GcpMonitoringRefs", "GcpNetworkRefs", "GcpNotebookRefs", "GcpPipelineRefs",
           "GcpRegistryRefs", "GcpServingRefs", "GcpTrackingRefs"]


@dataclass(kw_only=True)
class GcpKeyRefs(Refs):
    key: KmsCryptoKey  # the environment's CMEK key
    key_grants: list[KmsCryptoKeyIamMember]  # service agents' use of the key: CMEK users wait
    project: DataGoogleProject


@dataclass(kw_only=True)
class GcpNetworkRefs(Refs):
    vpc: ComputeNetwork
    subnet: ComputeSubnetwork  # the private subnet
    peering: ServiceNetworkingConnection  # private services access (Vertex AI)


@dataclass(kw_only=True)
class GcpDataRefs(Refs):
    buckets: dict[str, StorageBucket]  # by the neutral bucket name (raw, features, ...)
    dataset: BigqueryDataset  # the table catalog


@dataclass(kw_only=True)
class GcpRegistryRefs(Refs):
    repository: ArtifactRegistryRepository  # one Docker repository for every image


@dataclass(kw_only=True)
class GcpIdentityRefs(Refs):
    training: ServiceAccount
    serving: ServiceAccount


@dataclass(kw_only=True)
class GcpServingRefs(ServingRefs):
    endpoint: VertexAiEndpoint


@dataclass(kw_only=True)
class GcpMonitoringRefs(Refs):
    channels: list[MonitoringNotificationChannel]  # email channels, one per recipient


@dataclass(kw_only=True)
class GcpBudgetRefs(Refs):
    budget: BillingBudget


@dataclass(kw_only=True)
class GcpTrackingRefs(Refs):
    tensorboard: VertexAiTensorboard  # backs Vertex AI Experiments (CMEK)


@dataclass(kw_only=True)
class GcpPipelineRefs(Refs):
    templates: ArtifactRegistryRepository  # the KFP repository the compiled template goes to
    runner: ServiceAccount  # what every pipeline run runs as
    failures: LoggingMetric  # the log-based count of failed runs the alert watches


@dataclass(kw_only=True)
class GcpFeatureRefs(Refs):
    groups: dict[str, VertexAiFeatureGroup]  # by the neutral group name
    online_store: VertexAiFeatureOnlineStore | None  # None when no group is online


@dataclass(kw_only=True)
class GcpNotebookRefs(Refs):
    instances: dict[str, WorkbenchInstance]  # by user
    account: ServiceAccount  # what every notebook runs as
