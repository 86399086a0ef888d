"""What each Azure layer hands to later layers: typed `Refs` subclasses, one per layer.

Fields are the provider resources later Azure builders use; `outputs` (from `Refs`) carries
the neutral stack outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktn_provider_azapi.resource import Resource as AzapiResource
from cdktn_provider_azurerm.application_insights import ApplicationInsights
from cdktn_provider_azurerm.consumption_budget_resource_group import (
    ConsumptionBudgetResourceGroup,
)
from cdktn_provider_azurerm.container_registry import ContainerRegistry
from cdktn_provider_azurerm.key_vault import KeyVault
from cdktn_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktn_provider_azurerm.machine_learning_compute_cluster import (
    MachineLearningComputeCluster,
)
from cdktn_provider_azurerm.machine_learning_workspace import MachineLearningWorkspace
from cdktn_provider_azurerm.monitor_action_group import MonitorActionGroup
from cdktn_provider_azurerm.monitor_metric_alert import MonitorMetricAlert
from cdktn_provider_azurerm.nat_gateway import NatGateway
from cdktn_provider_azurerm.redis_cache import RedisCache
from cdktn_provider_azurerm.resource_group import ResourceGroup
from cdktn_provider_azurerm.storage_account import StorageAccount
from cdktn_provider_azurerm.storage_container import StorageContainer
from cdktn_provider_azurerm.subnet import Subnet
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from cdktn_provider_azurerm.virtual_network import VirtualNetwork

from adapters.base import Refs, ServingRefs

__all__ = ["AzureBudgetRefs", "AzureComputeRefs", "AzureDataRefs", "AzureFeatureStoreRefs",
           "AzureIdentityRefs", "AzureKeyRefs", "AzureMonitoringRefs", "AzureNetworkRefs",
           "AzureNotebooksRefs", "AzurePipelineRefs", "AzureRegistryRefs", "AzureServingRefs",
           "AzureTrackingRefs", "AzureTrainingRefs"]


@dataclass(kw_only=True)
class AzureKeyRefs(Refs):
    """The foundation: resource group, Key Vault (the `kms_key`), Log Analytics, App Insights."""

    group: ResourceGroup
    vault: KeyVault
    logs: LogAnalyticsWorkspace
    insights: ApplicationInsights


@dataclass(kw_only=True)
class AzureNetworkRefs(Refs):
    """The virtual network, its compute subnet and the NAT gateway when one was asked for."""

    vnet: VirtualNetwork
    subnet: Subnet
    nat: NatGateway | None = None


@dataclass(kw_only=True)
class AzureDataRefs(Refs):
    """The ADLS Gen2 storage account and its containers by bucket name."""

    account: StorageAccount
    containers: dict[str, StorageContainer] = field(default_factory=dict)


@dataclass(kw_only=True)
class AzureRegistryRefs(Refs):
    """The container registry (ACR)."""

    registry: ContainerRegistry


@dataclass(kw_only=True)
class AzureIdentityRefs(Refs):
    """The Azure ML workspace, whose system-assigned identities training and serving use."""

    workspace: MachineLearningWorkspace


@dataclass(kw_only=True)
class AzureComputeRefs(Refs):
    """The CPU compute cluster (the batch pool)."""

    pool: MachineLearningComputeCluster


@dataclass(kw_only=True)
class AzureTrainingRefs(Refs):
    """The training compute cluster."""

    cluster: MachineLearningComputeCluster


@dataclass(kw_only=True)
class AzureServingRefs(ServingRefs):
    """The managed online endpoint (an azapi resource), which the cost workload points to."""

    endpoint: AzapiResource


@dataclass(kw_only=True)
class AzureMonitoringRefs(Refs):
    """The action group alerts and budget notifications go to."""

    action_group: MonitorActionGroup


@dataclass(kw_only=True)
class AzureBudgetRefs(Refs):
    """The resource group's monthly consumption budget."""

    budget: ConsumptionBudgetResourceGroup


@dataclass(kw_only=True)
class AzureTrackingRefs(Refs):
    """Experiment tracking: the workspace's own MLflow server, so no resource of its own."""


@dataclass(kw_only=True)
class AzurePipelineRefs(Refs):
    """The pipeline's user-assigned identity, the alert on its failed runs, the cluster its
    train step runs on (the training cluster, or its own when the step names a machine the
    training cluster does not have) and the clusters of its other steps by step name
    (prepare and evaluate on clusters of their own size, register beside the last of them)."""

    identity: UserAssignedIdentity
    failed_runs: MonitorMetricAlert
    train_cluster: MachineLearningComputeCluster
    step_clusters: dict[str, MachineLearningComputeCluster] = field(default_factory=dict)


@dataclass(kw_only=True)
class AzureFeatureStoreRefs(Refs):
    """The managed feature store (a workspace of kind FeatureStore), its materialization
    identity, the online store (Azure Cache for Redis) when a group is online, and the feature
    set versions (azapi) by group name."""

    store: MachineLearningWorkspace
    identity: UserAssignedIdentity
    online: RedisCache | None = None
    feature_sets: dict[str, AzapiResource] = field(default_factory=dict)


@dataclass(kw_only=True)
class AzureNotebooksRefs(Refs):
    """One compute instance (an azapi `workspaces/computes` resource) per user."""

    notebooks: dict[str, AzapiResource] = field(default_factory=dict)
