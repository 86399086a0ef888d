"""The neutral list of workloads (serving, training and a pipeline's steps) of one project, for
pricers and guardrails alike, on every cloud.

Sources, in order: the workloads terraml records in the synthesized JSON
(`//.terraml.workloads`, see stacks/workloads.py for the shape); the older `usage.training`
record; in a `terraform show -json` plan of a terraml stack (which drops the record), the
neutral serving outputs (`serving_instance_type`, `serving_min_replicas`, ...) for its one
Vertex AI or Azure ML endpoint; SageMaker endpoints read from Terraform itself (any Terraform
project or plan), for endpoints no record covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cost.accelerators import accelerator_of, neutral_accelerator
from cost.inputs import Project
from cost.pricers import blocks, literal_int, literal_number
from cost.sagemaker import endpoint_config, scaling_bounds


@dataclass(frozen=True)
class Workload:
    """Something that runs on machines: an endpoint's replicas, the training jobs, one step of
    the training pipeline or the drift monitor's runs (run `runs_per_month` times for
    `hours_per_run` each), or the notebooks (one machine per user, `hours_per_month` running
    hours each, a `disk_gb` disk each all month)."""

    address: str  # the resource it runs in, terraml_training_jobs.<project> or
    # terraml_pipeline_steps.<project>.<step>, terraml_monitoring_jobs.<project>,
    # terraml_notebooks.<project>
    kind: str  # "serving" | "training" | "pipeline_step" | "monitoring_job" | "notebook"
    cloud: str
    region: str
    instance_type: str | None  # None: pay-per-request serverless
    accelerator: str | None  # neutral GPU name
    accelerator_type: str | None  # the cloud's GPU name (GCP)
    gpus: int  # per machine
    min_instances: int  # always on (serving); 0 for training
    max_instances: int
    serverless: bool = False
    spot: bool = False
    hours_per_month: float = 730.0
    requests_per_month: float | None = None
    avg_duration_ms: float = 100.0
    memory_mb: int | None = None
    step: str = ""  # pipeline_step: prepare | train | evaluate
    hours_per_run: float = 0.0  # pipeline_step: expected hours per run
    runs_per_month: float = 0.0  # pipeline_step: expected runs a month ...
    runs_source: str = ""  # ... and where that figure comes from (the schedule, the file)
    users: tuple[str, ...] = ()  # notebook: one machine per user
    disk_gb: float = 0.0  # notebook: each notebook's disk, billed all month

    @property
    def always_on(self) -> int:
        """Machines billed all month whatever the traffic (serving only: jobs end)."""
        return 0 if self.serverless or self.kind != "serving" else self.min_instances

    @property
    def gpus_in_use(self) -> int:
        """GPUs this workload holds at once: always-on serving, or one job (a training job or
        one run of a pipeline step)."""
        machines = 1 if self.kind != "serving" else self.always_on
        return self.gpus * machines

    @property
    def trains(self) -> bool:
        """A training job: the training workload or the pipeline's train step, which run under
        the same rules (spot_training, max_gpus as one training job)."""
        return self.kind == "training" or (self.kind == "pipeline_step" and self.step == "train")

    @property
    def label(self) -> str:
        """What it is, for guardrail messages: serving, training, pipeline step <name>."""
        if self.kind == "pipeline_step":
            return f"pipeline step {self.step}".strip()
        return LABELS.get(self.kind, self.kind)


def training_address(project: Project) -> str:
    return f"terraml_training_jobs.{project.name}"


def pipeline_step_address(project: Project, step: str) -> str:
    return f"terraml_pipeline_steps.{project.name}.{step}"


def monitoring_job_address(project: Project) -> str:
    return f"terraml_monitoring_jobs.{project.name}"


def notebooks_address(project: Project) -> str:
    return f"terraml_notebooks.{project.name}"


KINDS = ("serving", "training", "pipeline_step", "monitoring_job", "notebook")
LABELS = {"monitoring_job": "drift monitoring job", "notebook": "notebook"}


def _address(project: Project, kind: str, record: dict[str, Any]) -> str:
    if kind == "training":
        return training_address(project)
    if kind == "pipeline_step":
        return pipeline_step_address(project, str(record.get("step") or "step"))
    if kind == "monitoring_job":
        return monitoring_job_address(project)
    if kind == "notebook":
        return notebooks_address(project)
    return str(record.get("resource") or f"terraml_serving.{project.name}")


def _from_record(project: Project, record: dict[str, Any]) -> Workload:
    kind = record.get("kind") if record.get("kind") in KINDS else "serving"
    instance_type = record.get("instance_type") or None
    accelerator, gpus = record.get("accelerator"), literal_int(record.get("gpus"), 0)
    if not accelerator and record.get("accelerator_type"):
        accelerator = neutral_accelerator(str(record["accelerator_type"]))
        gpus = gpus or 1
    elif instance_type and not accelerator:
        found = accelerator_of(instance_type)
        accelerator, gpus = found if found else (None, 0)
    cloud = str(record.get("cloud") or "")
    hours = literal_number(record.get("hours_per_month"), 730.0)
    if kind == "training" and record.get("gpu_hours_per_month") is not None:
        hours = literal_number(record["gpu_hours_per_month"], 0.0) / max(gpus, 1)
    per_run = literal_number(record.get("hours_per_run"), 0.0)
    runs = literal_number(record.get("runs_per_month"), 0.0)
    if kind in ("pipeline_step", "monitoring_job"):
        hours = per_run * runs
    users = record.get("users")
    return Workload(
        address=_address(project, kind, record), kind=kind, cloud=cloud,
        region=str(record.get("region") or project.regions.get(cloud, "")),
        instance_type=instance_type, accelerator=accelerator,
        accelerator_type=record.get("accelerator_type") or None, gpus=gpus,
        min_instances=literal_int(record.get("min_instances"), 1 if kind == "serving" else 0),
        max_instances=literal_int(record.get("max_instances"), 1),
        serverless=bool(record.get("serverless")), spot=bool(record.get("spot")),
        hours_per_month=hours,
        requests_per_month=literal_number(record.get("requests_per_month")),
        avg_duration_ms=literal_number(record.get("avg_duration_ms"), 100.0),
        memory_mb=literal_int(record.get("memory_mb"), 0) or None,
        step=str(record.get("step") or "") if kind == "pipeline_step" else "",
        hours_per_run=per_run, runs_per_month=runs,
        runs_source=str(record.get("runs_source") or ""),
        users=tuple(str(u) for u in users) if isinstance(users, list) else (),
        disk_gb=literal_number(record.get("disk_gb"), 0.0))


def _legacy_training(project: Project) -> dict[str, Any] | None:
    spec = project.usage.get("training")
    if not spec:
        return None
    gpus = max(literal_int(spec.get("count"), 1), 1) if spec.get("accelerator") else 0
    return {"kind": "training", "cloud": spec.get("cloud", "aws"), "region": spec.get("region"),
            "instance_type": spec.get("instance_type"), "accelerator": spec.get("accelerator"),
            "accelerator_type": spec.get("accelerator_type"), "gpus": gpus,
            "spot": spec.get("spot"), "gpu_hours_per_month": spec.get("gpu_hours_per_month", 0)}


RUNTIME_ENDPOINTS = ("google_vertex_ai_endpoint", "azapi_resource")


def _serving_from_outputs(project: Project) -> dict[str, Any] | None:
    """The serving record a terraml stack's outputs describe, when the plan has exactly one
    endpoint that runs what is deployed at run time."""
    out = project.outputs
    machine = out.get("serving_instance_type")
    if not isinstance(machine, str) or machine == "serverless":
        return None
    endpoints = [r for r in project.resources if r.type in RUNTIME_ENDPOINTS and
                 (r.type != "azapi_resource" or "/onlineEndpoints@" in str(r.values.get("type")))]
    if len(endpoints) != 1:
        return None
    return {"kind": "serving", "resource": endpoints[0].address, "cloud": endpoints[0].cloud,
            "instance_type": machine, "accelerator_type": out.get("serving_accelerator_type"),
            "min_instances": out.get("serving_min_replicas", 1),
            "max_instances": out.get("serving_max_replicas", 1)}


def _sagemaker_endpoints(project: Project, covered: set[str]) -> list[Workload]:
    found = []
    for resource in project.resources:
        if resource.type != "aws_sagemaker_endpoint" or resource.address in covered:
            continue
        config = endpoint_config(project, resource)
        for variant in blocks(config.values, "production_variants") if config else []:
            serverless = bool(variant.get("serverless_config"))
            instance = None if serverless else str(variant.get("instance_type") or "")
            bounds = scaling_bounds(project, resource, variant.get("variant_name", ""))
            minimum = bounds[0] if bounds else literal_int(variant.get("initial_instance_count"), 1)
            accelerator = accelerator_of(instance or "")
            found.append(Workload(
                resource.address, "serving", "aws", project.regions.get("aws", ""), instance,
                accelerator[0] if accelerator else None, None,
                accelerator[1] if accelerator else 0, 0 if serverless else minimum,
                bounds[1] if bounds else minimum, serverless=serverless))
    return found


def workloads(project: Project) -> list[Workload]:
    """Every workload of the project (computed once per project)."""
    if "workloads" not in project.cache:
        project.cache["workloads"] = _collect(project)
    return project.cache["workloads"]


def _collect(project: Project) -> list[Workload]:
    records = list(project.workloads)
    if not records and project.outputs:
        from_outputs = _serving_from_outputs(project)
        records += [from_outputs] if from_outputs else []
    if not any(r.get("kind") == "training" for r in records):
        legacy = _legacy_training(project)
        if legacy:
            records.append(legacy)
    found = [_from_record(project, r) for r in records]
    covered = {w.address for w in found}
    return _sagemaker_endpoints(project, covered) + found


def serving_for(project: Project, address: str) -> Workload | None:
    """The recorded serving workload that runs in the resource at `address`."""
    if "serving_by_address" not in project.cache:
        project.cache["serving_by_address"] = {w.address: w for w in workloads(project)
                                               if w.kind == "serving"}
    return project.cache["serving_by_address"].get(address)


def pipeline_steps(project: Project) -> list[Workload]:
    """The recorded steps of the project's training pipeline, in run order."""
    return [w for w in workloads(project) if w.kind == "pipeline_step"]


def monitoring_jobs(project: Project) -> list[Workload]:
    """The recorded drift monitor runs (one record per monitored environment)."""
    return [w for w in workloads(project) if w.kind == "monitoring_job"]


def notebooks(project: Project) -> Workload | None:
    """The recorded notebooks (machine, running hours, disk), if the stack has any."""
    return next((w for w in workloads(project) if w.kind == "notebook"), None)
