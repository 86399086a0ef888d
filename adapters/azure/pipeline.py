"""Azure building steps of the continuous-training layers (experiment tracking, pipeline).

Tracking creates nothing: every Azure ML workspace serves MLflow at no extra cost, so the
layer only names its URI and experiment. The pipeline's Terraform half is what Terraform can
express: the identity its steps run as (a user-assigned identity with least-privilege role
assignments, attached to the clusters the steps use), the clusters of its CPU steps, a
cluster when the train step names a machine the training cluster does not have, and an alert
to the action group when a run in the pipeline's experiment fails.

The CPU steps (prepare, evaluate) run where the cost engine prices them
(stacks/workloads.py): on dedicated (on-demand) nodes of `cpu_machine(step.size)`, one
cluster per size the steps use (`pcpu-<s|m|l|xl>-<env>`, from zero nodes, one per parallel
run), never on the compute layer's cluster (sized by `compute.size`, low-priority with
`compute.spot`). The register step (a short Azure CLI call, priced nowhere) runs on the
cluster of the last CPU step, or on the train step's cluster in a train-only pipeline (its
node is still up). `pipeline_step_computes` maps every step but train to its cluster's name;
`pipeline_train_compute` names the train step's.

The pipeline job and its `JobSchedule` have no azurerm resource (and an azapi one would need
component ids that exist only after upload): `terraml` creates them at run time with
azure-ai-ml (adapters/azure/runtime.py). A new-data trigger (`pipeline.on_new_data`) is
refused: Azure ML schedules are time-based, and Terraform alone cannot start a pipeline job
from a storage event.
"""

from __future__ import annotations

from cdktn_provider_azurerm.machine_learning_compute_cluster import (
    MachineLearningComputeCluster,
)
from cdktn_provider_azurerm.monitor_metric_alert import (
    MonitorMetricAlert,
    MonitorMetricAlertAction,
    MonitorMetricAlertCriteria,
    MonitorMetricAlertCriteriaDimension,
)
from cdktn_provider_azurerm.role_assignment import RoleAssignment
from cdktn_provider_azurerm.role_definition import RoleDefinition, RoleDefinitionPermissions
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from adapters.azure import pipeline_steps as names
from adapters.azure import resources as az
from adapters.azure.refs import (
    AzureDataRefs,
    AzureIdentityRefs,
    AzureMonitoringRefs,
    AzureNetworkRefs,
    AzurePipelineRefs,
    AzureRegistryRefs,
    AzureTrackingRefs,
)
from adapters.azure.settings import AzureIds
from adapters.machines import MachineChooser
from core.errors import UserError
from core.pipeline import Tracking
from core.props import PipelineProps, Site

WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces"
# A CPU step's cluster is `pcpu-<code>-<env>` (Azure ML compute names: at most 16 characters,
# the environment name cut to fit; the codes keep the sizes apart within the cut).
SIZE_CODES = {"small": "s", "medium": "m", "large": "l", "xlarge": "xl"}
# What the register step may do in the workspace: read it, and read/write model versions.
REGISTRAR_ACTIONS = [f"{WORKSPACE_TYPE}/read", f"{WORKSPACE_TYPE}/models/read",
                     f"{WORKSPACE_TYPE}/models/write", f"{WORKSPACE_TYPE}/models/versions/read",
                     f"{WORKSPACE_TYPE}/models/versions/write"]


def tracking(site: Site[AzureIds], spec: Tracking,
             identity: AzureIdentityRefs) -> AzureTrackingRefs:
    """`tracking_uri` (the workspace's MLflow URI, from its id) and `tracking_experiment`."""
    return AzureTrackingRefs(outputs={
        "tracking_uri": names.tracking_uri(site.region, identity.workspace.id),
        "tracking_experiment": names.experiment_name(site.name, spec)})


def pipeline(scope: Construct, props: PipelineProps, chooser: MachineChooser, *,
             network: AzureNetworkRefs, data: AzureDataRefs, registry: AzureRegistryRefs,
             identity: AzureIdentityRefs, monitoring: AzureMonitoringRefs,
             training: MachineLearningComputeCluster,
             cpu: MachineLearningComputeCluster | None = None) -> AzurePipelineRefs:
    """The pipeline identity and its roles, its steps' clusters, the failed-run alert.
    `cpu`, the compute layer's cluster (None when that layer is off), runs no step: it is
    sized by `compute.size`, not by the steps (see the module docstring)."""
    del cpu  # accepted from the adapter's call; the steps have clusters of their own size
    site, spec = props.site, props.pipeline
    if spec.on_new_data:
        raise UserError(site.where("pipeline.on_new_data", names.NO_NEW_DATA))
    run_as = _identity(scope, site, data, registry, identity)
    train = _train_cluster(scope, props, chooser, network, identity, training)
    computes = _step_clusters(scope, props, chooser, network, identity)
    computes["register"] = list(computes.values())[-1] if computes else train
    for cluster in dict.fromkeys([*computes.values(), train]):
        cluster.put_identity(type="SystemAssigned, UserAssigned", identity_ids=[run_as.id])
    experiment = names.experiment_name(site.name, props.tracking)
    alert = _failed_runs_alert(scope, site, identity, monitoring, experiment)
    cron = spec.cron()
    evaluate = spec.steps.evaluate
    return AzurePipelineRefs(outputs={
        "pipeline_name": names.pipeline_name(site.prefix),
        "pipeline_role": run_as.id,
        "pipeline_identity_client_id": run_as.client_id,  # what the steps log in with
        # step -> cluster name for prepare, evaluate (those set) and register
        "pipeline_step_computes": {step: c.name for step, c in computes.items()},
        "pipeline_train_compute": train.name,
        "pipeline_model": names.model_name(site.prefix),
        "pipeline_schedule": cron.unix() if cron else "none",
        "pipeline_trigger": "none",
        "pipeline_approval": spec.registration.approval or "manual",
        "pipeline_metric": evaluate.metric if evaluate and evaluate.metric else "none",
    }, identity=run_as, failed_runs=alert, train_cluster=train, step_clusters=computes)


