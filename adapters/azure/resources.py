"""Azure building steps. Every taggable resource gets the environment's tags."""

from __future__ import annotations

from cdktn_provider_azapi.resource import Resource as AzapiResource
from cdktn_provider_azurerm.application_insights import ApplicationInsights
from cdktn_provider_azurerm.consumption_budget_resource_group import (
    ConsumptionBudgetResourceGroup,
    ConsumptionBudgetResourceGroupNotification,
    ConsumptionBudgetResourceGroupTimePeriod,
)
from cdktn_provider_azurerm.container_registry import ContainerRegistry
from cdktn_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktn_provider_azurerm.key_vault import KeyVault, KeyVaultNetworkAcls
from cdktn_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktn_provider_azurerm.machine_learning_compute_cluster import (
    MachineLearningComputeCluster,
    MachineLearningComputeClusterIdentity,
    MachineLearningComputeClusterScaleSettings,
)
from cdktn_provider_azurerm.machine_learning_workspace import (
    MachineLearningWorkspace,
    MachineLearningWorkspaceIdentity,
)
from cdktn_provider_azurerm.management_lock import ManagementLock
from cdktn_provider_azurerm.monitor_action_group import (
    MonitorActionGroup,
    MonitorActionGroupEmailReceiver,
)
from cdktn_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
)
from cdktn_provider_azurerm.monitor_metric_alert import (
    MonitorMetricAlert,
    MonitorMetricAlertAction,
    MonitorMetricAlertCriteria,
    MonitorMetricAlertCriteriaDimension,
)
from cdktn_provider_azurerm.nat_gateway import NatGateway
from cdktn_provider_azurerm.resource_group import ResourceGroup
from cdktn_provider_azurerm.storage_account import (
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
)
from cdktn_provider_azurerm.storage_container import StorageContainer
from cdktn_provider_azurerm.subnet import Subnet
from cdktn_provider_azurerm.subnet_nat_gateway_association import SubnetNatGatewayAssociation
from cdktn_provider_azurerm.virtual_network import VirtualNetwork
from constructs import Construct

from adapters.azure.machines import global_name
from adapters.azure.refs import (
    AzureBudgetRefs,
    AzureDataRefs,
    AzureKeyRefs,
    AzureMonitoringRefs,
    AzureNetworkRefs,
    AzureRegistryRefs,
    AzureServingRefs,
)
from adapters.azure.settings import AzureIds
from adapters.base import AcceleratorChoice
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.props import Site
from core.spec import Budget, Data, Monitoring, Network, Registry, Serving

ONLINE_ENDPOINT = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01"


def subscription(site: Site[AzureIds]) -> str:
    """The subscription id global names hash in ("" when the environment file has none)."""
    return site.ids.subscription_id or ""


def foundation(scope: Construct, site: Site[AzureIds], monitoring: Monitoring) -> AzureKeyRefs:
    """Resource group (delete lock outside dev), Key Vault, Log Analytics, App Insights."""
    tags = site.tags
    group = ResourceGroup(scope, "resource-group", name=f"rg-{site.prefix}", location=site.region,
                          tags=tags, lifecycle=protect(site))
    if site.deletion_protection:
        ManagementLock(scope, "delete-lock", name=f"{site.prefix}-no-delete", scope=group.id,
                       lock_level="CanNotDelete", notes="terraml: stateful environment")
    client = DataAzurermClientConfig(scope, "client")
    vault = KeyVault(
        scope, "key-vault",
        name=global_name(subscription(site), "kv", site.prefix, limit=24, hyphens=True),
        location=site.region, resource_group_name=group.name, tenant_id=client.tenant_id,
        sku_name="standard", rbac_authorization_enabled=True,
        purge_protection_enabled=not site.is_dev,
        soft_delete_retention_days=7 if site.is_dev else 90,
        public_network_access_enabled=False,
        network_acls=KeyVaultNetworkAcls(default_action="Deny", bypass="AzureServices"),
        tags=tags, lifecycle=protect(site))
    if site.is_dev:
        skip_checks(vault, {"CKV_AZURE_110": "dev vaults are disposable; purge protection is on "
                                             "outside dev",
                            "CKV_AZURE_42": "dev vaults are disposable; purge protection is on "
                                            "outside dev"})
    skip_checks(vault, {"CKV2_AZURE_32": "private endpoints are added with the team's hub "
                                         "network; public access is already disabled"})
    logs = LogAnalyticsWorkspace(scope, "logs", name=f"log-{site.prefix}", location=site.region,
                                 resource_group_name=group.name, sku="PerGB2018",
                                 retention_in_days=max(monitoring.log_retention_days, 30),
                                 tags=tags)
    insights = ApplicationInsights(scope, "insights", name=f"appi-{site.prefix}",
                                   location=site.region, resource_group_name=group.name,
                                   application_type="other", workspace_id=logs.id, tags=tags)
    return AzureKeyRefs(outputs={"kms_key": vault.id, "resource_group": group.name},
                        group=group, vault=vault, logs=logs, insights=insights)


