"""What `terraml train`, `deploy-model`, `status` and `stop-idle` do, cloud-neutrally.

Contract: every function validates its input and applies the runtime guardrails before
the first cloud call (`UserError` exit 2 for bad input, `Blocked` exit 1 for a rule);
cloud work goes through a `CloudRuntime`, so the same code serves all three clouds.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from adapters.machines import AcceleratorChoice
from adapters.runtime import (
    CloudRuntime,
    Endpoint,
    Job,
    ModelRequest,
    ModelVersion,
    Progress,
    TrainingRequest,
    machine_chooser,
    runtime_class,
)
from core.errors import UserError
from core.spec import ACCELERATORS, Environment
from cost.accelerators import accelerator_of
from cost.burn import instance_hourly, training_hourly
from cost.catalog import load_catalog
from terraml.runtime import guard
from terraml.runtime.outputs import load_outputs

IMAGE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+"
                   r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")
MODEL_SCHEMES = {"aws": ("s3://",), "gcp": ("gs://",),
                 "azure": ("azureml://", "https://")}
JOB_NAME = re.compile(r"^[a-z0-9](-*[a-z0-9]){0,62}$")


def open_runtime(env: Environment, outputs_file: Path | None = None,
                 outdir: str = "cdktf.out", **options) -> CloudRuntime:
    """The environment's cloud runtime over its deployed stack outputs."""
    runtime = runtime_class(env.cloud)
    return runtime(env, load_outputs(env, outputs_file, outdir), **options)


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def check_image(image: str) -> str:
    if not IMAGE.match(image):
        raise UserError(f"--image: expected a container image like "
                        f"123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.0, found {image!r}")
    return image


def plan_training(env: Environment, *, image: str, entry: str, accelerator: str | None = None,
                  count: int | None = None, instance_type: str | None = None,
                  instances: int = 1, spot: bool | None = None, max_hours: float | None = None,
                  name: str | None = None, environment: dict[str, str] | None = None,
                  warn: Callable[[str], None] = lambda m: None) -> TrainingRequest:
    """Resolve a `terraml train` request against the environment and its guardrails."""
    check_image(image)
    try:
        command = shlex.split(entry)
    except ValueError as exc:
        raise UserError(f"--entry: cannot split {entry!r} into a command: {exc}") from None
    if not command:
        raise UserError("--entry: expected a command such as 'python train.py', found nothing")
    if accelerator is not None and accelerator not in ACCELERATORS:
        raise UserError(f"--accelerator: expected one of {', '.join(ACCELERATORS)}, "
                        f"found {accelerator!r}")
    if count is not None and not 1 <= count <= 16:
        raise UserError(f"--count: expected 1 to 16 GPUs per instance, found {count}")
    if not 1 <= instances <= 64:
        raise UserError(f"--instances: expected 1 to 64, found {instances}")
    if max_hours is not None and max_hours <= 0:
        raise UserError(f"--max-hours: expected a positive number of hours, found {max_hours:g}")
    spec = env.training
    if accelerator is None and instance_type is None:
        accelerator, instance_type = spec.accelerator, spec.instance_type
    machine = machine_chooser(env.cloud).training_machine(
        accelerator, count or (spec.count if accelerator == spec.accelerator else 1),
        instance_type)
    job_name = name or f"{env.prefix}-{_stamp()}"
    if not JOB_NAME.match(job_name):
        raise UserError(f"--name: expected lowercase letters, digits and hyphens "
                        f"(at most 63), found {job_name!r}")
    spot = spec.spot if spot is None else spot
    hours = spec.max_runtime_hours if max_hours is None else max_hours
    guard.enforce(guard.check_training(env, job_name, machine, instances, spot, hours), warn)
    return TrainingRequest(job_name=job_name, image=image, command=command, machine=machine,
                           instance_count=instances, spot=spot, max_seconds=int(hours * 3600),
                           environment=dict(environment or {}))


def train(runtime: CloudRuntime, request: TrainingRequest, *, wait: bool, progress: Progress,
          poll_seconds: float = 15.0) -> Job:
    """Submit the job; with `wait`, follow it to a final state, reporting each change."""
    tracking = runtime.tracking_variables()
    if tracking:  # the job reports to the environment's experiment tracking
        request = replace(request, environment={**tracking, **request.environment})
    job = runtime.submit_training(request)
    progress(f"{job.job_id}: {job.state} {job.detail}".strip())
    last = (job.state, job.detail)
    while wait and not job.finished:
        time.sleep(poll_seconds)
        job = runtime.job(job.job_id)
        if (job.state, job.detail) != last:
            progress(f"{job.job_id}: {job.state} {job.detail}".strip())
            last = (job.state, job.detail)
    return job


