"""The neutral workload records the cost engine prices and guards (it reads JSON only).

Terraform has no resource for what runs on a Vertex AI endpoint or an Azure ML online
endpoint, nor for training jobs or a pipeline's steps (on GCP and Azure the pipeline runs
outside Terraform altogether); the stack records what it decided, in one shape for every
cloud, under `//.terraml.workloads` of the synthesized JSON:

    kind            "serving" | "training" | "pipeline_step" | "monitoring_job" | "notebook"
    resource        Terraform address the workload runs in (the endpoint), or null
    cloud, region
    instance_type   the cloud's machine (null for a pay-per-request serverless endpoint)
    accelerator     neutral GPU name (T4, A100, ...) or null; accelerator_type the cloud's
    gpus            GPUs per machine
    min_instances   machines that run all month (0: nothing runs while idle)
    max_instances
    serverless      pay-per-request endpoint with no machine to size
    spot            spot / low-priority capacity
    hours_per_month machine-hours per instance per month (serving)
    gpu_hours_per_month  training: GPU-hours a month (machine-hours = GPU-hours / gpus; a
                    CPU machine counts as one)
    requests_per_month, avg_duration_ms, memory_mb   request-based usage (serving)
    step            pipeline_step: prepare | train | evaluate (one record per step, run order)
    hours_per_run   pipeline_step: expected hours per run (pipeline.steps.<step>.hours)
    runs_per_month, runs_source   pipeline_step: expected runs a month and where the figure
                    comes from (`Pipeline.expected_runs()`: runs_per_month, the schedule, the
                    on_new_data default, or 0 for a pipeline started by hand)

    monitoring_job  one record for `monitoring.drift`: each scheduled drift run is a job on
                    instance_type (`drift_machine(drift.size)`, on-demand); hours_per_run from
                    drift.hours_per_run; runs_per_month from `Drift.runs_per_month()` (the
                    schedule, in a 30-day month) and runs_source the schedule. On GCP and Azure
                    the monitor is created at run time, so this record is all the cost engine
                    sees of it; on AWS the schedule resource bills nothing itself either.
    notebook        one record for `notebooks:`: users (one notebook machine each), instance_type
                    (`notebook_machine(notebooks.size)`), hours_per_month (notebooks.hours_per_month:
                    running hours per notebook, the one figure every cloud's notebook pricer
                    uses) and disk_gb (each notebook's disk, billed all month, also while the
                    notebook is stopped)

A pipeline's train step runs on the training settings (`train_step_machine`) with
`training.spot`; its CPU steps run on `cpu_machine(size)`, on-demand on every cloud (SageMaker
Processing has no managed spot; the Vertex AI and Azure ML pipelines request none).
"""

from __future__ import annotations

from typing import Any

from cdktn import TerraformResource, TerraformStack

from adapters.base import Capability, CloudAdapter, Refs, ServingRefs
from core.spec import Environment

AVG_DURATION_MS = 100  # assumed model latency for request-based serving estimates


def address(stack: TerraformStack, resource: TerraformResource) -> str:
    return f"{resource.terraform_resource_type}.{stack.get_logical_id(resource)}"


def serving_workload(stack: TerraformStack, env: Environment, adapter: CloudAdapter,
                     refs: ServingRefs) -> dict[str, Any]:
    spec = env.serving
    idle_free = spec.mode == "serverless"
    serverless = idle_free and adapter.supports(Capability.SERVERLESS_SERVING)
    machine = adapter.endpoint_machine(env.serving)
    instance_type = None if serverless else refs.outputs.get("serving_instance_type")
    return {
        "kind": "serving", "resource": address(stack, refs.endpoint),
        "cloud": env.cloud, "region": env.region, "instance_type": instance_type,
        "accelerator": machine.accelerator if machine else None,
        "accelerator_type": (machine.accelerator_type if machine else None) or None,
        "gpus": machine.count if machine and machine.accelerator else 0,
        "min_instances": 0 if idle_free else spec.min_instances,
        "max_instances": spec.max_instances, "serverless": serverless, "spot": False,
        "hours_per_month": spec.hours_per_month, "requests_per_month": spec.requests_per_month,
        "avg_duration_ms": AVG_DURATION_MS, "memory_mb": spec.memory_mb if serverless else None,
    }


def training_workload(env: Environment, adapter: CloudAdapter, refs: Refs) -> dict[str, Any]:
    spec = env.training
    machine = adapter.training_machine(spec.accelerator, spec.count, spec.instance_type)
    gpus = machine.count if machine.accelerator else 0
    return {
        "kind": "training", "resource": None, "cloud": env.cloud, "region": env.region,
        "instance_type": refs.outputs.get("training_instance_type", machine.instance_type),
        "accelerator": machine.accelerator, "accelerator_type": machine.accelerator_type,
        "gpus": gpus, "min_instances": 0, "max_instances": spec.max_parallel_jobs,
        "serverless": False, "spot": spec.spot,
        "gpu_hours_per_month": spec.gpu_hours_per_month,
    }


def pipeline_step_workloads(env: Environment, adapter: CloudAdapter) -> list[dict[str, Any]]:
    """One record per pipeline step, in run order (empty without a `pipeline:` section)."""
    spec = env.pipeline
    if spec is None:
        return []
    runs, source = spec.expected_runs()
    records = []
    machines = adapter.pipeline_machines(spec, env.training)
    for name, step in spec.steps.named().items():
        machine = machines[name]
        spot = env.training.spot if name == "train" else False
        records.append({
            "kind": "pipeline_step", "step": name, "resource": None, "cloud": env.cloud,
            "region": env.region, "instance_type": machine.instance_type,
            "accelerator": machine.accelerator, "accelerator_type": machine.accelerator_type,
            "gpus": machine.count if machine.accelerator else 0, "min_instances": 0,
            "max_instances": spec.max_parallel_runs, "serverless": False, "spot": spot,
            "hours_per_run": step.hours, "runs_per_month": runs, "runs_source": source,
        })
    return records


def monitoring_job_workloads(env: Environment, adapter: CloudAdapter) -> list[dict[str, Any]]:
    """The drift monitor's scheduled runs (empty without `monitoring.drift`)."""
    drift = env.monitoring.drift
    if drift is None:
        return []
    return [{
        "kind": "monitoring_job", "resource": None, "cloud": env.cloud, "region": env.region,
        "instance_type": adapter.drift_machine(drift.size), "accelerator": None,
        "accelerator_type": None, "gpus": 0, "min_instances": 0, "max_instances": 1,
        "serverless": False, "spot": False, "hours_per_run": drift.hours_per_run,
        "runs_per_month": round(drift.runs_per_month(), 3),
        "runs_source": f"monitoring.drift.schedule '{drift.schedule}'",
    }]


def notebook_workloads(env: Environment, adapter: CloudAdapter) -> list[dict[str, Any]]:
    """The notebooks' machine, running hours and disk (empty without `notebooks:`)."""
    spec = env.notebooks
    if spec is None:
        return []
    return [{
        "kind": "notebook", "resource": None, "cloud": env.cloud, "region": env.region,
        "instance_type": adapter.notebook_machine(spec.size), "accelerator": None,
        "accelerator_type": None, "gpus": 0, "min_instances": 0,
        "max_instances": len(spec.users), "serverless": False, "spot": False,
        "users": list(spec.users), "hours_per_month": spec.hours_per_month,
        "disk_gb": spec.disk_gb,
    }]
