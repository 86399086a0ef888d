"""ECR repositories (train, serve) and the SageMaker model package group."""

from __future__ import annotations

import json

from cdktn_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktn_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktn_provider_aws.sagemaker_model_package_group import SagemakerModelPackageGroup
from constructs import Construct

from adapters.aws.refs import AwsKeyRefs, AwsRegistryRefs
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.props import RegistryProps


def lifecycle_rules(keep_images: int) -> str:
    """Expire untagged images after 7 days; keep the newest `keep_images` images."""
    return json.dumps({"rules": [
        {"rulePriority": 1, "description": "expire untagged images after 7 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": 7},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"keep the newest {keep_images} images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                       "countNumber": keep_images},
         "action": {"type": "expire"}},
    ]})


def registry(scope: Construct, props: RegistryProps, key: AwsKeyRefs) -> AwsRegistryRefs:
    site, spec = props.site, props.registry
    outputs: dict[str, str] = {}
    repositories: dict[str, EcrRepository] = {}
    for name in spec.repositories:
        repo = EcrRepository(
            scope, f"repository-{name}",
            name=f"{site.prefix}/{name}",
            image_tag_mutability="IMMUTABLE" if spec.immutable_tags else "MUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(
                scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(
                encryption_type="KMS", kms_key=key.key.arn)],
            force_delete=site.is_dev,
            lifecycle=protect(site),
        )
        if not spec.immutable_tags:
            skip_checks(repo, {"CKV_AWS_51": "dev re-pushes :latest while iterating; "
                                              "staging and prod use immutable tags"})
        EcrLifecyclePolicy(scope, f"repository-{name}-lifecycle", repository=repo.name,
                           policy=lifecycle_rules(spec.keep_images))
        repositories[name] = repo
        outputs[f"repository_{name}_url"] = repo.repository_url
    group = SagemakerModelPackageGroup(
        scope, "model-registry", model_package_group_name=f"{site.prefix}-models",
        model_package_group_description=f"terraml {site.name} model versions",
    )
    outputs["model_registry"] = group.model_package_group_name
    return AwsRegistryRefs(outputs=outputs, repositories=repositories, model_group=group)
