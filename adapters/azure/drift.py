"""Azure builder of the `drift` layer (registered with `AzureAdapter.implementation("drift")`).

Azure ML model monitoring is a *monitor schedule* (a `MonitorSchedule` with a data drift
signal, run on serverless Spark), which has no azurerm resource and needs the baseline data
asset registered first: `terraml monitor baseline` creates it at run time through azure-ai-ml
(adapters/azure/drift_runtime.py). Terraform holds what it can:

- storage locations: identity-based Azure ML datastores (no account key, no SAS) over the
  data-lake containers of the baseline and of a data-lake target, so the monitor reads them as
  `azureml://datastores/<name>/paths/<prefix>`; Azure ML writes each run's signal outputs
  (the reports) to the workspace's default datastore, on the same storage account;
- least privilege: the workspace's system-assigned identity (what identity-based datastores
  read with) gets Storage Blob Data Reader on exactly those containers, nothing wider;
- the alert: a monitoring run whose features break a threshold *fails* (Azure ML tags it
  `azureml_modelmonitor_threshold_breached`), so a metric alert on the workspace's
  `Failed Runs` metric, filtered to the monitor's experiment (Azure ML runs a monitor
  schedule's jobs in an experiment named after the schedule), sends violations -- and
  monitoring runs that fail outright -- to the stack's action group. Azure ML's own alert
  emails go to `monitoring.emails` as well (set on the schedule).

Per-feature thresholds: Azure ML holds one threshold per data type and signal, so the runtime
makes one data drift signal per distinct threshold (`signal_groups`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktn_provider_azurerm.machine_learning_datastore_datalake_gen2 import (
    MachineLearningDatastoreDatalakeGen2,
)
from cdktn_provider_azurerm.monitor_metric_alert import (
    MonitorMetricAlert,
    MonitorMetricAlertAction,
    MonitorMetricAlertCriteria,
    MonitorMetricAlertCriteriaDimension,
)
from cdktn_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

from adapters.azure.adapter import AzureAdapter
from adapters.azure.machines import SPARK_SIZES
from adapters.azure.refs import (
    AzureDataRefs,
    AzureIdentityRefs,
    AzureKeyRefs,
    AzureMonitoringRefs,
    AzureNetworkRefs,
    AzureServingRefs,
)
from adapters.base import Refs
from core.cron import parse
from core.drift import Drift
from core.props import DriftProps

WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces"
SPARK_RUNTIME = "3.4"
REPORTS_URI = "azureml://datastores/workspaceblobstore/paths/azureml/"


@dataclass(kw_only=True)
class AzureDriftRefs(Refs):
    """The datastores the monitor reads (bucket -> datastore), the workspace identity's
    reader grants and the alert on failed monitoring runs."""

    datastores: dict[str, MachineLearningDatastoreDatalakeGen2] = field(default_factory=dict)
    grants: list[RoleAssignment] = field(default_factory=list)
    alert: MonitorMetricAlert


def monitor_name(prefix: str) -> str:
    """The monitor schedule's name (also its runs' experiment)."""
    return f"{prefix}-drift"


def datastore_name(bucket: str) -> str:
    """Azure ML datastore names: letters, digits and underscores."""
    return f"terraml_{bucket.replace('-', '_')}"


@AzureAdapter.implementation("drift")
def drift(adapter: AzureAdapter, scope: Construct, props: DriftProps, *, key: AzureKeyRefs,
          network: AzureNetworkRefs, data: AzureDataRefs, identity: AzureIdentityRefs,
          monitoring: AzureMonitoringRefs,
          serving: AzureServingRefs | None = None) -> AzureDriftRefs:
    """Datastores and reader grants for the baseline (and a data-lake target), the failed-run
    alert, and the `drift_*` outputs the runtime builds the monitor schedule from."""
    del adapter, key, network  # the layer's contract passes them; nothing here needs them
    site, spec = props.site, props.monitoring.drift
    assert spec is not None  # the layer is on only when monitoring.drift is set
    buckets = [spec.baseline_bucket()]
    if not spec.watches_endpoint() and spec.target_bucket() not in buckets:
        buckets.append(spec.target_bucket())
    workspace = identity.workspace
    principal = workspace.identity.principal_id
    datastores, grants = {}, []
    for bucket in buckets:
        container = data.containers[bucket]
        datastores[bucket] = MachineLearningDatastoreDatalakeGen2(
            scope, f"drift-datastore-{bucket}", name=datastore_name(bucket),
            workspace_id=workspace.id, storage_container_id=container.id,
            service_data_identity="WorkspaceSystemAssignedIdentity",
            description=f"terraml {site.name}: drift monitoring reads {bucket}", tags=site.tags)
        grants.append(RoleAssignment(
            scope, f"drift-reader-{bucket}", scope=container.id,
            role_definition_name="Storage Blob Data Reader", principal_id=principal,
            principal_type="ServicePrincipal"))
    name = monitor_name(site.prefix)
    alert = MonitorMetricAlert(
        scope, "drift-violations", name=f"{site.prefix}-drift-violations",
        resource_group_name=workspace.resource_group_name, scopes=[workspace.id], severity=2,
        frequency="PT15M", window_size="PT1H",
        description=f"drift monitor {name}: a feature broke its threshold (the monitoring run "
                    "failed) or the run itself failed",
        criteria=[MonitorMetricAlertCriteria(
            metric_namespace=WORKSPACE_TYPE, metric_name="Failed Runs", aggregation="Total",
            operator="GreaterThan", threshold=0,
            dimension=[MonitorMetricAlertCriteriaDimension(
                name="ExperimentName", operator="Include", values=[name])])],
        action=[MonitorMetricAlertAction(action_group_id=monitoring.action_group.id)],
        tags=site.tags)
    return AzureDriftRefs(outputs=_outputs(spec, name, datastores, serving), datastores=datastores,
                          grants=grants, alert=alert)


def _outputs(spec: Drift, name: str, datastores: dict[str, MachineLearningDatastoreDatalakeGen2],
             serving: AzureServingRefs | None) -> dict:
    def location(bucket: str, prefix: str) -> str:
        return f"azureml://datastores/{datastores[bucket].name}/paths/{prefix}"

    if spec.watches_endpoint():
        assert serving is not None  # DriftMonitoring.check refuses `endpoint` without serving
        target = f"azureml:{serving.endpoint.name}"  # its live deployment's collected inputs
    else:
        target = location(spec.target_bucket(), spec.target_prefix())
    return {
        "drift_monitor": name,
        "drift_baseline_uri": location(spec.baseline_bucket(), spec.baseline_prefix()),
        "drift_target": target,
        "drift_reports_uri": REPORTS_URI,
        "drift_features": list(spec.features),
        "drift_thresholds": spec.thresholds(),
        "drift_schedule": parse(spec.schedule).unix(),
        # the Spark size as the monitor takes it (lower case), from the machine table
        "drift_instance_type": SPARK_SIZES[spec.size].lower(),
        "drift_spark_runtime": SPARK_RUNTIME,
    }

