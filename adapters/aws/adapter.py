"""`AwsAdapter`: the AWS implementation of `CloudAdapter` (wires the per-service modules)."""

from __future__ import annotations

from typing import ClassVar

from constructs import Construct

from adapters.aws import budget as aws_budget
from adapters.aws import compute as aws_compute
from adapters.aws import identity as aws_identity
from adapters.aws import machines, storage
from adapters.aws import monitoring as aws_monitoring
from adapters.aws import network as aws_network
from adapters.aws import pipeline as aws_pipeline
from adapters.aws import registry as aws_registry
from adapters.aws import serving as aws_serving
from adapters.aws import tracking as aws_tracking
from adapters.aws.provider import configure_provider
from adapters.aws.refs import (
    AwsComputeRefs,
    AwsDataRefs,
    AwsIdentityRefs,
    AwsKeyRefs,
    AwsMonitoringRefs,
    AwsNetworkRefs,
    AwsPipelineRefs,
    AwsRegistryRefs,
    AwsServingRefs,
    AwsTrackingRefs,
)
from adapters.base import Capability, CloudAdapter, LocalEmulator, Refs, builds
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


class AwsAdapter(machines.AwsMachines, CloudAdapter):
    name: ClassVar[str] = "aws"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SERVERLESS_SERVING,
        Capability.SPOT_TRAINING,
        Capability.BATCH_COMPUTE,
        Capability.LOCAL_EMULATOR,
    })

    provider_versions: ClassVar[dict[str, str]] = {"aws": ">= 5.100, < 7.0"}

    def __init__(self) -> None:
        self._account = ""
        self._partition = "aws"

    @property
    def account(self) -> str:
        """The account id the stack deploys to (set by `configure`)."""
        return self._account

    @property
    def partition(self) -> str:
        """The AWS partition (`aws`, `aws-cn`, ...; set by `configure`)."""
        return self._partition

    def configure(self, stack: Construct, env: Environment, local: LocalEmulator | None) -> None:
        self._account, self._partition = configure_provider(stack, env, local)
        self.pin_providers(stack, env, local.provider_version if local else None)

    @builds("key")
    def encryption_key(self, scope: Construct, props: KeyProps) -> AwsKeyRefs:
        return storage.encryption_key(scope, props, self._account, self._partition)

    @builds("network")
    def network(self, scope: Construct, props: NetworkProps, key: AwsKeyRefs) -> AwsNetworkRefs:
        return aws_network.network(scope, props, key)

    @builds("data")
    def data_lake(self, scope: Construct, props: DataProps, key: AwsKeyRefs) -> AwsDataRefs:
        return storage.data_lake(scope, props, key, self._account, self._partition)

    @builds("registry")
    def registry(self, scope: Construct, props: RegistryProps,
                 key: AwsKeyRefs) -> AwsRegistryRefs:
        return aws_registry.registry(scope, props, key)

    @builds("identity")
    def identity(self, scope: Construct, props: IdentityProps, key: AwsKeyRefs,
                 data: AwsDataRefs, registry: AwsRegistryRefs) -> AwsIdentityRefs:
        return aws_identity.identity(scope, props, key, data, registry, self._account,
                                     self._partition)

    @builds("compute")
    def compute(self, scope: Construct, props: ComputeProps, network: AwsNetworkRefs,
                identity: AwsIdentityRefs) -> AwsComputeRefs:
        return aws_compute.compute(scope, props, network, self._partition)

    @builds("training")
    def training(self, scope: Construct, props: TrainingProps, key: AwsKeyRefs,
                 network: AwsNetworkRefs, data: AwsDataRefs, identity: AwsIdentityRefs) -> Refs:
        spec = props.training
        machine = self.training_machine(spec.accelerator, spec.count, spec.instance_type)
        buckets = data.buckets
        max_run = int(spec.max_runtime_hours * 3600)
        return Refs(outputs={
            "training_role": identity.training.arn,
            "training_output_uri": f"s3://{buckets['models'].bucket}/training-output/",
            "training_checkpoint_uri": f"s3://{buckets['artifacts'].bucket}/checkpoints/",
            "training_kms_key": key.key.arn,
            "training_subnet_ids": [s.id for s in network.subnets],
            "training_security_group_id": network.security_group.id,
            "training_instance_type": machine.instance_type,
            "training_instance_count": 1,
            "training_spot": spec.spot,
            "training_max_runtime_seconds": max_run,
            # Managed spot must finish within max_wait >= max_run; allow queueing for capacity.
            "training_max_wait_seconds": max_run * 2 if spec.spot else max_run,
            "training_max_parallel_jobs": spec.max_parallel_jobs,
        })

    @builds("serving")
    def serving(self, scope: Construct, props: ServingProps, key: AwsKeyRefs,
                network: AwsNetworkRefs, data: AwsDataRefs, registry: AwsRegistryRefs,
                identity: AwsIdentityRefs) -> AwsServingRefs:
        machine = self.endpoint_machine(props.serving)
        return aws_serving.serving(scope, props, machine, key, network, data, registry, identity)

    @builds("monitoring")
    def monitoring(self, scope: Construct, props: MonitoringProps, key: AwsKeyRefs,
                   serving: AwsServingRefs | None) -> AwsMonitoringRefs:
        return aws_monitoring.monitoring(scope, props, key, serving, self._account)

    @builds("budget")
    def budget(self, scope: Construct, props: BudgetProps, monitoring: AwsMonitoringRefs) -> Refs:
        return aws_budget.budget(scope, props, monitoring)

    @builds("tracking")
    def tracking(self, scope: Construct, props: TrackingProps, key: AwsKeyRefs,
                 data: AwsDataRefs, identity: AwsIdentityRefs) -> AwsTrackingRefs:
        return aws_tracking.tracking(scope, props, key, data, identity, self._account)

    @builds("pipeline")
    def pipeline(self, scope: Construct, props: PipelineProps, key: AwsKeyRefs,
                 network: AwsNetworkRefs, data: AwsDataRefs, registry: AwsRegistryRefs,
                 identity: AwsIdentityRefs, monitoring: AwsMonitoringRefs,
                 tracking: AwsTrackingRefs | None) -> AwsPipelineRefs:
        machines = {name: machine.instance_type for name, machine in
                    self.pipeline_machines(props.pipeline, props.training).items()}
        needs = aws_pipeline.PipelineNeeds(key=key, network=network, data=data,
                                           registry=registry, identity=identity,
                                           monitoring=monitoring, tracking=tracking)
        return aws_pipeline.pipeline(scope, props, machines, needs, self._account,
                                     self._partition)

# Layers whose builders live in their own modules register themselves on import.
from adapters.aws import drift, features, notebooks  # noqa: F401
