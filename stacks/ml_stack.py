"""`MlPlatformStack`: the whole ML platform for one environment, on the cloud it names."""

from __future__ import annotations

from cdktn import TerraformOutput, TerraformStack
from constructs import Construct

from adapters import get_adapter
from adapters.base import LocalEmulator
from core.spec import Environment
from modules.base import PlatformModule
from modules.layers import ordered, registered
from stacks.backend import configure_backend
from stacks.workloads import (
    monitoring_job_workloads,
    notebook_workloads,
    pipeline_step_workloads,
    serving_workload,
    training_workload,
)


def _usage(env: Environment) -> dict:
    """The environment's storage assumptions and tier, whether tracking is on (what it bills
    differs by cloud), and the feature store's expected data and online traffic, recorded for
    the cost engine."""
    usage = {
        "storage_gb_per_bucket": round(env.data.stored_gb / len(env.data.buckets), 3),
        "environment": env.name, "tier": env.tier.value,
    }
    if env.tracking.enabled:
        usage["tracking"] = {"enabled": True, "cloud": env.cloud, "size": env.tracking.size}
    if env.features is not None:
        store = env.features.online_store
        usage["features"] = {
            "offline_stored_gb": env.features.offline_stored_gb,
            "online_groups": env.features.online_groups(),
            "online_store": {"nodes": store.nodes, "reads_per_month": store.reads_per_month,
                             "writes_per_month": store.writes_per_month,
                             "stored_gb": store.stored_gb}}
    return usage


class MlPlatformStack(TerraformStack):
    """Stack `ml-<env>`. Outputs carry the same neutral names on every cloud."""

    def __init__(self, scope: Construct, env: Environment,
                 local: LocalEmulator | None = None) -> None:
        super().__init__(scope, env.stack_name)
        adapter = get_adapter(env.cloud, source=f"{env.source}")
        adapter.configure(self, env, local)
        configure_backend(self, env, local_state=(local.state_path or "terraform.tfstate")
                          if local else None)
        built: dict[str, PlatformModule] = {}
        for item in ordered(env, registered()):
            refs = {name: built[name].refs for name in item.needs}
            refs.update({name: built[name].refs if name in built else None
                         for name in item.uses})
            built[item.name] = item.construct(self, item.name, adapter=adapter,
                                              props=item.props.of(env), **refs)
        workloads = [training_workload(env, adapter, built["training"].refs)]
        if "serving" in built:
            workloads.insert(0, serving_workload(self, env, adapter, built["serving"].refs))
        if "pipeline" in built:
            workloads += pipeline_step_workloads(env, adapter)
        if "drift" in built:
            workloads += monitoring_job_workloads(env, adapter)
        if "notebooks" in built:
            workloads += notebook_workloads(env, adapter)
        self.add_override("//.terraml", {"usage": _usage(env), "workloads": workloads,
                                         "guardrails": env.guardrail_record()})
        self.outputs: dict[str, object] = {}
        for module in built.values():
            self.outputs.update(module.outputs)
        self.outputs.update(environment=env.name, cloud=env.cloud, region=env.region)
        for name, value in sorted(self.outputs.items()):
            # an output named like a layer (`notebooks`) needs another construct id
            output = TerraformOutput(self, f"output-{name}" if name in built else name,
                                     value=value)
            if name in built:
                output.override_logical_id(name)
