"""What each AWS layer hands to the layers after it: typed `Refs` subclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktn_provider_aws.batch_job_queue import BatchJobQueue
from cdktn_provider_aws.ecr_repository import EcrRepository
from cdktn_provider_aws.glue_catalog_database import GlueCatalogDatabase
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktn_provider_aws.sagemaker_endpoint import SagemakerEndpoint
from cdktn_provider_aws.sagemaker_feature_group import SagemakerFeatureGroup
from cdktn_provider_aws.sagemaker_mlflow_tracking_server import SagemakerMlflowTrackingServer
from cdktn_provider_aws.sagemaker_model_package_group import SagemakerModelPackageGroup
from cdktn_provider_aws.sagemaker_notebook_instance import SagemakerNotebookInstance
from cdktn_provider_aws.sagemaker_pipeline import SagemakerPipeline
from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.subnet import Subnet
from cdktn_provider_aws.vpc import Vpc

from adapters.base import Refs, ServingRefs


@dataclass(kw_only=True)
class AwsKeyRefs(Refs):
    key: KmsKey  # the environment's customer-managed key


@dataclass(kw_only=True)
class AwsNetworkRefs(Refs):
    vpc: Vpc
    subnets: list[Subnet]  # private, one per zone
    security_group: SecurityGroup  # jobs and endpoints


@dataclass(kw_only=True)
class AwsDataRefs(Refs):
    buckets: dict[str, S3Bucket]  # by the neutral bucket name (raw, features, ...)
    database: GlueCatalogDatabase  # the data lake's Glue catalog database
    # Buckets that send their object events to EventBridge, by neutral name: one notification
    # resource per bucket however many layers listen (storage.send_events_to_eventbridge).
    eventbridge: dict[str, S3BucketNotification] = field(default_factory=dict)


@dataclass(kw_only=True)
class AwsRegistryRefs(Refs):
    repositories: dict[str, EcrRepository]  # by repository name (train, serve)
    model_group: SagemakerModelPackageGroup


@dataclass(kw_only=True)
class AwsIdentityRefs(Refs):
    training: IamRole
    serving: IamRole


@dataclass(kw_only=True)
class AwsComputeRefs(Refs):
    queue: BatchJobQueue


@dataclass(kw_only=True)
class AwsServingRefs(ServingRefs):
    endpoint: SagemakerEndpoint
    variant: str  # the production variant the alarms and autoscaling watch


@dataclass(kw_only=True)
class AwsMonitoringRefs(Refs):
    topic: SnsTopic  # the alerts topic


@dataclass(kw_only=True)
class AwsTrackingRefs(Refs):
    server: SagemakerMlflowTrackingServer  # its ARN is the tracking URI
    experiment: str


@dataclass(kw_only=True)
class AwsPipelineRefs(Refs):
    pipeline: SagemakerPipeline
    role: IamRole  # the pipeline execution role


@dataclass(kw_only=True)
class AwsFeatureRefs(Refs):
    groups: dict[str, SagemakerFeatureGroup]  # by the neutral feature group name
    role: IamRole  # the feature store's offline-store role


@dataclass(kw_only=True)
class AwsNotebooksRefs(Refs):
    notebooks: dict[str, SagemakerNotebookInstance]  # by user
    role: IamRole  # the notebooks' execution role
