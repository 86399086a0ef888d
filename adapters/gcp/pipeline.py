"""The training pipeline on GCP, as far as Terraform goes: the KFP template repository (CMEK),
the service account every run runs as, and an alert on failed runs.

What Terraform has no resource for — the compiled template and the Vertex AI schedule — is
put in place at run time by `terraml pipeline deploy` (adapters/gcp/pipeline_runtime.py).

Contract: `pipeline(...)` returns `GcpPipelineRefs` with the neutral outputs
`pipeline_name` (`<prefix>-training`, the compiled pipeline's name and the runs' display
name), `pipeline_role` (the runner's email), `pipeline_schedule` (neutral five-field cron,
UTC, or "none"), `pipeline_trigger` (always "none": see below), `pipeline_approval`
(manual | auto), `pipeline_metric` (the gate's metric or "none"), and the GCP extras the
runtime needs: `pipeline_template_repo` (https://<region>-kfp.pkg.dev/<project>/<repo>),
`pipeline_root` (gs://<artifacts bucket>/pipelines), `pipeline_network` (the VPC by project
number, for the Vertex peering), `pipeline_kms_key`, `pipeline_model` (the Model Registry
model new versions go to).

`pipeline.on_new_data` is refused: Vertex AI schedules are cron only, and watching a bucket
would need Eventarc plus a function or workflow to start runs — more moving parts than a
schedule buys.

Least privilege for the runner: Vertex AI User on the project (pipeline runs create custom
jobs, ML Metadata and model versions; Vertex AI has no resource-level IAM for those), object
read on the data buckets and object admin on the artifacts bucket (the pipeline root) by
bucket-level IAM, reader on the KFP repository and the image repository, and act-as on the
training service account only (the train step runs as a custom job under that identity).
"""

from __future__ import annotations

from cdktn_provider_google.artifact_registry_repository import ArtifactRegistryRepository
from cdktn_provider_google.artifact_registry_repository_iam_member import (
    ArtifactRegistryRepositoryIamMember,
)
from cdktn_provider_google.logging_metric import LoggingMetric, LoggingMetricMetricDescriptor
from cdktn_provider_google.monitoring_alert_policy import (
    MonitoringAlertPolicy,
    MonitoringAlertPolicyConditions,
    MonitoringAlertPolicyConditionsConditionThreshold,
    MonitoringAlertPolicyConditionsConditionThresholdAggregations,
    MonitoringAlertPolicyDocumentation,
)
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

from adapters.gcp.labels import labels
from adapters.gcp.platform import READ, WRITE
from adapters.gcp.refs import (
    GcpDataRefs,
    GcpIdentityRefs,
    GcpKeyRefs,
    GcpMonitoringRefs,
    GcpPipelineRefs,
    GcpRegistryRefs,
)
from adapters.gcp.settings import GcpIds
from adapters.lifecycle import protect
from core.errors import UserError
from core.pipeline import Pipeline
from core.props import Site

RUNNER_ROLE = "roles/aiplatform.user"
ROOT_BUCKET = "artifacts"  # the pipeline root: every step's outputs land there
FAILED_RUNS = ('resource.type="aiplatform.googleapis.com/PipelineJob" AND '
               'jsonPayload.state="PIPELINE_STATE_FAILED" AND labels.pipeline_name="{name}"')


def names(site: Site[GcpIds]) -> dict[str, str]:
    """The pipeline's names: its own, the template repository's id and the registry model's."""
    return {"pipeline": f"{site.prefix}-training", "repository": f"{site.prefix}-pipelines",
            "model": f"{site.prefix}-model"}


