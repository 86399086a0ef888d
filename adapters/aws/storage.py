"""KMS key and the data lake: S3 buckets, access-log bucket, Glue database, Athena workgroup."""

from __future__ import annotations

from cdktn_provider_aws.athena_workgroup import (
    AthenaWorkgroup,
    AthenaWorkgroupConfiguration,
    AthenaWorkgroupConfigurationResultConfiguration,
    AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration,
)
from cdktn_provider_aws.glue_catalog_database import GlueCatalogDatabase
from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktn_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktn_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktn_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktn_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktn_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktn_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from adapters.aws import policy
from adapters.aws.refs import AwsDataRefs, AwsKeyRefs
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.props import DataProps, KeyProps, Site
from core.spec import Data

# Services that encrypt with the environment key on our behalf.
KEY_USERS = ("logs.{region}.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com",
             "cloudwatch.amazonaws.com", "budgets.amazonaws.com")


def encryption_key(scope: Construct, props: KeyProps, account: str,
                   partition: str) -> AwsKeyRefs:
    site = props.site
    root = f"arn:{partition}:iam::{account}:root"
    services = [name.format(region=site.region) for name in KEY_USERS]
    key_policy = policy.document(
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": root},
         "Action": "kms:*", "Resource": "*"},
        policy.service_principal(
            "ServicesEncryptForThisAccount", services,
            ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
             "kms:Describe*"], "*",
            {"StringEquals": {"aws:SourceAccount": account}},
        ),
    )
    key = KmsKey(
        scope, "key",
        description=f"terraml {site.name}: data, images, logs and notifications at rest",
        enable_key_rotation=True,
        deletion_window_in_days=7 if site.is_dev else 30,
        policy=key_policy,
        lifecycle=protect(site),
    )
    KmsAlias(scope, "key-alias", name=f"alias/{site.prefix}", target_key_id=key.key_id)
    return AwsKeyRefs(outputs={"kms_key": key.arn}, key=key)


def data_lake(scope: Construct, props: DataProps, key: AwsKeyRefs, account: str,
              partition: str) -> AwsDataRefs:
    site, data = props.site, props.data
    logs, delivery_policy = _log_bucket(scope, site, data, account, partition)
    outputs: dict[str, str] = {}
    buckets: dict[str, S3Bucket] = {}
    for name in data.buckets:
        bucket = _bucket(scope, site, data, name, account, key.key.arn, logs, delivery_policy)
        buckets[name] = bucket
        outputs[f"bucket_{name}"] = bucket.bucket
    database = GlueCatalogDatabase(
        scope, "catalog", name=f"{site.project}_{site.name}".replace("-", "_"),
        description=f"terraml {site.name} data lake tables",
        location_uri=f"s3://{buckets['features'].bucket}/tables/",
    )
    workgroup = AthenaWorkgroup(
        scope, "queries", name=f"{site.prefix}-queries",
        force_destroy=site.is_dev,
        configuration=AthenaWorkgroupConfiguration(
            enforce_workgroup_configuration=True,
            publish_cloudwatch_metrics_enabled=True,
            result_configuration=AthenaWorkgroupConfigurationResultConfiguration(
                output_location=f"s3://{buckets['artifacts'].bucket}/athena-results/",
                encryption_configuration=(
                    AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration(
                        encryption_option="SSE_KMS", kms_key_arn=key.key.arn)
                ),
            ),
        ),
    )
    outputs.update(catalog_database=database.name, query_workgroup=workgroup.name,
                   access_log_bucket=logs.bucket)
    return AwsDataRefs(outputs=outputs, buckets=buckets, database=database)


def send_events_to_eventbridge(scope: Construct, cid: str, data: AwsDataRefs,
                               bucket: str) -> S3Bucket:
    """Turn on EventBridge notifications for data bucket `bucket` and return the bucket. Once
    per bucket: S3 keeps one notification configuration per bucket, so a second resource would
    undo the first. The first layer that asks names it (`cid` in its `scope`; the pipeline
    builds before the notebooks), so a deployed pipeline trigger keeps its address. Caveat:
    when the first asker stops asking (a trigger moved off a bucket the notebooks also use),
    the resource changes address, and one apply creates the new one and deletes the old one
    unordered; the next apply restores the setting if the delete came last."""
    item = data.buckets[bucket]
    if bucket not in data.eventbridge:
        data.eventbridge[bucket] = S3BucketNotification(scope, cid, bucket=item.id,
                                                        eventbridge=True)
    return item