def network(scope: Construct, site: Site[AzureIds], spec: Network,
            key: AzureKeyRefs) -> AzureNetworkRefs:
    """A virtual network with one compute subnet; a NAT gateway only when asked for."""
    group = key.group
    vnet = VirtualNetwork(scope, "vnet", name=f"vnet-{site.prefix}", location=site.region,
                          resource_group_name=group.name, address_space=[spec.cidr],
                          tags=site.tags)
    subnet = Subnet(scope, "subnet", name="compute", resource_group_name=group.name,
                    virtual_network_name=vnet.name, address_prefixes=[spec.cidr],
                    default_outbound_access_enabled=False)
    skip_checks(subnet, {"CKV2_AZURE_31": "Azure ML manages the compute NICs' security groups "
                                          "in this subnet"})
    nat = None
    if spec.nat_gateway:
        nat = NatGateway(scope, "nat", name=f"nat-{site.prefix}", location=site.region,
                         resource_group_name=group.name, sku_name="Standard",
                         tags=site.tags)
        SubnetNatGatewayAssociation(scope, "nat-subnet", subnet_id=subnet.id,
                                    nat_gateway_id=nat.id)
    return AzureNetworkRefs(outputs={"network_id": vnet.id, "subnet_ids": [subnet.id],
                                     "security_group_id": ""},
                            vnet=vnet, subnet=subnet, nat=nat)


def data_lake(scope: Construct, site: Site[AzureIds], spec: Data,
              key: AzureKeyRefs) -> AzureDataRefs:
    """An ADLS Gen2 account (Entra ID auth only, versioned) with one container per bucket."""
    group = key.group
    account = StorageAccount(
        scope, "storage",
        name=global_name(subscription(site), "st", site.project, site.name, limit=24),
        location=site.region, resource_group_name=group.name, account_tier="Standard",
        account_replication_type="LRS" if site.is_dev else "ZRS", account_kind="StorageV2",
        is_hns_enabled=True, https_traffic_only_enabled=True, min_tls_version="TLS1_2",
        allow_nested_items_to_be_public=False, infrastructure_encryption_enabled=True,
        shared_access_key_enabled=False, default_to_oauth_authentication=True,
        local_user_enabled=False,
        public_network_access_enabled=True,
        blob_properties=StorageAccountBlobProperties(
            versioning_enabled=True,
            delete_retention_policy=StorageAccountBlobPropertiesDeleteRetentionPolicy(
                days=spec.noncurrent_version_days),
            container_delete_retention_policy=(
                StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(
                    days=spec.noncurrent_version_days))),
        tags=site.tags, lifecycle=protect(site))
    skip_checks(account, {
        "CKV_AZURE_59": "Azure ML reaches the account over its public endpoint with Entra ID "
                        "auth only (shared keys off); private endpoints come with the hub network",
        "CKV_AZURE_33": "queue service is unused; queue logging adds cost without signal",
        "CKV_AZURE_206": "replication is ZRS outside dev; dev keeps LRS to stay cheap",
        "CKV2_AZURE_1": "customer-managed keys are optional; infrastructure encryption is on",
        "CKV2_AZURE_33": "private endpoints come with the team's hub network",
        "CKV2_AZURE_41": "no SAS tokens: shared key access is disabled",
        "CKV2_AZURE_40": "shared key access is disabled",
    })
    MonitorDiagnosticSetting(
        scope, "storage-blob-logs", name=f"{site.prefix}-blob-logs",
        target_resource_id=f"{account.id}/blobServices/default",
        log_analytics_workspace_id=key.logs.id,
        enabled_log=[MonitorDiagnosticSettingEnabledLog(category=c)
                     for c in ("StorageRead", "StorageWrite", "StorageDelete")])
    containers: dict[str, StorageContainer] = {}
    for name in spec.buckets:
        containers[name] = StorageContainer(scope, f"container-{name}", name=name,
                                            storage_account_id=account.id,
                                            container_access_type="private")
        skip_checks(containers[name], {"CKV2_AZURE_21": (
            "blob read/write/delete logs go to Log Analytics through a diagnostic setting; "
            "storage insights would need shared keys, which are disabled")})
    outputs = {f"bucket_{name}": f"{account.name}/{name}" for name in containers}
    outputs.update(storage_account=account.name, catalog_database=f"{account.name}/features")
    return AzureDataRefs(outputs=outputs, account=account, containers=containers)


