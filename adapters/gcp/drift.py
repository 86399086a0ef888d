"""Drift monitoring on GCP, as far as Terraform goes (Vertex AI Model Monitoring v2).

Terraform has no resource for a Vertex AI model monitor or its schedule: `terraml monitor
baseline` creates them (adapters/gcp/drift_runtime.py). This module makes what they need:

- where baselines and reports go: prefixes of the stack's CMEK buckets (`drift_baseline_uri`,
  `drift_reports_uri`); the monitor itself is encrypted with the stack's key (`drift_kms_key`);
- least privilege for the Vertex AI service agent, which runs the monitoring jobs (v2 monitors
  take no service account): object read on the baseline and data-lake target prefixes and
  object admin on the reports prefix only, by conditional bucket IAM (the `Bucket` clause
  lets it list the bucket's object names, which IAM checks on the bucket); prefixes end in
  `/`, so a sibling prefix is not covered, and the target must not overlap the baseline;
- for `target: endpoint`, request-response logging of the endpoint into the stack's CMEK
  BigQuery dataset (the monitor's target data) and the agent's right to write that table;
- alerts: the monitor notifies the stack's channels itself (`drift_channels`, set on the monitor
  by `monitor baseline`) and logs each anomaly to Cloud Logging. No log-match alert policy
  repeats that: it would notify twice and cost a monthly alert condition.

Contract: `drift(...)` returns `GcpDriftRefs` with the neutral outputs `drift_monitor`
(`<prefix>-drift`: the model monitor's display name and id), `drift_baseline_uri`,
`drift_reports_uri` (gs:// prefixes ending in `/`), `drift_target` (gs://<bucket>/<prefix>/ of
the production CSVs, or the endpoint's resource name), `drift_features`, `drift_thresholds`
({"default": t, <feature>: t}), `drift_schedule` (five-field cron, UTC), and the GCP extras the
runtime needs: `drift_model` (the Model Registry model watched), `drift_kms_key`,
`drift_channels` (notification channel names), `drift_window` (hours of endpoint logs each
run reads, e.g. "24h"; "" for a data-lake target, read whole).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_google.bigquery_dataset_iam_member import BigqueryDatasetIamMember
from cdktn_provider_google.storage_bucket import StorageBucket
from cdktn_provider_google.storage_bucket_iam_member import (
    StorageBucketIamMember,
    StorageBucketIamMemberCondition,
)
from cdktn_provider_google.vertex_ai_endpoint import (
    VertexAiEndpointPredictRequestResponseLoggingConfigBigqueryDestination,
)
from constructs import Construct

from adapters.base import Refs
from adapters.gcp.adapter import GcpAdapter
from adapters.gcp.pipeline import names
from adapters.gcp.platform import READ, WRITE
from adapters.gcp.refs import (
    GcpDataRefs,
    GcpIdentityRefs,
    GcpKeyRefs,
    GcpMonitoringRefs,
    GcpNetworkRefs,
    GcpServingRefs,
)
from adapters.gcp.settings import GcpIds
from core.cron import parse
from core.drift import Drift
from core.errors import UserError
from core.props import DriftProps, Site

AGENT = "serviceAccount:service-{number}@gcp-sa-aiplatform.iam.gserviceaccount.com"
REQUESTS_TABLE = "endpoint_requests"  # Vertex AI creates it in the stack's dataset (CMEK)


@dataclass(kw_only=True)
class GcpDriftRefs(Refs):
    """Outputs only: the monitor and its schedule are made at run time."""


def reports_prefix(baseline_prefix: str) -> str:
    """The reports' prefix beside the baseline's: `drift/baseline/` -> `drift/reports/`."""
    stem = baseline_prefix.strip("/")
    parent = stem.rsplit("/", 1)[0] + "/" if "/" in stem else ""
    reports = f"{parent}reports/" if stem else "drift-reports/"
    return reports if reports != _folder(baseline_prefix) else f"{_folder(stem)}reports/"


@GcpAdapter.implementation("drift")
def drift(adapter: GcpAdapter, scope: Construct, props: DriftProps, *, key: GcpKeyRefs,
          network: GcpNetworkRefs, data: GcpDataRefs, identity: GcpIdentityRefs,
          monitoring: GcpMonitoringRefs, serving: GcpServingRefs | None) -> GcpDriftRefs:
    """Grants, endpoint request logging (target `endpoint`) and outputs;
    the module check already refused buckets that are not data buckets and an endpoint
    target without a realtime endpoint."""
    site, spec = props.site, props.monitoring.drift
    assert spec is not None  # the layer is on only when monitoring.drift is set
    agent = AGENT.format(number=adapter.project.number)
    monitor = f"{site.prefix}-drift"
    buckets = data.buckets
    baseline = _folder(spec.baseline_prefix())
    reports = reports_prefix(spec.baseline_prefix())
    baseline_bucket = buckets[spec.baseline_bucket()]
    _grant(scope, "drift-baseline-read", baseline_bucket, baseline, READ, agent)
    _grant(scope, "drift-reports-write", baseline_bucket, reports, WRITE, agent)
    region, project_id = site.region, site.ids.project_id
    if spec.watches_endpoint():
        assert serving is not None  # DriftMonitoring.check refused endpoint without serving
        target = (f"projects/{project_id}/locations/{region}/endpoints/"
                  f"{serving.endpoint.name}")
        _log_endpoint_requests(scope, site, serving, data, agent)
        window = f"{spec.period_hours()}h"
    else:
        _check_target(site, spec)
        bucket, prefix = buckets[spec.target_bucket() or ""], _folder(spec.target_prefix())
        _grant(scope, "drift-target-read", bucket, prefix, READ, agent)
        target = f"gs://{bucket.name}/{prefix}"
        window = ""
    outputs = {
        "drift_monitor": monitor,
        "drift_baseline_uri": f"gs://{baseline_bucket.name}/{baseline}",
        "drift_reports_uri": f"gs://{baseline_bucket.name}/{reports}",
        "drift_target": target,
        "drift_features": list(spec.features),
        "drift_thresholds": spec.thresholds(),
        "drift_schedule": parse(spec.schedule).unix(),
        "drift_model": f"projects/{project_id}/locations/{region}/models/"
                       f"{names(site)['model']}",
        "drift_kms_key": key.key.id,
        "drift_channels": [c.name for c in monitoring.channels],
        "drift_window": window,
    }
    return GcpDriftRefs(outputs=outputs)


def _check_target(site: Site[GcpIds], spec: Drift) -> None:
    """A data-lake target must not overlap the baseline: the monitor would read the baseline
    copy as production data (or the agent's target read would cover the baseline)."""
    if spec.target_bucket() != spec.baseline_bucket():
        return
    target, baseline = _folder(spec.target_prefix()), _folder(spec.baseline_prefix())
    if target.startswith(baseline) or baseline.startswith(target):
        raise UserError(site.where("monitoring.drift.target", (
            f"expected a prefix apart from the baseline's ({spec.baseline}), found "
            f"{spec.target}, which {'lies under' if target.startswith(baseline) else 'contains'}"
            " it")))


def _folder(prefix: str) -> str:
    stem = prefix.strip("/")
    return f"{stem}/" if stem else ""


def _grant(scope: Construct, cid: str, bucket: StorageBucket, prefix: str, role: str,
           member: str) -> StorageBucketIamMember:
    """`role` on the objects under `prefix` of `bucket` only (and listing the bucket)."""
    objects = f'"projects/_/buckets/{bucket.name}/objects/{prefix}"'
    return StorageBucketIamMember(
        scope, cid, bucket=bucket.name, role=role, member=member,
        condition=StorageBucketIamMemberCondition(
            title=cid, description=f"Vertex AI Model Monitoring: {prefix or 'the bucket'}",
            expression=f"resource.name.startsWith({objects}) || "
                       'resource.type == "storage.googleapis.com/Bucket"'))


def _log_endpoint_requests(scope: Construct, site: Site[GcpIds], serving: GcpServingRefs,
                           data: GcpDataRefs, agent: str) -> None:
    """Request-response logging of the endpoint into `<dataset>.endpoint_requests` (Vertex AI
    creates the table; the dataset's CMEK default applies), after the agent may write it."""
    grant = BigqueryDatasetIamMember(scope, "drift-requests-writer",
                                     dataset_id=data.dataset.dataset_id,
                                     role="roles/bigquery.dataEditor", member=agent)
    endpoint = serving.endpoint
    endpoint.put_predict_request_response_logging_config(
        enabled=True, sampling_rate=1,
        bigquery_destination=VertexAiEndpointPredictRequestResponseLoggingConfigBigqueryDestination(
            output_uri=f"bq://{site.ids.project_id}.{data.dataset.dataset_id}.{REQUESTS_TABLE}"))
    endpoint.depends_on = [*(endpoint.depends_on or []),
                           f"{grant.terraform_resource_type}.{grant.friendly_unique_id}"]
