"""IAM/KMS/bucket policy documents as plain data (rendered with json.dumps)."""

from __future__ import annotations

import json
from typing import Any


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(sid: str, actions: list[str], resources: list[str] | str,
          condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions,
                                 "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def service_principal(sid: str, service: str, actions: list[str], resources: list[str] | str,
                      condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement = allow(sid, actions, resources, condition)
    statement["Principal"] = {"Service": service}
    return statement


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def assume_role(service: str) -> str:
    return document({"Effect": "Allow", "Principal": {"Service": service},
                     "Action": "sts:AssumeRole"})
