"""AWS adapter: SageMaker, S3, ECR, Batch, CloudWatch, Budgets."""

from adapters.aws.adapter import AwsAdapter

__all__ = ["AwsAdapter"]
