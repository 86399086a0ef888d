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
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from adapters.aws import policy
from adapters.aws.refs import AwsComputeRefs, AwsNetworkRefs
from core.props import ComputeProps


def compute(scope: Construct, props: ComputeProps, network: AwsNetworkRefs,
            partition: str) -> AwsComputeRefs:
    site, spec = props.site, props.compute
    # An explicit service role (rather than the account-wide service-linked role) keeps
    # the stack self-contained and deployable into a fresh account or the emulator.
    service_role = IamRole(scope, "batch-service-role", name=f"{site.prefix}-batch-service",
                           assume_role_policy=policy.assume_role("batch.amazonaws.com"))
    attachment = IamRolePolicyAttachment(
        scope, "batch-service-role-policy", role=service_role.name,
        policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AWSBatchServiceRole")
    pool = BatchComputeEnvironment(
        scope, "batch-pool",
        type="MANAGED",
        state="ENABLED",
        service_role=service_role.arn,
        depends_on=[attachment],
        compute_resources=BatchComputeEnvironmentComputeResources(
            type="FARGATE_SPOT" if spec.spot else "FARGATE",
            max_vcpus=spec.max_vcpus,
            subnets=[s.id for s in network.subnets],
            security_group_ids=[network.security_group.id],
        ),
    )
    queue = BatchJobQueue(
        scope, "batch-queue", name=f"{site.prefix}-cpu", state="ENABLED", priority=1,
        compute_environment_order=[BatchJobQueueComputeEnvironmentOrder(
            order=1, compute_environment=pool.arn)],
    )
    return AwsComputeRefs(outputs={"batch_queue": queue.name, "batch_pool": pool.arn},
                          queue=queue)
