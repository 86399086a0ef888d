"""Shared by the AWS pricers: the known-free types and usage-based components."""

from __future__ import annotations

from cost.catalog import Price
from cost.model import CostComponent
from cost.pricers import (
    component,
    free,
    usage_note,
)

free(
    "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy",
    "aws_kms_alias", "aws_vpc", "aws_subnet", "aws_route_table", "aws_route_table_association",
    "aws_route", "aws_security_group", "aws_default_security_group", "aws_internet_gateway",
    "aws_s3_bucket_versioning", "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy",
    "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_ownership_controls", "aws_s3_bucket_logging", "aws_ecr_lifecycle_policy",
    "aws_sagemaker_model", "aws_sagemaker_endpoint_configuration",
    "aws_sagemaker_model_package_group", "aws_batch_job_queue", "aws_appautoscaling_target",
    "aws_appautoscaling_policy", "aws_sns_topic_policy", "aws_cloudwatch_event_target",
    "aws_cloudwatch_event_rule",
)


def usage_component(name: str, unit: str, quantity: float | None, price: Price, key: str,
                     note: str = "") -> CostComponent:
    return component(name, unit, quantity, price, usage_note(quantity, key, note))

