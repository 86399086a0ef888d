"""AWS provider configuration: region, default tags, version, local emulator endpoints."""

from __future__ import annotations

from cdktn import TerraformStack
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints

from adapters.base import LocalEmulator
from core.spec import Environment

# Every service the stack (and the runtime) calls; all are sent to the emulator locally.
EMULATED_SERVICES = (
    "applicationautoscaling", "athena", "batch", "budgets", "cloudwatch", "cloudwatchlogs",
    "ec2", "ecr", "events", "glue", "iam", "kms", "s3", "sagemaker", "scheduler", "sfn",
    "sns", "sts",
)


def configure_provider(stack: TerraformStack, env: Environment,
                       local: LocalEmulator | None) -> tuple[str, str]:
    """Create the provider; return (account_id, partition) as tokens for ARNs."""
    options: dict = {
        "region": env.region,
        "default_tags": [AwsProviderDefaultTags(tags=env.all_tags())],
    }
    if local:
        options.update(
            access_key="test",
            secret_key="test",
            skip_credentials_validation=True,
            skip_metadata_api_check="true",
            skip_region_validation=True,
            s3_use_path_style=True,
            endpoints=[AwsProviderEndpoints(**{name: local.endpoint for name in EMULATED_SERVICES})],
        )
    elif env.account_id:
        options["allowed_account_ids"] = [env.account_id]
    AwsProvider(stack, "aws", **options)
    caller = DataAwsCallerIdentity(stack, "caller")
    partition = DataAwsPartition(stack, "partition")
    account = env.account_id if env.account_id and not local else caller.account_id
    return account, partition.partition