def registry(scope: Construct, site: Site[AzureIds], spec: Registry,
             key: AzureKeyRefs) -> AzureRegistryRefs:
    """An ACR registry (Basic in dev, Standard otherwise) with admin access off."""
    registry_sku = "Basic" if site.is_dev else "Standard"  # Premium-only features stay off
    acr = ContainerRegistry(
        scope, "registry",
        name=global_name(subscription(site), "acr", site.project, site.name, limit=50),
        location=site.region, resource_group_name=key.group.name, sku=registry_sku,
        admin_enabled=False, tags=site.tags, lifecycle=protect(site))
    skip_checks(acr, {
        "CKV_AZURE_139": "public network rules need Premium; pulls use Entra ID auth",
        "CKV_AZURE_163": "image scanning is Defender for Cloud, enabled per subscription",
        "CKV_AZURE_164": "content trust needs Premium",
        "CKV_AZURE_165": "geo-replication needs Premium",
        "CKV_AZURE_166": "quarantine needs Premium",
        "CKV_AZURE_167": "untagged-manifest retention needs Premium",
        "CKV_AZURE_233": "zone redundancy needs Premium",
        "CKV_AZURE_237": "dedicated data endpoints need Premium",
    })
    outputs = {f"repository_{n}_url": f"{acr.login_server}/{n}" for n in spec.repositories}
    # The Azure ML workspace model store is the model registry: models are registered at run time.
    outputs["model_registry"] = "azureml-workspace-models"
    return AzureRegistryRefs(outputs=outputs, registry=acr)


def workspace(scope: Construct, site: Site[AzureIds], key: AzureKeyRefs, data: AzureDataRefs,
              registry: AzureRegistryRefs) -> MachineLearningWorkspace:
    """The Azure ML workspace over the vault, insights, storage account and registry."""
    ws = MachineLearningWorkspace(
        scope, "workspace", name=f"mlw-{site.prefix}", location=site.region,
        resource_group_name=key.group.name, application_insights_id=key.insights.id,
        key_vault_id=key.vault.id, storage_account_id=data.account.id,
        container_registry_id=registry.registry.id,
        identity=MachineLearningWorkspaceIdentity(type="SystemAssigned"),
        public_network_access_enabled=site.is_dev, high_business_impact=not site.is_dev,
        tags=site.tags, lifecycle=protect(site))
    if site.is_dev:
        skip_checks(ws, {
            "CKV_AZURE_144": "dev workspaces are reached from laptops; public access is off "
                             "outside dev",
            "CKV2_AZURE_49": "dev workspaces are reached from laptops; public access is off "
                             "outside dev"})
    skip_checks(ws, {"CKV_AZURE_134": "dev workspaces are reached from laptops; public access is "
                                      "off outside dev" if site.is_dev else
                                      "public access is disabled",
                     "CKV2_AZURE_46": "customer-managed keys are optional; data is encrypted "
                                      "at rest by the platform"})
    return ws


def cluster(scope: Construct, cid: str, site: Site[AzureIds], ws: MachineLearningWorkspace,
            network: AzureNetworkRefs, size: str, low_priority: bool, max_nodes: int
            ) -> MachineLearningComputeCluster:
    """A compute cluster in the network's subnet, scaling from zero nodes."""
    return MachineLearningComputeCluster(
        scope, cid, name=f"{cid}-{site.name}"[:16], location=site.region,
        machine_learning_workspace_id=ws.id, vm_size=size,
        vm_priority="LowPriority" if low_priority else "Dedicated",
        scale_settings=MachineLearningComputeClusterScaleSettings(
            min_node_count=0, max_node_count=max_nodes,
            scale_down_nodes_after_idle_duration="PT10M"),
        identity=MachineLearningComputeClusterIdentity(type="SystemAssigned"),
        subnet_resource_id=network.subnet.id, node_public_ip_enabled=False,
        local_auth_enabled=False, ssh_public_access_enabled=False, tags=site.tags)


