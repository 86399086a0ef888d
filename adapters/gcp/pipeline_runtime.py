"""GCP runtime for continuous training: the compiled template in the KFP repository, the Vertex
AI schedule, pipeline runs, and approval of Model Registry versions (low-level v1 clients
over REST, plus Artifact Registry's KFP endpoints through the same credentials).

Terraform made the template repository, the runner service account and the failed-run
alert (adapters/gcp/pipeline.py); `deploy_pipeline` puts in place what it cannot. Registry
versions are the versions of the environment's model (`pipeline_model`, `<prefix>-model`);
a version is Vertex's version id ("1", "2", ...). Approval lives in the version's label
`APPROVAL_KEY` (pending | approved | rejected), mirrored by the aliases `pending` (the newest
version waiting) and `approved` (the newest approved one); the version description holds
`{"metrics": ..., "run": ..., "reason": ...}` as JSON.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import yaml
from google.api_core import exceptions as gexc
from google.cloud import aiplatform_v1 as v1
from google.protobuf import field_mask_pb2, json_format, struct_pb2

from adapters.runtime import (
    APPROVAL_KEY,
    APPROVED,
    FAILED,
    PENDING,
    PENDING_APPROVAL,
    REJECTED,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    ModelVersion,
    PipelineRun,
    Progress,
    StepRun,
    as_utc,
)
from core.errors import UserError

if TYPE_CHECKING:
    from adapters.gcp.pipeline_template import Target

ARTIFACT_REGISTRY = "https://artifactregistry.googleapis.com/v1"
TAG = "latest"  # the tag the newest uploaded template carries
RUN_STATES = {"PIPELINE_STATE_QUEUED": PENDING, "PIPELINE_STATE_PENDING": PENDING,
              "PIPELINE_STATE_RUNNING": RUNNING, "PIPELINE_STATE_SUCCEEDED": SUCCEEDED,
              "PIPELINE_STATE_FAILED": FAILED, "PIPELINE_STATE_CANCELLING": STOPPED,
              "PIPELINE_STATE_CANCELLED": STOPPED, "PIPELINE_STATE_PAUSED": PENDING}
TASK_STATES = {"PENDING": PENDING, "RUNNING": RUNNING, "SUCCEEDED": SUCCEEDED,
               "SKIPPED": SUCCEEDED, "CANCEL_PENDING": RUNNING, "CANCELLING": RUNNING,
               "CANCELLED": STOPPED, "FAILED": FAILED, "NOT_TRIGGERED": STOPPED}
TASK_NOTES = {"SKIPPED": "cached", "NOT_TRIGGERED": "not run: the metric gate was not met"}
STEPS = ("prepare", "train", "evaluate", "gate", "register")  # the template's tasks, in order


class GcpPipelineCalls:
    """Mixed into `GcpRuntime`: the continuous-training half of `CloudRuntime`."""

    # -- deploy ----------------------------------------------------------------------

    def deploy_pipeline(self, progress: Progress) -> str:
        """Compile the template (no network), upload it to the KFP repository (one multipart
        POST, tag `latest`), then create the Vertex AI schedule when `pipeline.schedule` is
        set (CreateSchedule) and delete the schedules an earlier deploy made
        (ListSchedules by display name, DeleteSchedule)."""
        try:
            from adapters.gcp.pipeline_template import compile_template
        except ModuleNotFoundError as exc:
            raise UserError(f"compiling the gcp pipeline needs kfp: pip install 'terraml[gcp]' "
                            f"(missing module {exc.name})") from None
        target = self._pipeline_target()
        progress(f"compiling {target.name}")
        text, spec = compile_template(self.env, target)
        progress(f"uploading the template to {self.outputs['pipeline_template_repo']}")
        template_uri = self._upload_template(target.name, text)
        old = self.call("ListSchedules", lambda: list(self.client(v1.ScheduleServiceClient)
                        .list_schedules(request=v1.ListSchedulesRequest(
                            parent=self.parent, filter=f'display_name="{target.name}"'))))
        cron = self.env.pipeline.cron()
        schedule = "no schedule (start runs with terraml pipeline run)"
        if cron:
            progress(f"scheduling {cron.unix()} UTC")
            created = self.call("CreateSchedule", lambda: self.client(v1.ScheduleServiceClient)
                                .create_schedule(parent=self.parent, schedule=v1.Schedule(
                                    display_name=target.name, cron=f"TZ=UTC {cron.unix()}",
                                    max_concurrent_run_count=self.env.pipeline.max_parallel_runs,
                                    create_pipeline_job_request=v1.CreatePipelineJobRequest(
                                        parent=self.parent,
                                        pipeline_job=self._pipeline_job(spec, template_uri)))))
            schedule = f"schedule {created.name.rsplit('/', 1)[-1]} ({cron.unix()} UTC)"
        for item in old:
            progress(f"removing the previous schedule {item.name.rsplit('/', 1)[-1]}")
            self.call("DeleteSchedule", lambda i=item: self.client(v1.ScheduleServiceClient)
                      .delete_schedule(name=i.name).result(timeout=self.timeout_seconds))
        return f"pipeline {target.name}: template {template_uri}; {schedule}"

    def _upload_template(self, name: str, text: str) -> str:
        """The KFP repository's upload: `{package}/{version}` back; the pinned template URI."""
        repo = self.outputs["pipeline_template_repo"]
        found = self.rest("UploadPipelineTemplate", "POST", repo, raw=True,
                          files={"content": (f"{name}.yaml", text.encode(), "application/x-yaml")},
                          data={"tags": TAG})
        package, _, version = found.strip().partition("/")
        return f"{repo}/{package or name}/{version}"

    # -- runs ------------------------------------------------------------------------

    def start_pipeline(self) -> PipelineRun:
        """The `latest` template from the KFP repository (Artifact Registry GetTag, then its
        pinned version's download), then CreatePipelineJob with the runner service account,
        the VPC, the CMEK key, the pipeline root and the environment's labels."""
        name = self.outputs["pipeline_name"]
        repo = self.outputs["pipeline_template_repo"]
        project, repository = repo.rstrip("/").split("/")[-2:]
        tag_url = (f"{ARTIFACT_REGISTRY}/projects/{project}/locations/{self.env.region}/"
                   f"repositories/{repository}/packages/{name}/tags/{TAG}")
        tag = self.rest("GetTemplateTag", "GET", tag_url, missing_ok=True)
        if tag is None:
            raise UserError(f"{name}: no template in {repo} yet: run terraml pipeline deploy "
                            f"--env {self.env.name} first")
        version = tag["version"].rsplit("/", 1)[-1]
        template_uri = f"{repo}/{name}/{version}"
        spec = yaml.safe_load(self.rest("DownloadPipelineTemplate", "GET", template_uri,
                                        raw=True))
        job_id = f"{name}-{datetime.now(timezone.utc).strftime('%Y%m%d%H%M%S')}"
        created = self.call("CreatePipelineJob", lambda: self.client(v1.PipelineServiceClient)
                            .create_pipeline_job(parent=self.parent, pipeline_job_id=job_id,
                                                 pipeline_job=self._pipeline_job(
                                                     spec, template_uri, display=True)))
        return self._pipeline_run(created)

    def pipeline_run(self, run_id: str) -> PipelineRun:
        name = run_id if "/" in run_id else f"{self.parent}/pipelineJobs/{run_id}"
        return self._pipeline_run(self.call("GetPipelineJob", lambda: self.client(
            v1.PipelineServiceClient).get_pipeline_job(name=name)))

    def pipeline_runs(self, limit: int = 10) -> list[PipelineRun]:
        """ListPipelineJobs of this pipeline (by its compiled name), newest first."""
        name = self.outputs["pipeline_name"]
        found = self.call("ListPipelineJobs", lambda: list(itertools.islice(
            self.client(v1.PipelineServiceClient).list_pipeline_jobs(
                request=v1.ListPipelineJobsRequest(parent=self.parent,
                                                   filter=f'pipeline_name="{name}"',
                                                   order_by="create_time desc",
                                                   page_size=limit)), limit)))
        return [self._pipeline_run(job) for job in found]

    # -- registry --------------------------------------------------------------------

    def model_versions(self) -> list[ModelVersion]:
        """ListModelVersions of the environment's model, newest first (none before its first
        upload)."""
        model = self.registry_model()

        def listed() -> list[v1.Model]:
            try:
                return list(self.models.list_model_versions(
                    request=v1.ListModelVersionsRequest(name=model)))
            except gexc.NotFound:
                return []
        found = self.call("ListModelVersions", listed)
        return sorted((self._version(m, model) for m in found),
                      key=lambda v: int(v.version) if v.version.isdigit() else 0, reverse=True)

    def set_approval(self, version: str, approved: bool, reason: str) -> ModelVersion:
        """GetModel of `<model>@<version>`, UpdateModel of that version's labels
        (`APPROVAL_KEY`) and description (the reason), then MergeVersionAliases: `approved`
        moves to it (and `pending` leaves it) on approval; a rejection removes both."""
        model = self.registry_model()
        return self._version(self.decide(f"{model}@{version}", approved, reason), model, version)

    def decide(self, name: str, approved: bool, reason: str) -> Any:
        """`set_approval` on the version `name` (`<model resource>@<version id>`); returns the
        model version as Vertex has it now."""
        current = self.call("GetModel", lambda: self.models.get_model(name=name))
        described = _description(current.version_description)
        described.pop("reason", None)  # the reason of an earlier decision goes
        if reason:
            described["reason"] = reason
        state = APPROVED if approved else REJECTED
        change = v1.Model(name=name, labels={**current.labels, APPROVAL_KEY: state},
                          version_description=json.dumps(described))
        updated = self.call("UpdateModel", lambda: self.models.update_model(
            model=change, update_mask=field_mask_pb2.FieldMask(
                paths=["labels", "version_description"])))
        held = set(current.version_aliases)
        aliases = (["approved"] if approved else ["-approved"] * ("approved" in held)) + \
            ["-pending"] * ("pending" in held)
        if aliases:
            updated = self.call("MergeVersionAliases", lambda: self.models.merge_version_aliases(
                name=name, version_aliases=aliases))
        return updated

    def registry_model(self) -> str:
        """The environment's Model Registry model (pipeline versions and deploy-model's)."""
        return self.outputs.get("pipeline_model") or \
            f"{self.parent}/models/{self.env.prefix}-model"

    # -- mapping ---------------------------------------------------------------------

    def _pipeline_target(self) -> Target:
        from adapters.gcp.pipeline_template import Target

        if self.env.pipeline is None:
            raise UserError(self.env.where("pipeline", "no pipeline: section to deploy"))
        # the runner (pipeline_role) is the PipelineJob's identity, not part of the template
        name, network, key, model, raw, training_role, output = self.outputs.require(
            "pipeline_name", "pipeline_network", "pipeline_kms_key", "pipeline_model",
            "bucket_raw", "training_role", "training_output_uri")
        return Target(name=name, parent=self.parent, raw_uri=f"gs://{raw}/",
                      training_role=training_role, network=network, kms_key=key, model=model,
                      output_uri=output, labels=self._labels(),
                      tracking=self.tracking_variables(),
                      tensorboard=str(self.outputs.get("tracking_uri") or ""))

    def _pipeline_job(self, spec: dict[str, Any], template_uri: str,
                      display: bool = False) -> v1.PipelineJob:
        role, root, network, key = self.outputs.require(
            "pipeline_role", "pipeline_root", "pipeline_network", "pipeline_kms_key")
        struct = struct_pb2.Struct()
        json_format.ParseDict(spec, struct)
        return v1.PipelineJob(
            display_name=self.outputs["pipeline_name"] if display else "",
            pipeline_spec=struct, template_uri=template_uri, labels=self._labels(),
            runtime_config=v1.PipelineJob.RuntimeConfig(gcs_output_directory=root),
            encryption_spec=v1.EncryptionSpec(kms_key_name=key), service_account=role,
            network=network)

    def _pipeline_run(self, job: v1.PipelineJob) -> PipelineRun:
        tasks = {t.task_name: t for t in job.job_detail.task_details if t.task_name in STEPS}
        steps = []
        for step in STEPS:
            task = tasks.get(step)
            if task is None:
                continue
            state = v1.PipelineTaskDetail.State(task.state).name
            steps.append(StepRun(step, TASK_STATES.get(state, PENDING),
                                 task.error.message or TASK_NOTES.get(state, ""),
                                 as_utc(task.start_time) if task.start_time else None,
                                 as_utc(task.end_time) if task.end_time else None))
        state = RUN_STATES.get(v1.PipelineState(job.state).name, PENDING)
        detail = job.error.message
        register = tasks.get("register")
        if not detail and register is not None and register.state == \
                v1.PipelineTaskDetail.State.NOT_TRIGGERED:
            detail = "the metric gate was not met: no model version registered"
        return PipelineRun(run_id=job.name, state=state, steps=steps,
                           started=as_utc(job.start_time) if job.start_time else
                           as_utc(job.create_time) if job.create_time else None,
                           detail=detail)

    def _version(self, found: v1.Model, model: str, version: str = "") -> ModelVersion:
        version = found.version_id or version
        label = found.labels.get(APPROVAL_KEY, "")
        aliases = set(found.version_aliases)
        approval = label if label in (PENDING_APPROVAL, APPROVED, REJECTED) else \
            APPROVED if "approved" in aliases else PENDING_APPROVAL
        described = _description(found.version_description)
        metrics = {k: float(v) for k, v in (described.get("metrics") or {}).items()
                   if isinstance(v, (int, float))}
        created = found.version_create_time or found.create_time
        return ModelVersion(version=version, approval=approval, model_uri=found.artifact_uri,
                            model_id=f"{model}@{version}", created=as_utc(created) if created
                            else None, metrics=metrics, detail=str(described.get("reason", "")))


def _description(text: str) -> dict[str, Any]:
    """A version description terraml wrote (JSON), or {} for anything else."""
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
