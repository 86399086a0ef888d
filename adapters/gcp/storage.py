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

from adapters.base import Refs
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.spec import Environment


def _bucket(scope: Construct, env: Environment, name: str, key: Refs,
            logs: StorageBucket | None, expire_days: int | None = None) -> StorageBucket:
    rules = [
        StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="Delete"),
            condition=StorageBucketLifecycleRuleCondition(
                days_since_noncurrent_time=env.data.noncurrent_version_days,
                with_state="ARCHIVED")),
        StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="AbortIncompleteMultipartUpload"),
            condition=StorageBucketLifecycleRuleCondition(age=env.data.abort_multipart_days)),
    ]
    if expire_days:
        rules.append(StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="Delete"),
            condition=StorageBucketLifecycleRuleCondition(age=expire_days)))
    return StorageBucket(
        scope, f"bucket-{name}", name=f"{env.prefix}-{name}-{env.project_id}",
        location=env.region.upper(), uniform_bucket_level_access=True,
        public_access_prevention="enforced", force_destroy=env.is_dev,
        versioning=StorageBucketVersioning(enabled=True),
        encryption=StorageBucketEncryption(default_kms_key_name=key["key"].id),
        lifecycle_rule=rules,
        logging=StorageBucketLogging(log_bucket=logs.name, log_object_prefix=f"{name}/")
        if logs else None,
        depends_on=key["key_grants"], lifecycle=protect(env))


def data_lake(scope: Construct, env: Environment, key: Refs) -> Refs:
    logs = _bucket(scope, env, "access-logs", key, None, expire_days=env.data.access_log_days)
    skip_checks(logs, {"CKV_GCP_62": "this is the access-log bucket; logging it to itself "
                                     "would loop"})
    buckets = {name: _bucket(scope, env, name, key, logs) for name in env.data.buckets}
    dataset = BigqueryDataset(
        scope, "catalog", dataset_id=f"{env.project}_{env.name}".replace("-", "_"),
        location=env.region, description=f"terraml {env.name} data lake tables",
        delete_contents_on_destroy=env.is_dev,
        default_encryption_configuration=BigqueryDatasetDefaultEncryptionConfiguration(
            kms_key_name=key["key"].id),
        depends_on=key["key_grants"], lifecycle=protect(env))
    outputs = {f"bucket_{name}": b.name for name, b in buckets.items()}
    outputs.update(catalog_database=dataset.dataset_id, access_log_bucket=logs.name)
    return Refs(outputs=outputs, handles={"buckets": buckets, "dataset": dataset})


def registry(scope: Construct, env: Environment, key: Refs) -> Refs:
    repo = ArtifactRegistryRepository(
        scope, "repository", repository_id=env.prefix, format="DOCKER", location=env.region,
        description=f"terraml {env.name} training and serving images",
        kms_key_name=key["key"].id,
        docker_config=ArtifactRegistryRepositoryDockerConfig(
            immutable_tags=bool(env.registry.immutable_tags)),
        cleanup_policy_dry_run=False,
        cleanup_policies=[
            ArtifactRegistryRepositoryCleanupPolicies(
                id="delete-untagged", action="DELETE",
                condition=ArtifactRegistryRepositoryCleanupPoliciesCondition(
                    tag_state="UNTAGGED", older_than="604800s")),
            ArtifactRegistryRepositoryCleanupPolicies(
                id="keep-recent", action="KEEP",
                most_recent_versions=ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions(
                    keep_count=env.registry.keep_images)),
        ],
        depends_on=key["key_grants"], lifecycle=protect(env))
    base = f"{env.region}-docker.pkg.dev/{env.project_id}/{env.prefix}"
    outputs = {f"repository_{name}_url": f"{base}/{name}" for name in env.registry.repositories}
    # Vertex AI Model Registry is regional and needs no resource: models are uploaded at run time.
    outputs["model_registry"] = f"projects/{env.project_id}/locations/{env.region}/models"
    return Refs(outputs=outputs, handles={"repository": repo})