def plan_deployment(env: Environment, runtime: CloudRuntime, *, model: str, image: str,
                    version: str | None = None, registered: ModelVersion | None = None,
                    warn: Callable[[str], None] = lambda m: None) -> ModelRequest:
    """Validate a `terraml deploy-model` request and its guardrails: the serving rules, and
    outside dev `model_approval` (only approved registry versions; `registered` is the one
    asked for, None when `model` is an artifact URI)."""
    check_image(image)
    schemes = MODEL_SCHEMES[env.cloud]
    if registered:
        model = registered.model_uri
    elif not model.startswith(schemes):
        raise UserError(f"--model: expected a model artifact URI starting with "
                        f"{' or '.join(schemes)} on {env.cloud}, found {model!r}")
    version = version or f"v{_stamp()}"
    if not JOB_NAME.match(version) or len(version) > 30:
        raise UserError(f"--version: expected lowercase letters, digits and hyphens (at most "
                        f"30), found {version!r}")
    outputs = runtime.outputs
    machine = None  # what the deployed stack serves on (its outputs), not what the file says now
    if outputs["serving_mode"] != "serverless":
        instance_type = outputs["serving_instance_type"]
        gpu = accelerator_of(instance_type)
        cloud_gpu = outputs.get("serving_accelerator_type")
        if gpu is None and cloud_gpu:  # e.g. GCP n1 machines with an attached NVIDIA_TESLA_T4
            gpu = (machine_chooser(env.cloud).neutral_accelerator(cloud_gpu) or cloud_gpu, 1)
        machine = AcceleratorChoice(instance_type, gpu[0] if gpu else None,
                                    gpu[1] if gpu else 0)
    what = f"model version {registered.version}" if registered else f"--model {model}"
    guard.enforce(guard.check_model_approval(env, what, registered.approval if registered
                                             else None), warn)
    guard.enforce(guard.check_serving(env, outputs["endpoint_name"], machine,
                                      max(env.serving.min_instances, 1) if machine else 0), warn)
    return ModelRequest(version=version, model_uri=model, image=image,
                        registered=(registered.model_id or registered.version)
                        if registered else None)


@dataclass(frozen=True)
class Burn:
    what: str  # "job" | "endpoint" | "notebook"
    name: str
    machines: str
    state: str
    usd_per_hour: float | None
    note: str


def status(runtime: CloudRuntime) -> list[Burn]:
    """Running jobs, endpoints and notebooks, each with its hourly rate from the catalog."""
    env, catalog = runtime.env, load_catalog()
    rows = []
    for job in runtime.running_jobs():
        usd, note = training_hourly(catalog, env.cloud, env.region, job.instance_type,
                                    job.instance_count, job.spot, job.accelerator_type,
                                    job.accelerator_count)
        rows.append(Burn("job", job.job_id, f"{job.instance_type} x{job.instance_count}"
                         f"{' spot' if job.spot else ''}", job.state, usd, note))
    for endpoint in runtime.endpoints():
        for item in endpoint.deployments:
            label = f"{endpoint.name}/{item.name}"
            if item.serverless:
                rows.append(Burn("endpoint", label, "serverless", endpoint.state, 0.0,
                                 "billed per request; nothing runs while idle"))
                continue
            usd, note = instance_hourly(catalog, env.cloud, env.region, item.instance_type,
                                        item.instance_count,
                                        accelerator_type=item.accelerator_type,
                                        accelerator_count=item.accelerator_count)
            rows.append(Burn("endpoint", label, f"{item.instance_type} x{item.instance_count}",
                             f"{endpoint.state}, {item.traffic_percent}% traffic", usd, note))
    for notebook in runtime.notebooks():
        running = notebook.state == "running"
        usd, note = instance_hourly(catalog, env.cloud, env.region, notebook.instance_type, 1,
                                    notebook=True) if running else (0.0, "not running")
        rows.append(Burn("notebook", notebook.name, notebook.instance_type, notebook.state,
                         usd, note))
    return rows


@dataclass(frozen=True)
class IdleAction:
    what: str  # "endpoint" | "notebook"
    name: str
    finding: str
    action: str  # delete | scale_down | stop | report | keep
    result: str


def stop_idle(runtime: CloudRuntime, *, hours: float | None = None, dry_run: bool = False,
              now: datetime | None = None) -> list[IdleAction]:
    """Endpoints with no invocations and notebooks unchanged for `hours` (default: the
    environment's `stop_idle.hours`), handled per `stop_idle.endpoints` / `.notebooks`."""
    policy = runtime.env.stop_idle
    hours = policy.hours if hours is None else hours
    if hours <= 0:
        raise UserError(f"--idle-hours: expected a positive number of hours, found {hours:g}")
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(hours=hours)
    actions = [_endpoint_action(runtime, e, hours, since, policy.endpoints, dry_run)
               for e in runtime.endpoints()]
    for notebook in runtime.notebooks():
        if notebook.state != "running":
            actions.append(IdleAction("notebook", notebook.name, notebook.state, "keep",
                                      "not running"))
        elif notebook.last_changed and notebook.last_changed > since:
            actions.append(IdleAction("notebook", notebook.name,
                                      f"changed within {hours:g} h", "keep", "in use"))
        else:
            finding = f"running, unchanged for over {hours:g} h"
            act = policy.notebooks
            result = "dry run: would stop" if dry_run and act == "stop" else \
                "reported (stop_idle.notebooks: report)" if act == "report" else \
                runtime.stop_notebook(notebook)
            actions.append(IdleAction("notebook", notebook.name, finding, act, result))
    return actions


def _endpoint_action(runtime: CloudRuntime, endpoint: Endpoint, hours: float, since: datetime,
                     act: str, dry_run: bool) -> IdleAction:
    if endpoint.instances == 0:
        return IdleAction("endpoint", endpoint.name, "serverless / no instances", "keep",
                          "nothing runs while idle")
    if endpoint.last_changed and endpoint.last_changed > since:
        return IdleAction("endpoint", endpoint.name, f"changed within {hours:g} h", "keep",
                          "too recent to call idle")
    served = runtime.invocations(endpoint, since)
    if served > 0:
        return IdleAction("endpoint", endpoint.name, f"{served:,.0f} invocations in {hours:g} h",
                          "keep", "in use")
    finding = f"0 invocations in {hours:g} h on {endpoint.instances} instance(s)"
    if act == "report":
        return IdleAction("endpoint", endpoint.name, finding, act,
                          "reported (stop_idle.endpoints: report)")
    if dry_run:
        return IdleAction("endpoint", endpoint.name, finding, act, f"dry run: would {act}")
    done = runtime.delete_deployments(endpoint) if act == "delete" else \
        runtime.scale_down(endpoint)
    return IdleAction("endpoint", endpoint.name, finding, act, done)
