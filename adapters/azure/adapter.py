"""`AzureAdapter`: the Azure implementation of `CloudAdapter`."""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_azapi.provider import AzapiProvider
from cdktn_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures
from constructs import Construct

from adapters.azure import machines
from adapters.azure import resources as az
from adapters.base import Capability, CloudAdapter, LocalEmulator, Refs, builds
from core.errors import UserError
from core.spec import Environment


class AzureAdapter(machines.AzureMachines, CloudAdapter):
    name: ClassVar[str] = "azure"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SCALE_TO_ZERO_SERVING,  # the deployment is removed while idle
        Capability.SPOT_TRAINING,  # low-priority compute cluster nodes
        Capability.BATCH_COMPUTE,  # CPU compute cluster with min 0 nodes
    })

    provider_versions: ClassVar[dict[str, str]] = {"azurerm": ">= 5.10, < 6.0",
                                                   "azapi": ">= 2.13, < 3.0"}

    def __init__(self) -> None:
        self._key = Refs()

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
    def encryption_key(self, scope: Construct, env: Environment) -> Refs:
        """Azure has no single data key here: the resource group, Key Vault and log
        workspace are the foundation every later step hangs off."""
        self._key = az.foundation(scope, env)
        return self._key

    @builds("network")
    def network(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        return az.network(scope, env, key)

    @builds("data")
    def data_lake(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        return az.data_lake(scope, env, key)

    @builds("registry")
    def registry(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        return az.registry(scope, env, key)

    @builds("identity")
    def identity(self, scope: Construct, env: Environment, key: Refs, data: Refs,
                 registry: Refs) -> Refs:
        # The workspace and its compute use system-assigned identities that Azure ML scopes
        # to the workspace's storage account, key vault and registry.
        workspace = az.workspace(scope, env, key, data, registry)
        return Refs(outputs={"training_role": "workspace-system-assigned-identity",
                             "serving_role": "endpoint-system-assigned-identity",
                             "workspace": workspace.name},
                    handles={"workspace": workspace})

    @builds("compute")
    def compute(self, scope: Construct, env: Environment, network: Refs,
                identity: Refs) -> Refs:
        size = machines.CPU_SIZES[env.compute.size]
        pool = az.cluster(scope, "cpu", env, identity["workspace"], network, size, env.compute.spot,
                          max(env.compute.max_vcpus // 4, 1))
        return Refs(outputs={"batch_queue": pool.name}, handles={"pool": pool})

    @builds("training")
    def training(self, scope: Construct, env: Environment, key: Refs, network: Refs,
                 data: Refs, identity: Refs) -> Refs:
        spec = env.training
        machine = self.training_machine(spec.accelerator, spec.count, spec.instance_type)
        gpu = az.cluster(scope, "gpu", env, identity["workspace"], network, machine.instance_type,
                         spec.spot, spec.max_parallel_jobs)
        return Refs(outputs={
            "training_compute": gpu.name,
            "training_role": "workspace-system-assigned-identity",
            "training_output_uri": "azureml://datastores/workspaceblobstore/paths/training-output/",
            "training_instance_type": machine.instance_type,
            "training_spot": spec.spot,
            "training_max_runtime_seconds": int(spec.max_runtime_hours * 3600),
            "training_max_parallel_jobs": spec.max_parallel_jobs,
        }, handles={"cluster": gpu})

    @builds("serving")
    def serving(self, scope: Construct, env: Environment, key: Refs, network: Refs,
                data: Refs, registry: Refs, identity: Refs) -> Refs:
        machine = self.endpoint_machine(env)
        return az.online_endpoint(scope, env, identity["workspace"], machine)

    @builds("monitoring")
    def monitoring(self, scope: Construct, env: Environment, key: Refs,
                   serving: Refs | None) -> Refs:
        return az.monitoring(scope, env, key, serving)

    @builds("budget")
    def budget(self, scope: Construct, env: Environment, monitoring: Refs) -> Refs:
        return az.budget(scope, env, self._key, monitoring)
