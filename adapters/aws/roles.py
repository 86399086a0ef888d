"""Service roles of the continuous-training layers: each trusts one AWS service, only on behalf
of this account (`aws:SourceAccount`), and carries one inline policy of scoped statements."""

from __future__ import annotations

from typing import Any

from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from adapters.aws import policy


def trust(service: str, account: str) -> str:
    """A trust policy for `service`, acting for this account only (confused-deputy guard)."""
    return policy.document({"Effect": "Allow", "Principal": {"Service": service},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": account}}})


def service_role(scope: Construct, cid: str, name: str, description: str, service: str,
                 account: str, statements: list[dict[str, Any]],
                 policy_name: str = "scoped-access") -> tuple[IamRole, IamRolePolicy]:
    """The role and its inline policy (depend on the policy where the service checks access
    when the resource is created)."""
    role = IamRole(scope, cid, name=name, description=description,
                   assume_role_policy=trust(service, account))
    access = IamRolePolicy(scope, f"{cid}-policy", role=role.id, name=policy_name,
                           policy=policy.document(*statements))
    return role, access
