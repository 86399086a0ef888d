"""AWS adapter: SageMaker, S3, ECR, Batch, CloudWatch, Budgets.

The adapter (and its provider bindings) loads on first use of `AwsAdapter`, so the runtime
modules of this package (`machines`, `runtime`) import without CDK code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AwsAdapter"]


def __getattr__(name: str) -> Any:
    if name == "AwsAdapter":
        from adapters.aws.adapter import AwsAdapter

        return AwsAdapter
    raise AttributeError(name)
