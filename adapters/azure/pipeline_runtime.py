"""The pipeline half of the Azure runtime (mixed into `AzureRuntime`): the training
pipeline's schedule and runs through azure-ai-ml.

Azure ML keeps no pipeline definition apart from its jobs and schedules, so the pipeline is
built from the environment file each time (adapters/azure/pipeline_job.py) on the stack's
`pipeline_*` outputs: `deploy_pipeline` creates or updates its `JobSchedule` (or removes the
old one when the file has no schedule), `start_pipeline` submits one run. Runs are pipeline
jobs in the experiment `tracking.experiment` (default: the environment name) tagged
`terraml-pipeline: <pipeline_name>`; their steps are the child jobs, read from Azure ML's
run history. Each step runs on the cluster the stack made for it: `pipeline_train_compute`
for train, `pipeline_step_computes` (step -> cluster) for the others (prepare and evaluate on
dedicated clusters of their `size`, as the cost estimate prices them).

Uses from `AzureRuntime`: `env`, `outputs`, `ml`, `call`, `workspace_id`, `timeout_seconds`,
`tracking_variables()`.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from azure.ai.ml.entities import CronTrigger, JobSchedule
from azure.core.exceptions import ResourceNotFoundError

from adapters.azure import pipeline_steps as names
from adapters.azure.pipeline_job import Target, pipeline_job
from adapters.azure.states import state, word
from adapters.runtime import TERMINAL, PipelineRun, Progress, StepRun, as_utc
from core.errors import UserError
from core.pipeline import Pipeline


class PipelineRuntime:
    """`deploy_pipeline`, `start_pipeline`, `pipeline_run`, `pipeline_runs` on Azure ML."""

    env: Any
    outputs: Any
    ml: Any
    workspace_id: str
    timeout_seconds: float
    call: Any
    tracking_variables: Any

    def deploy_pipeline(self, progress: Progress) -> str:
        """CreateSchedule (a cron `JobSchedule` in UTC creating the pipeline job) when the
        file has a schedule; otherwise GetSchedule and, for a schedule left from before,
        DisableSchedule + DeleteSchedule. Returns one line."""
        spec, target = self._pipeline(), self._target()
        cron = spec.cron()
        gate = spec.steps.evaluate
        steps = " -> ".join([*spec.steps.named(), "register"])
        if gate and gate.metric:
            steps = steps.replace("evaluate", f"evaluate (gate {_bounds(gate)})")
        if cron is None:
            removed = self._remove_schedule(target.name)
            return (f"pipeline {target.name}: {steps}; no schedule"
                    f"{' (the old one was removed)' if removed else ''}: "
                    "start runs with `terraml pipeline run`")
        progress(f"scheduling {target.name}: '{cron.unix()}' UTC")
        schedule = JobSchedule(
            name=target.name, display_name=target.name, create_job=pipeline_job(spec, target),
            trigger=CronTrigger(expression=cron.unix(), time_zone="UTC"), tags=target.tags,
            description=f"terraml {self.env.name}: retrain on '{cron.unix()}' UTC")
        self.call("CreateSchedule", lambda: self.ml.schedules.begin_create_or_update(schedule)
                  .result(timeout=self.timeout_seconds))
        return (f"pipeline {target.name}: {steps}; schedule '{cron.unix()}' UTC in experiment "
                f"{target.experiment}; new versions of {target.model}: "
                f"{'approved' if target.approval == 'auto' else 'pending approval'}")

    def start_pipeline(self) -> PipelineRun:
        """CreateJob: one run of the pipeline now, named `<pipeline_name>-<UTC time>-<hex>`."""
        spec, target = self._pipeline(), self._target()
        job = pipeline_job(spec, target)
        job.name = (f"{target.name}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-"
                    f"{uuid.uuid4().hex[:6]}")
        created = self.call("CreateJob", lambda: self.ml.jobs.create_or_update(
            job, experiment_name=target.experiment, skip_validation=True))
        return self._run(created, [])

    def pipeline_run(self, run_id: str) -> PipelineRun:
        """GetJob, then its child jobs (the steps) from the run history."""
        name = self._target_name()
        job = self.call("GetJob", lambda: self.ml.jobs.get(run_id))
        if (getattr(job, "tags", None) or {}).get(names.PIPELINE_TAG) != name:
            raise UserError(f"{run_id} is not a run of the pipeline {name}")
        children = self.call("ListChildJobs", lambda: list(
            self.ml.jobs.list(parent_job_name=run_id)))
        return self._run(job, [_step(child) for child in children if child is not None])

    def pipeline_runs(self, limit: int = 10) -> list[PipelineRun]:
        """ListJobs (pipeline jobs carrying the pipeline's tag), newest first; steps are left
        out (`pipeline_run` reads them for one run)."""
        name = self._target_name()
        found = self.call("ListJobs", lambda: list(self.ml.jobs.list(
            job_type="Pipeline", tag=names.PIPELINE_TAG)))
        ours = [job for job in found if job is not None
                and (getattr(job, "tags", None) or {}).get(names.PIPELINE_TAG) == name]
        ours.sort(key=_created, reverse=True)
        return [self._run(job, []) for job in ours[:limit]]

    # -- plumbing ----------------------------------------------------------------------

    def _pipeline(self) -> Pipeline:
        spec = self.env.pipeline
        if spec is None:
            raise UserError(self.env.where("pipeline", "this environment has no pipeline: "
                                           "expected a pipeline section with its steps"))
        if spec.on_new_data:
            raise UserError(self.env.where("pipeline.on_new_data", names.NO_NEW_DATA))
        return spec

    def _target_name(self) -> str:
        return self.outputs.require("pipeline_name")[0]

    def _target(self) -> Target:
        """Where the pipeline runs, from the stack's outputs (one line naming a missing one)."""
        out, env = self.outputs, self.env
        name, client_id, raw = out.require("pipeline_name", "pipeline_identity_client_id",
                                           "bucket_raw")
        train = out.get("pipeline_train_compute") or out.require("training_compute")[0]
        computes = self._step_computes()
        account, container = str(raw).split("/", 1)
        experiment = names.experiment_name(env.name, env.tracking)
        tracking = self.tracking_variables()
        return Target(
            name=name, experiment=experiment, workspace_id=self.workspace_id, identity=client_id,
            computes=computes, train_compute=train,
            data_uri=f"abfss://{container}@{account}.dfs.core.windows.net/",
            model=out.get("pipeline_model") or names.model_name(env.prefix),
            approval=out.get("pipeline_approval") or env.pipeline.registration.approval,
            max_seconds=int(out.get("training_max_runtime_seconds")
                            or env.training.max_runtime_hours * 3600),
            tags=dict(env.all_tags()),
            # Azure ML points MLflow at the workspace in every job; the experiment is named.
            variables={"MLFLOW_EXPERIMENT_NAME": experiment} if tracking else {})

    def _step_computes(self) -> dict[str, str]:
        """`pipeline_step_computes` for the file's steps: one line naming the output when the
        stack has no cluster for one of them (a step added since the stack was deployed)."""
        source = self.outputs.source
        found = self.outputs.require("pipeline_step_computes")[0]
        if isinstance(found, str):
            try:
                found = json.loads(found)
            except ValueError:
                found = None
        if not isinstance(found, dict):
            raise UserError(f"{source}: stack output 'pipeline_step_computes' is not a map of "
                            "step -> compute cluster: redeploy the stack with this terraml "
                            "version")
        wanted = [name for name in self.env.pipeline.steps.named() if name != "train"]
        missing = [name for name in [*wanted, "register"] if not found.get(name)]
        if missing:
            raise UserError(f"{source}: stack output 'pipeline_step_computes' has no compute "
                            f"cluster for the {missing[0]} step: deploy the stack again after "
                            "changing the pipeline's steps")
        return {name: str(found[name]) for name in [*wanted, "register"]}

    def _remove_schedule(self, name: str) -> bool:
        def existing() -> Any:
            try:
                return self.ml.schedules.get(name)
            except ResourceNotFoundError:
                return None
        if self.call("GetSchedule", existing) is None:
            return False
        self.call("DisableSchedule", lambda: self.ml.schedules.begin_disable(name)
                  .result(timeout=self.timeout_seconds))
        self.call("DeleteSchedule", lambda: self.ml.schedules.begin_delete(name)
                  .result(timeout=self.timeout_seconds))
        return True

    def _run(self, job: Any, steps: list[StepRun]) -> PipelineRun:
        status = word(getattr(job, "status", ""))
        context = getattr(job, "creation_context", None)
        return PipelineRun(run_id=job.name, state=state(status), steps=steps,
                           started=as_utc(getattr(context, "created_at", None)), detail=status)


def _bounds(step: Any) -> str:
    parts = [f"{step.metric} >= {step.min:g}" if step.min is not None else "",
             f"{step.metric} <= {step.max:g}" if step.max is not None else ""]
    return " and ".join(p for p in parts if p)


def _created(job: Any) -> datetime:
    context = getattr(job, "creation_context", None)
    return as_utc(getattr(context, "created_at", None)) or datetime.min.replace(
        tzinfo=timezone.utc)


def _step(child: Any) -> StepRun:
    """A child job as a step; `ended` is its last update once it is finished."""
    status = word(getattr(child, "status", ""))
    context = getattr(child, "creation_context", None)
    neutral = state(status)
    return StepRun(name=child.display_name or child.name, state=neutral, detail=status,
                   started=as_utc(getattr(context, "created_at", None)),
                   ended=as_utc(getattr(context, "last_modified_at", None))
                   if neutral in TERMINAL else None)