def _bucket_name(site: Site, name: str, account: str) -> str:
    return f"{site.prefix}-{name}-{account}-{site.region}"


def _bucket(scope: Construct, site: Site, data: Data, name: str, account: str, key_arn: str,
            logs: S3Bucket, delivery_policy: S3BucketPolicy) -> S3Bucket:
    bucket = S3Bucket(scope, f"bucket-{name}", bucket=_bucket_name(site, name, account),
                      force_destroy=site.is_dev, lifecycle=protect(site))
    skip_checks(bucket, {
        "CKV_AWS_144": "cross-region replication is a disaster-recovery choice left to the team",
        "CKV2_AWS_62": "event notifications are added by pipelines that consume the bucket",
    })
    _harden(scope, f"bucket-{name}", site, bucket)
    S3BucketServerSideEncryptionConfigurationA(
        scope, f"bucket-{name}-encryption", bucket=bucket.id,
        rule=[S3BucketServerSideEncryptionConfigurationRuleA(
            bucket_key_enabled=True,
            apply_server_side_encryption_by_default=(
                S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms", kms_master_key_id=key_arn)),
        )],
    )
    S3BucketLifecycleConfiguration(
        scope, f"bucket-{name}-lifecycle", bucket=bucket.id,
        rule=[S3BucketLifecycleConfigurationRule(
            id="expire-noncurrent-and-abort-multipart",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=data.noncurrent_version_days)],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=data.abort_multipart_days)],
        )],
    )
    S3BucketLoggingA(scope, f"bucket-{name}-logging", bucket=bucket.id,
                     target_bucket=logs.id, target_prefix=f"{name}/",
                     depends_on=[delivery_policy])  # S3 checks the log bucket's policy
    S3BucketPolicy(scope, f"bucket-{name}-policy", bucket=bucket.id,
                   policy=policy.document(policy.deny_insecure_transport(bucket.arn)))
    return bucket


def _log_bucket(scope: Construct, site: Site, data: Data, account: str,
                partition: str) -> tuple[S3Bucket, S3BucketPolicy]:
    logs = S3Bucket(scope, "bucket-access-logs",
                    bucket=_bucket_name(site, "access-logs", account),
                    force_destroy=site.is_dev, lifecycle=protect(site))
    skip_checks(logs, {
        "CKV_AWS_145": "S3 server access logging only delivers to SSE-S3 buckets, not SSE-KMS",
        "CKV_AWS_18": "this is the access-log target; logging it to itself would loop",
        "CKV_AWS_144": "access logs are kept in-region for their retention period only",
        "CKV2_AWS_62": "nothing consumes access-log events",
    })
    _harden(scope, "bucket-access-logs", site, logs)
    S3BucketServerSideEncryptionConfigurationA(
        scope, "bucket-access-logs-encryption", bucket=logs.id,
        rule=[S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default=(
                S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="AES256")),
        )],
    )
    S3BucketLifecycleConfiguration(
        scope, "bucket-access-logs-lifecycle", bucket=logs.id,
        rule=[S3BucketLifecycleConfigurationRule(
            id="expire-access-logs",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            expiration=[S3BucketLifecycleConfigurationRuleExpiration(
                days=data.access_log_days)],
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=1)],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=data.abort_multipart_days)],
        )],
    )
    delivery = S3BucketPolicy(scope, "bucket-access-logs-policy", bucket=logs.id,
                              policy=policy.document(
        policy.deny_insecure_transport(logs.arn),
        policy.service_principal(
            "S3ServerAccessLogsDelivery", "logging.s3.amazonaws.com", ["s3:PutObject"],
            f"{logs.arn}/*",
            {"StringEquals": {"aws:SourceAccount": account},
             "ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::{site.prefix}-*"}},
        ),
    ))
    return logs, delivery


def _harden(scope: Construct, cid: str, site: Site, bucket: S3Bucket) -> None:
    """Versioning, no public access, bucket-owner-enforced ownership (no ACLs)."""
    S3BucketVersioningA(scope, f"{cid}-versioning", bucket=bucket.id,
                        versioning_configuration=S3BucketVersioningVersioningConfiguration(
                            status="Enabled"))
    S3BucketPublicAccessBlock(scope, f"{cid}-public-access", bucket=bucket.id,
                              block_public_acls=True, block_public_policy=True,
                              ignore_public_acls=True, restrict_public_buckets=True)
    S3BucketOwnershipControls(scope, f"{cid}-ownership", bucket=bucket.id,
                              rule=S3BucketOwnershipControlsRule(
                                  object_ownership="BucketOwnerEnforced"))
