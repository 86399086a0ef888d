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

from adapters.base import Refs
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.spec import Environment


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


def registry(scope: Construct, env: Environment, key: Refs) -> Refs:
    outputs: dict[str, str] = {}
    repositories: dict[str, EcrRepository] = {}
    for name in env.registry.repositories:
        repo = EcrRepository(
            scope, f"repository-{name}",
            name=f"{env.prefix}/{name}",
            image_tag_mutability="IMMUTABLE" if env.registry.immutable_tags else "MUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(
                scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(
                encryption_type="KMS", kms_key=key["key"].arn)],
            force_delete=env.is_dev,
            lifecycle=protect(env),
        )
        if not env.registry.immutable_tags:
            skip_checks(repo, {"CKV_AWS_51": "dev re-pushes :latest while iterating; "
                                              "staging and prod use immutable tags"})
        EcrLifecyclePolicy(scope, f"repository-{name}-lifecycle", repository=repo.name,
                           policy=lifecycle_rules(env.registry.keep_images))
        repositories[name] = repo
        outputs[f"repository_{name}_url"] = repo.repository_url
    group = SagemakerModelPackageGroup(
        scope, "model-registry", model_package_group_name=f"{env.prefix}-models",
        model_package_group_description=f"terraml {env.name} model versions",
    )
    outputs["model_registry"] = group.model_package_group_name
    return Refs(outputs=outputs, handles={
        "repositories": repositories,
        "repository_arns": [r.arn for r in repositories.values()],
        "model_group_arn": group.arn,
    })
