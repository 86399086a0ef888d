"""GCS buckets (CMEK, uniform access, public access prevention, versioning, lifecycle,
access logs), a BigQuery dataset for tables, and the Artifact Registry repository."""

from __future__ import annotations

from cdktn_provider_google.artifact_registry_repository import (
    ArtifactRegistryRepository,
    ArtifactRegistryRepositoryCleanupPolicies,
    ArtifactRegistryRepositoryCleanupPoliciesCondition,
    ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions,
    ArtifactRegistryRepositoryDockerConfig,
)
from cdktn_provider_google.bigquery_dataset import (
    BigqueryDataset,
    BigqueryDatasetDefaultEncryptionConfiguration,
)
from cdktn_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketEncryption,
    StorageBucketLifecycleRule,
    StorageBucketLifecycleRuleAction,
    StorageBucketLifecycleRuleCondition,
    StorageBucketLogging,
    StorageBucketVersioning,
)
from constructs import Construct

from adapters.gcp.refs import GcpDataRefs, GcpKeyRefs, GcpRegistryRefs
from adapters.gcp.settings import GcpIds
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.props import Site
from core.spec import Data, Registry


def _bucket(scope: Construct, site: Site[GcpIds], data: Data, name: str, key: GcpKeyRefs,
            logs: StorageBucket | None, expire_days: int | None = None) -> StorageBucket:
    rules = [
        StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="Delete"),
            condition=StorageBucketLifecycleRuleCondition(
                days_since_noncurrent_time=data.noncurrent_version_days,
                with_state="ARCHIVED")),
        StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="AbortIncompleteMultipartUpload"),
            condition=StorageBucketLifecycleRuleCondition(age=data.abort_multipart_days)),
    ]
    if expire_days:
        rules.append(StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="Delete"),
            condition=StorageBucketLifecycleRuleCondition(age=expire_days)))
    return StorageBucket(
        scope, f"bucket-{name}", name=f"{site.prefix}-{name}-{site.ids.project_id}",
        location=site.region.upper(), uniform_bucket_level_access=True,
        public_access_prevention="enforced", force_destroy=site.is_dev,
        versioning=StorageBucketVersioning(enabled=True),
        encryption=StorageBucketEncryption(default_kms_key_name=key.key.id),
        lifecycle_rule=rules,
        logging=StorageBucketLogging(log_bucket=logs.name, log_object_prefix=f"{name}/")
        if logs else None,
        depends_on=key.key_grants, lifecycle=protect(site))


def data_lake(scope: Construct, site: Site[GcpIds], data: Data, key: GcpKeyRefs) -> GcpDataRefs:
    """The access-log bucket, one bucket per `data.buckets` entry and the BigQuery dataset."""
    logs = _bucket(scope, site, data, "access-logs", key, None, expire_days=data.access_log_days)
    skip_checks(logs, {"CKV_GCP_62": "this is the access-log bucket; logging it to itself "
                                     "would loop"})
    buckets = {name: _bucket(scope, site, data, name, key, logs) for name in data.buckets}
    dataset = BigqueryDataset(
        scope, "catalog", dataset_id=f"{site.project}_{site.name}".replace("-", "_"),
        location=site.region, description=f"terraml {site.name} data lake tables",
        delete_contents_on_destroy=site.is_dev,
        default_encryption_configuration=BigqueryDatasetDefaultEncryptionConfiguration(
            kms_key_name=key.key.id),
        depends_on=key.key_grants, lifecycle=protect(site))
    outputs = {f"bucket_{name}": b.name for name, b in buckets.items()}
    outputs.update(catalog_database=dataset.dataset_id, access_log_bucket=logs.name)
    return GcpDataRefs(outputs=outputs, buckets=buckets, dataset=dataset)


def registry(scope: Construct, site: Site[GcpIds], spec: Registry,
             key: GcpKeyRefs) -> GcpRegistryRefs:
    """One Docker repository (CMEK, cleanup policies) for every image; the model registry
    location."""
    repo = ArtifactRegistryRepository(
        scope, "repository", repository_id=site.prefix, format="DOCKER", location=site.region,
        description=f"terraml {site.name} training and serving images",
        kms_key_name=key.key.id,
        docker_config=ArtifactRegistryRepositoryDockerConfig(
            immutable_tags=bool(spec.immutable_tags)),
        cleanup_policy_dry_run=False,
        cleanup_policies=[
            ArtifactRegistryRepositoryCleanupPolicies(
                id="delete-untagged", action="DELETE",
                condition=ArtifactRegistryRepositoryCleanupPoliciesCondition(
                    tag_state="UNTAGGED", older_than="604800s")),
            ArtifactRegistryRepositoryCleanupPolicies(
                id="keep-recent", action="KEEP",
                most_recent_versions=ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions(
                    keep_count=spec.keep_images)),
        ],
        depends_on=key.key_grants, lifecycle=protect(site))
    project_id = site.ids.project_id
    base = f"{site.region}-docker.pkg.dev/{project_id}/{site.prefix}"
    outputs = {f"repository_{name}_url": f"{base}/{name}" for name in spec.repositories}
    # Vertex AI Model Registry is regional and needs no resource: models are uploaded at run time.
    outputs["model_registry"] = f"projects/{project_id}/locations/{site.region}/models"
    return GcpRegistryRefs(outputs=outputs, repository=repo)