def pipeline(scope: Construct, site: Site[GcpIds], spec: Pipeline, key: GcpKeyRefs,
             data: GcpDataRefs, registry: GcpRegistryRefs, identity: GcpIdentityRefs,
             monitoring: GcpMonitoringRefs, project_number: str) -> GcpPipelineRefs:
    """The template repository, the runner and its grants, the failed-run metric and alert."""
    if spec.on_new_data:
        raise UserError(site.where("pipeline.on_new_data", "new-data triggers are not available "
                                   "on gcp (Vertex AI schedules are cron only); use schedule"))
    named = names(site)
    templates = ArtifactRegistryRepository(
        scope, "templates", repository_id=named["repository"], format="KFP",
        location=site.region, kms_key_name=key.key.id, labels=labels(site.tags),
        description=f"terraml {site.name} compiled pipeline templates",
        depends_on=key.key_grants, lifecycle=protect(site))
    runner = ServiceAccount(scope, "runner",
                            account_id=f"{site.prefix}-pipeline"[:30].rstrip("-"),
                            display_name=f"terraml {site.name} pipeline runs")
    _grants(scope, site, runner, templates, data, registry, identity)
    failures = _failure_alert(scope, site, named["pipeline"], monitoring)
    project_id, cron = site.ids.project_id, spec.cron()
    evaluate = spec.steps.evaluate
    outputs = {
        "pipeline_name": named["pipeline"],
        "pipeline_role": runner.email,
        "pipeline_schedule": cron.unix() if cron else "none",
        "pipeline_trigger": "none",
        "pipeline_approval": spec.registration.approval or "manual",
        "pipeline_metric": (evaluate.metric if evaluate else None) or "none",
        "pipeline_template_repo": f"https://{site.region}-kfp.pkg.dev/{project_id}/"
                                  f"{named['repository']}",
        "pipeline_root": f"gs://{data.buckets[ROOT_BUCKET].name}/pipelines",
        "pipeline_network": f"projects/{project_number}/global/networks/{site.prefix}",
        "pipeline_kms_key": key.key.id,
        "pipeline_model": f"projects/{project_id}/locations/{site.region}/models/"
                          f"{named['model']}",
    }
    return GcpPipelineRefs(outputs=outputs, templates=templates, runner=runner,
                           failures=failures)


def _grants(scope: Construct, site: Site[GcpIds], runner: ServiceAccount,
            templates: ArtifactRegistryRepository, data: GcpDataRefs,
            registry: GcpRegistryRefs, identity: GcpIdentityRefs) -> None:
    member = f"serviceAccount:{runner.email}"
    ProjectIamMember(scope, "runner-vertex", project=site.ids.project_id, role=RUNNER_ROLE,
                     member=member)
    for bucket, item in data.buckets.items():
        role = WRITE if bucket == ROOT_BUCKET else READ
        StorageBucketIamMember(scope, f"runner-{bucket}-{role.rsplit('.', 1)[-1]}",
                               bucket=item.name, role=role, member=member)
    for cid, repository in (("runner-templates", templates), ("runner-images",
                                                              registry.repository)):
        ArtifactRegistryRepositoryIamMember(scope, cid, repository=repository.name,
                                            location=site.region,
                                            role="roles/artifactregistry.reader", member=member)
    ServiceAccountIamMember(scope, "runner-acts-as-training",
                            service_account_id=identity.training.name,
                            role="roles/iam.serviceAccountUser", member=member)


def _failure_alert(scope: Construct, site: Site[GcpIds], name: str,
                   monitoring: GcpMonitoringRefs) -> LoggingMetric:
    """A log-based counter of this pipeline's failed runs (Vertex AI writes a
    `pipeline_job_events` entry per state change) and an alert into the stack's channels."""
    metric = LoggingMetric(
        scope, "failed-runs", name=f"{site.prefix}-pipeline-failures",
        description=f"failed runs of the {name} pipeline",
        filter=FAILED_RUNS.format(name=name),
        metric_descriptor=LoggingMetricMetricDescriptor(metric_kind="DELTA",
                                                        value_type="INT64", unit="1"))
    MonitoringAlertPolicy(
        scope, "failed-runs-alert", display_name=f"{site.prefix} pipeline run failed",
        combiner="OR", notification_channels=[c.name for c in monitoring.channels],
        documentation=MonitoringAlertPolicyDocumentation(
            mime_type="text/markdown",
            content=f"A run of the Vertex AI pipeline `{name}` failed: "
                    f"`terraml pipeline status --env {site.name}` shows which step."),
        conditions=[MonitoringAlertPolicyConditions(
            display_name="a pipeline run failed",
            condition_threshold=MonitoringAlertPolicyConditionsConditionThreshold(
                filter=f'metric.type="logging.googleapis.com/user/{metric.name}" AND '
                       'resource.type="aiplatform.googleapis.com/PipelineJob"',
                comparison="COMPARISON_GT", threshold_value=0, duration="0s",
                aggregations=[MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                    alignment_period="300s", per_series_aligner="ALIGN_SUM")]))])
    return metric
