"""`GcpAdapter`: the GCP implementation of `CloudAdapter`."""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_google.data_google_project import DataGoogleProject
from cdktn_provider_google.project_service import ProjectService
from constructs import Construct

from adapters.base import Capability, CloudAdapter, LocalEmulator, Refs, builds
from adapters.gcp import (
    foundation,
    machines,
    operations,
    pipeline,
    platform,
    storage,
    tracking,
)
from adapters.gcp.refs import (
    GcpBudgetRefs,
    GcpDataRefs,
    GcpIdentityRefs,
    GcpKeyRefs,
    GcpMonitoringRefs,
    GcpNetworkRefs,
    GcpPipelineRefs,
    GcpRegistryRefs,
    GcpServingRefs,
    GcpTrackingRefs,
)
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


class GcpAdapter(machines.GcpMachines, CloudAdapter):
    name: ClassVar[str] = "gcp"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SCALE_TO_ZERO_SERVING,  # the deployed model is removed while idle
        Capability.SERVERLESS_DATA_CAPTURE,  # a scale-to-zero deployment logs requests while up
        Capability.SPOT_TRAINING,  # Vertex custom jobs on Spot VMs
        Capability.BATCH_COMPUTE,  # CPU jobs run as Vertex custom jobs: nothing to provision
    })

    provider_versions: ClassVar[dict[str, str]] = {"google": ">= 8.7, < 9.0"}

    def __init__(self) -> None:
        self._project: DataGoogleProject | None = None
        self._services: list[ProjectService] = []

    @property
    def project(self) -> DataGoogleProject:
        """The project lookup `configure` made (its number names networks and budgets)."""
        assert self._project is not None, "configure() runs before any layer"
        return self._project

    def configure(self, stack: Construct, env: Environment, local: LocalEmulator | None) -> None:
        if local:
            raise UserError("gcp: no local emulator; synthesize with `terraml synth`")
        self._project, self._services = foundation.configure(stack, env)
        self.pin_providers(stack, env)

    @builds("key")
    def encryption_key(self, scope: Construct, props: KeyProps) -> GcpKeyRefs:
        return foundation.encryption_key(scope, props.site, self.project, self._services)

    @builds("network")
    def network(self, scope: Construct, props: NetworkProps, key: GcpKeyRefs) -> GcpNetworkRefs:
        return platform.network(scope, props.site, props.network, key)

    @builds("data")
    def data_lake(self, scope: Construct, props: DataProps, key: GcpKeyRefs) -> GcpDataRefs:
        return storage.data_lake(scope, props.site, props.data, key)

    @builds("registry")
    def registry(self, scope: Construct, props: RegistryProps,
                 key: GcpKeyRefs) -> GcpRegistryRefs:
        return storage.registry(scope, props.site, props.registry, key)

    @builds("identity")
    def identity(self, scope: Construct, props: IdentityProps, key: GcpKeyRefs,
                 data: GcpDataRefs, registry: GcpRegistryRefs) -> GcpIdentityRefs:
        return platform.identity(scope, props.site, key, data, registry)

    @builds("compute")
    def compute(self, scope: Construct, props: ComputeProps, network: GcpNetworkRefs,
                identity: GcpIdentityRefs) -> Refs:
        # CPU batch work runs as Vertex AI custom jobs on this machine type: no pool to create;
        # the "queue" is the project's custom-jobs collection in the region.
        site = props.site
        return Refs(outputs={
            "batch_queue": f"projects/{site.ids.project_id}/locations/{site.region}/customJobs",
            "batch_machine_type": machines.CPU_MACHINES[props.compute.size]})

    @builds("training")
    def training(self, scope: Construct, props: TrainingProps, key: GcpKeyRefs,
                 network: GcpNetworkRefs, data: GcpDataRefs, identity: GcpIdentityRefs) -> Refs:
        spec = props.training
        machine = self.training_machine(spec.accelerator, spec.count, spec.instance_type)
        buckets = data.buckets
        return Refs(outputs={
            "training_role": identity.training.email,
            "training_output_uri": f"gs://{buckets['models'].name}/training-output/",
            "training_checkpoint_uri": f"gs://{buckets['artifacts'].name}/checkpoints/",
            "training_staging_bucket": f"gs://{buckets['artifacts'].name}/staging",
            "training_kms_key": key.key.id,
            # Vertex peering wants the network by project *number*.
            "training_network": f"projects/{self.project.number}/global/networks/"
                                f"{props.site.prefix}",
            "training_instance_type": machine.instance_type,
            "training_accelerator_type": machine.accelerator_type or "",
            "training_accelerator_count": machine.count,
            "training_spot": spec.spot,
            "training_max_runtime_seconds": int(spec.max_runtime_hours * 3600),
            "training_max_parallel_jobs": spec.max_parallel_jobs,
        })

    @builds("serving")
    def serving(self, scope: Construct, props: ServingProps, key: GcpKeyRefs,
                network: GcpNetworkRefs, data: GcpDataRefs, registry: GcpRegistryRefs,
                identity: GcpIdentityRefs) -> GcpServingRefs:
        machine = self.endpoint_machine(props.serving)
        return operations.serving(scope, props.site, props.serving, machine, key, network,
                                  self.project.number)

    @builds("monitoring")
    def monitoring(self, scope: Construct, props: MonitoringProps, key: GcpKeyRefs,
                   serving: GcpServingRefs | None) -> GcpMonitoringRefs:
        return operations.monitoring(scope, props.site, props.monitoring, serving)

    @builds("budget")
    def budget(self, scope: Construct, props: BudgetProps,
               monitoring: GcpMonitoringRefs) -> GcpBudgetRefs:
        return operations.budget(scope, props.site, props.budget, monitoring, self.project.number)

    @builds("tracking")
    def experiment_tracking(self, scope: Construct, props: TrackingProps, key: GcpKeyRefs,
                            data: GcpDataRefs, identity: GcpIdentityRefs) -> GcpTrackingRefs:
        return tracking.tracking(scope, props.site, props.tracking, key, identity)

    @builds("pipeline")
    def training_pipeline(self, scope: Construct, props: PipelineProps, key: GcpKeyRefs,
                          network: GcpNetworkRefs, data: GcpDataRefs, registry: GcpRegistryRefs,
                          identity: GcpIdentityRefs, monitoring: GcpMonitoringRefs,
                          tracking: GcpTrackingRefs | None) -> GcpPipelineRefs:
        # Runs peer with the stack's VPC (`pipeline_network`); tracking, when on, reaches the
        # steps at deploy time through the `tracking_*` outputs.
        return pipeline.pipeline(scope, props.site, props.pipeline, key, data, registry,
                                 identity, monitoring, self.project.number)

# Layers whose builders live in their own modules register themselves on import.
from adapters.gcp import drift, features, notebooks  # noqa: F401
