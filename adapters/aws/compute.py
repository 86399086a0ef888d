"""AWS Batch: a Fargate (Spot by default) compute environment and job queue.

Fargate pools have no instances and scale from zero by construction. The compute
environment name is left to Terraform: provider 5.x calls the argument
`compute_environment_name` and 6.x `name`, and we support both majors.
"""

from __future__ import annotations

from cdktn_provider_aws.batch_compute_environment import (
    BatchComputeEnvironment,
    BatchComputeEnvironmentComputeResources,
)
from cdktn_provider_aws.batch_job_queue import BatchJobQueue, BatchJobQueueComputeEnvironmentOrder
from constructs import Construct

from adapters.base import Refs
from stacks.config import Environment


def compute(scope: Construct, env: Environment, network: Refs) -> Refs:
    pool = BatchComputeEnvironment(
        scope, "batch-pool",
        type="MANAGED",
        state="ENABLED",
        compute_resources=BatchComputeEnvironmentComputeResources(
            type="FARGATE_SPOT" if env.compute.spot else "FARGATE",
            max_vcpus=env.compute.max_vcpus,
            subnets=[s.id for s in network["subnets"]],
            security_group_ids=[network["security_group"].id],
        ),
    )
    queue = BatchJobQueue(
        scope, "batch-queue", name=f"{env.prefix}-cpu", state="ENABLED", priority=1,
        compute_environment_order=[BatchJobQueueComputeEnvironmentOrder(
            order=1, compute_environment=pool.arn)],
    )
    return Refs(outputs={"batch_queue": queue.name, "batch_pool": pool.arn},
                handles={"queue": queue, "pool": pool})
