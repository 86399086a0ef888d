"""`AzureAdapter`: the Azure implementation of `CloudAdapter`."""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_azapi.provider import AzapiProvider
from cdktn_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures
from constructs import Construct

from adapters.azure import machines
from adapters.azure import pipeline as continuous
from adapters.azure import resources as az
from adapters.azure.refs import (
    AzureBudgetRefs,
    AzureComputeRefs,
    AzureDataRefs,
    AzureIdentityRefs,
    AzureKeyRefs,
    AzureMonitoringRefs,
    AzureNetworkRefs,
    AzurePipelineRefs,
    AzureRegistryRefs,
    AzureServingRefs,
    AzureTrackingRefs,
    AzureTrainingRefs,
)
from adapters.base import Capability, CloudAdapter, LocalEmulator, builds
from core.errors import UserError
from core.props import (
    BudgetProps,
    ComputeProps,
    DataProps,
    IdentityProps,
    KeyProps,
    MonitoringProps,
    NetworkProps,
    PipelineProps,
    RegistryProps,
    ServingProps,
    TrackingProps,
    TrainingProps,
)
from core.spec import Environment


class AzureAdapter(machines.AzureMachines, CloudAdapter):
    name: ClassVar[str] = "azure"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SCALE_TO_ZERO_SERVING,  # the deployment is removed while idle
        Capability.SERVERLESS_DATA_CAPTURE,  # a scale-to-zero deployment collects data while up
        Capability.SPOT_TRAINING,  # low-priority compute cluster nodes
        Capability.BATCH_COMPUTE,  # CPU compute cluster with min 0 nodes
    })

    provider_versions: ClassVar[dict[str, str]] = {"azurerm": ">= 5.10, < 6.0",
                                                   "azapi": ">= 2.13, < 3.0"}

    def __init__(self) -> None:
        # The key layer's foundation, kept for the budget layer: its refs do not include key
        # (the budget is scoped to the resource group).
        self._key: AzureKeyRefs | None = None
        # The clusters, kept for the pipeline layer, whose steps run on them (its refs do not
        # include compute or training; both build before it, as monitoring does).
        self._compute: AzureComputeRefs | None = None
        self._training: AzureTrainingRefs | None = None

    def configure(self, stack: Construct, env: Environment, local: LocalEmulator | None) -> None:
        if local:
            raise UserError("azure: no local emulator; synthesize with `terraml synth`")
        if not env.subscription_id:
            raise UserError(env.where("subscription_id", "azure needs the subscription id: "
                                      "expected a value"))
        AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()],
                        subscription_id=env.subscription_id, storage_use_azuread=True)
        AzapiProvider(stack, "azapi", subscription_id=env.subscription_id)
        self.pin_providers(stack, env)

    @builds("key")
    def encryption_key(self, scope: Construct, props: KeyProps) -> AzureKeyRefs:
        """Azure has no single data key here: the resource group, Key Vault and log
        workspace are the foundation every later step hangs off."""
        self._key = az.foundation(scope, props.site, props.monitoring)
        return self._key

    @builds("network")
    def network(self, scope: Construct, props: NetworkProps,
                key: AzureKeyRefs) -> AzureNetworkRefs:
        """The virtual network and compute subnet."""
        return az.network(scope, props.site, props.network, key)

    @builds("data")
    def data_lake(self, scope: Construct, props: DataProps, key: AzureKeyRefs) -> AzureDataRefs:
        """The ADLS Gen2 storage account and its containers."""
        return az.data_lake(scope, props.site, props.data, key)

    @builds("registry")
    def registry(self, scope: Construct, props: RegistryProps,
                 key: AzureKeyRefs) -> AzureRegistryRefs:
        """The container registry; the workspace model store is the model registry."""
        return az.registry(scope, props.site, props.registry, key)

    @builds("identity")
    def identity(self, scope: Construct, props: IdentityProps, key: AzureKeyRefs,
                 data: AzureDataRefs, registry: AzureRegistryRefs) -> AzureIdentityRefs:
        """The Azure ML workspace, whose system-assigned identities do the work."""
        # The workspace and its compute use system-assigned identities that Azure ML scopes
        # to the workspace's storage account, key vault and registry.
        workspace = az.workspace(scope, props.site, key, data, registry)
        return AzureIdentityRefs(outputs={"training_role": "workspace-system-assigned-identity",
                                          "serving_role": "endpoint-system-assigned-identity",
                                          "workspace": workspace.name},
                                 workspace=workspace)

    @builds("compute")
    def compute(self, scope: Construct, props: ComputeProps, network: AzureNetworkRefs,
                identity: AzureIdentityRefs) -> AzureComputeRefs:
        """A CPU compute cluster scaling from zero (the batch pool)."""
        spec = props.compute
        size = machines.CPU_SIZES[spec.size]
        pool = az.cluster(scope, "cpu", props.site, identity.workspace, network, size, spec.spot,
                          max(spec.max_vcpus // 4, 1))
        self._compute = AzureComputeRefs(outputs={"batch_queue": pool.name}, pool=pool)
        return self._compute

    @builds("training")
    def training(self, scope: Construct, props: TrainingProps, key: AzureKeyRefs,
                 network: AzureNetworkRefs, data: AzureDataRefs,
                 identity: AzureIdentityRefs) -> AzureTrainingRefs:
        """The training compute cluster and the `training_*` outputs jobs run with."""
        spec = props.training
        machine = self.training_machine(spec.accelerator, spec.count, spec.instance_type)
        gpu = az.cluster(scope, "gpu", props.site, identity.workspace, network,
                         machine.instance_type, spec.spot, spec.max_parallel_jobs)
        self._training = AzureTrainingRefs(outputs={
            "training_compute": gpu.name,
            "training_role": "workspace-system-assigned-identity",
            "training_output_uri": "azureml://datastores/workspaceblobstore/paths/training-output/",
            "training_instance_type": machine.instance_type,
            "training_spot": spec.spot,
            "training_max_runtime_seconds": int(spec.max_runtime_hours * 3600),
            "training_max_parallel_jobs": spec.max_parallel_jobs,
        }, cluster=gpu)
        return self._training

    @builds("serving")
    def serving(self, scope: Construct, props: ServingProps, key: AzureKeyRefs,
                network: AzureNetworkRefs, data: AzureDataRefs, registry: AzureRegistryRefs,
                identity: AzureIdentityRefs) -> AzureServingRefs:
        """The managed online endpoint in the workspace."""
        machine = self.endpoint_machine(props.serving)
        return az.online_endpoint(scope, props.site, props.serving, identity.workspace, machine)

    @builds("monitoring")
    def monitoring(self, scope: Construct, props: MonitoringProps, key: AzureKeyRefs,
                   serving: AzureServingRefs | None) -> AzureMonitoringRefs:
        """The alerts action group and, with an endpoint, its metric alerts."""
        return az.monitoring(scope, props.site, props.monitoring, key, serving)

    @builds("budget")
    def budget(self, scope: Construct, props: BudgetProps,
               monitoring: AzureMonitoringRefs) -> AzureBudgetRefs:
        """The resource group's monthly budget (the group comes from the key layer)."""
        if self._key is None:
            raise RuntimeError("azure: the key layer builds before the budget layer")
        return az.budget(scope, props.site, props.budget, self._key, monitoring)

    @builds("tracking")
    def tracking(self, scope: Construct, props: TrackingProps, key: AzureKeyRefs,
                 data: AzureDataRefs, identity: AzureIdentityRefs) -> AzureTrackingRefs:
        """The workspace's MLflow server (no resource, no extra cost)."""
        return continuous.tracking(props.site, props.tracking, identity)

    @builds("pipeline")
    def pipeline(self, scope: Construct, props: PipelineProps, key: AzureKeyRefs,
                 network: AzureNetworkRefs, data: AzureDataRefs, registry: AzureRegistryRefs,
                 identity: AzureIdentityRefs, monitoring: AzureMonitoringRefs,
                 tracking: AzureTrackingRefs | None = None) -> AzurePipelineRefs:
        """The pipeline's identity, train-step cluster and failed-run alert; the pipeline job
        and its schedule are created at run time (`terraml` through azure-ai-ml)."""
        if self._training is None:
            raise RuntimeError("azure: the training layer builds before the pipeline layer")
        return continuous.pipeline(
            scope, props, self, network=network, data=data, registry=registry,
            identity=identity, monitoring=monitoring,
            cpu=self._compute.pool if self._compute else None, training=self._training.cluster)

# Layers whose builders live in their own modules register themselves on import.
from adapters.azure import drift, features, notebooks  # noqa: F401