def _identity(scope: Construct, site: Site[AzureIds], data: AzureDataRefs,
              registry: AzureRegistryRefs, identity: AzureIdentityRefs) -> UserAssignedIdentity:
    """A user-assigned identity with blob data access on the storage account (the data lake
    and the workspace's datastore), image pulls from the registry, and model-version writes
    in the workspace (a custom role scoped to it)."""
    run_as = UserAssignedIdentity(scope, "pipeline-identity", name=f"id-{site.prefix}-pipeline",
                                  location=site.region,
                                  resource_group_name=identity.workspace.resource_group_name,
                                  tags=site.tags)
    workspace = identity.workspace.id
    registrar = RoleDefinition(
        scope, "pipeline-registrar-role", name=f"{site.prefix}-model-registrar",
        scope=workspace, assignable_scopes=[workspace],
        description=f"terraml {site.name}: register model versions in the workspace",
        permissions=[RoleDefinitionPermissions(actions=REGISTRAR_ACTIONS)])
    grants = (("pipeline-storage", data.account.id, "Storage Blob Data Contributor"),
              ("pipeline-acr-pull", registry.registry.id, "AcrPull"))
    for cid, target, role in grants:
        RoleAssignment(scope, cid, scope=target, role_definition_name=role,
                       principal_id=run_as.principal_id, principal_type="ServicePrincipal")
    RoleAssignment(scope, "pipeline-registrar", scope=workspace,
                   role_definition_id=registrar.role_definition_resource_id,
                   principal_id=run_as.principal_id, principal_type="ServicePrincipal")
    return run_as


def _train_cluster(scope: Construct, props: PipelineProps, chooser: MachineChooser,
                   network: AzureNetworkRefs, identity: AzureIdentityRefs,
                   training: MachineLearningComputeCluster) -> MachineLearningComputeCluster:
    """The training cluster, unless the train step names another machine: then a cluster of
    that size (from zero nodes, one per parallel run)."""
    spec = props.training
    step = chooser.train_step_machine(props.pipeline.steps.train, spec)
    usual = chooser.training_machine(spec.accelerator, spec.count, spec.instance_type)
    if step.instance_type == usual.instance_type:
        return training
    return az.cluster(scope, "ptrain", props.site, identity.workspace, network,
                      step.instance_type, spec.spot, props.pipeline.max_parallel_runs)


def _step_clusters(scope: Construct, props: PipelineProps, chooser: MachineChooser,
                   network: AzureNetworkRefs, identity: AzureIdentityRefs
                   ) -> dict[str, MachineLearningComputeCluster]:
    """prepare / evaluate (those set, in run order) -> a dedicated cluster of the step's
    `size` (`cpu_machine(size)`, from zero nodes, one per parallel run); steps of the same
    size share one."""
    by_size: dict[str, MachineLearningComputeCluster] = {}
    found: dict[str, MachineLearningComputeCluster] = {}
    for name, step in props.pipeline.steps.named().items():
        if name == "train":
            continue
        size = step.size
        if size not in by_size:
            by_size[size] = az.cluster(scope, f"pcpu-{SIZE_CODES[size]}", props.site,
                                       identity.workspace, network, chooser.cpu_machine(size),
                                       False, props.pipeline.max_parallel_runs)
        found[name] = by_size[size]
    return found


def _failed_runs_alert(scope: Construct, site: Site[AzureIds], identity: AzureIdentityRefs,
                       monitoring: AzureMonitoringRefs, experiment: str) -> MonitorMetricAlert:
    """The workspace's `Failed Runs` metric for the pipeline's experiment (a failed step,
    including a failed metric gate, fails its pipeline run) -> the action group."""
    return MonitorMetricAlert(
        scope, "pipeline-failed-runs", name=f"{site.prefix}-pipeline-failed",
        resource_group_name=identity.workspace.resource_group_name,
        scopes=[identity.workspace.id], severity=2, frequency="PT5M", window_size="PT15M",
        description=f"a run of the {names.pipeline_name(site.prefix)} pipeline failed",
        criteria=[MonitorMetricAlertCriteria(
            metric_namespace=WORKSPACE_TYPE, metric_name="Failed Runs", aggregation="Total",
            operator="GreaterThan", threshold=0,
            dimension=[MonitorMetricAlertCriteriaDimension(
                name="ExperimentName", operator="Include", values=[experiment])])],
        action=[MonitorMetricAlertAction(action_group_id=monitoring.action_group.id)],
        tags=site.tags)