def online_endpoint(scope: Construct, site: Site[AzureIds], spec: Serving,
                    ws: MachineLearningWorkspace,
                    machine: AcceleratorChoice | None) -> AzureServingRefs:
    """A managed online endpoint (azapi); deployments and their autoscale come at run time."""
    endpoint = AzapiResource(
        scope, "endpoint", type=ONLINE_ENDPOINT, name=f"{site.prefix}-endpoint"[:32],
        parent_id=ws.id, location=site.region, identity=[{"type": "SystemAssigned"}],
        body={"properties": {"authMode": "Key",
                             "publicNetworkAccess": "Enabled" if site.is_dev else "Disabled",
                             "description": f"terraml {site.name} model endpoint"}},
        tags=site.tags)
    outputs = {
        "endpoint_name": endpoint.name, "serving_mode": spec.mode,
        "serving_instance_type": machine.instance_type if machine else "Standard_DS3_v2",
        # Deployments carry the instances: terraml deploy-model applies these autoscale
        # settings; "serverless" means the deployment is removed while idle (stop-idle).
        "serving_min_replicas": 0 if spec.mode == "serverless" else spec.min_instances,
        "serving_max_replicas": spec.max_instances,
        "serving_target_requests_per_instance": spec.target_invocations_per_instance,
    }
    return AzureServingRefs(outputs=outputs, endpoint=endpoint)


def monitoring(scope: Construct, site: Site[AzureIds], spec: Monitoring, key: AzureKeyRefs,
               serving: AzureServingRefs | None) -> AzureMonitoringRefs:
    """An email action group; latency and 5xx alerts on the endpoint when there is one."""
    group = key.group
    actions = MonitorActionGroup(
        scope, "alerts", name=f"ag-{site.prefix}", resource_group_name=group.name,
        short_name=f"tml{site.name}"[:12],
        email_receiver=[MonitorActionGroupEmailReceiver(name=f"email-{i}", email_address=e,
                                                        use_common_alert_schema=True)
                        for i, e in enumerate(spec.emails)],
        tags=site.tags)
    if serving is not None:
        namespace = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
        for cid, metric, aggregation, threshold, text in (
            ("endpoint-latency", "RequestLatency", "Average", spec.latency_ms,
             f"latency above {spec.latency_ms} ms"),
            ("endpoint-errors", "RequestsPerMinute", "Total", spec.errors_5xx,
             f"more than {spec.errors_5xx} 5xx errors"),
        ):
            MonitorMetricAlert(
                scope, cid, name=f"{site.prefix}-{cid}", resource_group_name=group.name,
                scopes=[serving.endpoint.id], description=text, frequency="PT5M",
                window_size="PT5M",
                criteria=[MonitorMetricAlertCriteria(
                    metric_namespace=namespace, metric_name=metric, aggregation=aggregation,
                    operator="GreaterThan", threshold=threshold, skip_metric_validation=True,
                    dimension=[MonitorMetricAlertCriteriaDimension(
                        name="statusCodeClass", operator="Include", values=["5xx"])]
                    if metric == "RequestsPerMinute" else None)],
                action=[MonitorMetricAlertAction(action_group_id=actions.id)],
                tags=site.tags)
    return AzureMonitoringRefs(outputs={"alerts_topic": actions.id}, action_group=actions)


def budget(scope: Construct, site: Site[AzureIds], spec: Budget, key: AzureKeyRefs,
           monitoring: AzureMonitoringRefs) -> AzureBudgetRefs:
    """A monthly budget on the resource group, notifying the action group at each threshold."""
    item = ConsumptionBudgetResourceGroup(
        scope, "budget", name=f"{site.prefix}-monthly", resource_group_id=key.group.id,
        amount=spec.monthly_usd, time_grain="Monthly",
        time_period=ConsumptionBudgetResourceGroupTimePeriod(start_date="2026-01-01T00:00:00Z"),
        notification=[ConsumptionBudgetResourceGroupNotification(
            operator="GreaterThan", threshold=p, threshold_type="Actual",
            contact_emails=spec.emails or None,
            contact_groups=[monitoring.action_group.id])
            for p in spec.thresholds_percent])
    return AzureBudgetRefs(outputs={"budget_name": item.name}, budget=item)
