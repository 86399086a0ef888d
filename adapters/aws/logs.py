"""CloudWatch log groups: KMS-encrypted, retention from `monitoring.log_retention_days`."""

from __future__ import annotations

from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from adapters.aws.refs import AwsKeyRefs
from adapters.suppress import skip_checks
from core.spec import Monitoring


def log_group(scope: Construct, cid: str, monitoring: Monitoring, name: str,
              key: AwsKeyRefs) -> CloudwatchLogGroup:
    days = monitoring.log_retention_days
    group = CloudwatchLogGroup(scope, cid, name=name, retention_in_days=days,
                               kms_key_id=key.key.arn)
    if days < 365:
        skip_checks(group, {"CKV_AWS_338": f"retention is monitoring.log_retention_days ({days}); "
                                           "set 365 or more where compliance requires it"})
    return group
