"""`GcpAdapter`: the GCP implementation of `CloudAdapter`."""

from __future__ import annotations

from typing import ClassVar

from constructs import Construct

from adapters.base import Capability, CloudAdapter, LocalEmulator, Refs, builds
from adapters.gcp import foundation, machines, operations, platform, storage
from core.errors import UserError
from core.spec import Environment


class GcpAdapter(machines.GcpMachines, CloudAdapter):
    name: ClassVar[str] = "gcp"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SCALE_TO_ZERO_SERVING,  # the deployed model is removed while idle
        Capability.SPOT_TRAINING,  # Vertex custom jobs on Spot VMs
        Capability.BATCH_COMPUTE,  # CPU jobs run as Vertex custom jobs: nothing to provision
    })

    provider_versions: ClassVar[dict[str, str]] = {"google": ">= 8.7, < 9.0"}

    def __init__(self) -> None:
        self._project = None
        self._services: list = []

    def configure(self, stack: Construct, env: Environment, local: LocalEmulator | None) -> None:
        if local:
            raise UserError("gcp: no local emulator; synthesize with `terraml synth`")
        self._project, self._services = foundation.configure(stack, env)
        self.pin_providers(stack, env)

    @builds("key")
    def encryption_key(self, scope: Construct, env: Environment) -> Refs:
        return foundation.encryption_key(scope, env, self._project, self._services)

    @builds("network")
    def network(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        return platform.network(scope, env, key)

    @builds("data")
    def data_lake(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        return storage.data_lake(scope, env, key)

    @builds("registry")
    def registry(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        return storage.registry(scope, env, key)

    @builds("identity")
    def identity(self, scope: Construct, env: Environment, key: Refs, data: Refs,
                 registry: Refs) -> Refs:
        return platform.identity(scope, env, key, data, registry)

    @builds("compute")
    def compute(self, scope: Construct, env: Environment, network: Refs,
                identity: Refs) -> Refs:
        # CPU batch work runs as Vertex AI custom jobs on this machine type: no pool to create;
        # the "queue" is the project's custom-jobs collection in the region.
        return Refs(outputs={
            "batch_queue": f"projects/{env.project_id}/locations/{env.region}/customJobs",
            "batch_machine_type": machines.CPU_MACHINES[env.compute.size]})

    @builds("training")
    def training(self, scope: Construct, env: Environment, key: Refs, network: Refs,
                 data: Refs, identity: Refs) -> Refs:
        spec = env.training
        machine = self.training_machine(spec.accelerator, spec.count, spec.instance_type)
        buckets = data["buckets"]
        return Refs(outputs={
            "training_role": identity["training"].email,
            "training_output_uri": f"gs://{buckets['models'].name}/training-output/",
            "training_checkpoint_uri": f"gs://{buckets['artifacts'].name}/checkpoints/",
            "training_staging_bucket": f"gs://{buckets['artifacts'].name}/staging",
            "training_kms_key": key["key"].id,
            # Vertex peering wants the network by project *number*.
            "training_network": f"projects/{self._project.number}/global/networks/{env.prefix}",
            "training_instance_type": machine.instance_type,
            "training_accelerator_type": machine.accelerator_type or "",
            "training_accelerator_count": machine.count,
            "training_spot": spec.spot,
            "training_max_runtime_seconds": int(spec.max_runtime_hours * 3600),
            "training_max_parallel_jobs": spec.max_parallel_jobs,
        })

    @builds("serving")
    def serving(self, scope: Construct, env: Environment, key: Refs, network: Refs,
                data: Refs, registry: Refs, identity: Refs) -> Refs:
        machine = self.endpoint_machine(env)
        return operations.serving(scope, env, machine, key, network, self._project.number)

    @builds("monitoring")
    def monitoring(self, scope: Construct, env: Environment, key: Refs,
                   serving: Refs | None) -> Refs:
        return operations.monitoring(scope, env, serving)

    @builds("budget")
    def budget(self, scope: Construct, env: Environment, monitoring: Refs) -> Refs:
        return operations.budget(scope, env, monitoring, self._project.number)
