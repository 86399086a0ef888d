"""Per-user notebooks on AWS: one SageMaker notebook instance per `notebooks.users`.

Each instance (`<prefix>-<user>`, which `terraml status` / `stop-idle` find by the prefix) runs
in the first private subnet behind its own security group (no ingress; HTTPS out), without
direct internet access, with IMDSv2 only, its volume encrypted with the environment key, root
access from `notebooks.root_access` (on in dev only by default) and a `notebook-user` tag. A
lifecycle configuration installs, on every start, a cron check every 5 minutes that stops the
instance after `idle_shutdown_minutes` without kernel or terminal activity
(`IDLE_CHECK`, run by `/usr/bin/python3`, Python 3.7 on Amazon Linux 2). An interface endpoint for the SageMaker API in that subnet lets the check
stop the instance without a NAT gateway.

The notebooks' role may read objects in the data buckets and write (not delete) those in all
but `models` (serving loads model artifacts from there: only the pipeline writes them), use the
environment key, write the instances' own log streams and describe or stop the instances.
Provider 5.x arguments only (no `region`).
"""

from __future__ import annotations

import base64
import re

from cdktn_provider_aws.sagemaker_notebook_instance import (
    SagemakerNotebookInstance,
    SagemakerNotebookInstanceInstanceMetadataServiceConfiguration,
)
from cdktn_provider_aws.sagemaker_notebook_instance_lifecycle_configuration import (
    SagemakerNotebookInstanceLifecycleConfiguration,
)
from cdktn_provider_aws.security_group import (
    SecurityGroup,
    SecurityGroupEgress,
    SecurityGroupIngress,
)
from cdktn_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from adapters.aws import policy
from adapters.aws.adapter import AwsAdapter
from adapters.aws.identity import READ_OBJECTS, WRITE_OBJECTS
from adapters.aws.refs import (
    AwsDataRefs,
    AwsIdentityRefs,
    AwsKeyRefs,
    AwsNetworkRefs,
    AwsNotebooksRefs,
)
from adapters.aws.roles import service_role
from adapters.suppress import skip_checks
from core.errors import UserError
from core.props import NotebooksProps

# Neutral CPU size -> notebook instance type. Notebook instances offer no ml.m5.large, so
# `small` is the burstable 2-vCPU ml.t3.medium; the others match the CPU_INSTANCES sizes.
PLATFORM = "notebook-al2-v3"  # Amazon Linux 2, JupyterLab 4
LOG_GROUP = "/aws/sagemaker/NotebookInstances"  # SageMaker's own, shared by every instance
# SageMaker's NotebookInstanceName: letters and digits joined by '-', at most 63 characters.
NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_NAME = 63
READ_ONLY_BUCKETS = ("models",)  # serving loads model artifacts from there

CHECK_PATH = "/usr/local/bin/terraml-idle-stop.py"
STARTED = "/var/tmp/terraml-notebook-started"  # the instance's disk outside ~/SageMaker is
#                                                new on every start
# The idle check: never stops while a kernel is busy or when Jupyter does not answer; idle time
# runs from the latest kernel / terminal activity, or from the start when there is none.
IDLE_CHECK = f"""\
import json, os, ssl, subprocess, sys, time, urllib.request
from datetime import datetime, timezone

LIMIT = int(sys.argv[1]) * 60


def get(path):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the local Jupyter server's self-signed certificate
    with urllib.request.urlopen("https://localhost:8443" + path, context=context,
                                timeout=20) as answer:
        return json.load(answer)


def seconds(stamp):
    stamp = stamp.rstrip("Z").split(".")[0]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc).timestamp()


def main():
    try:
        kernels, terminals = get("/api/kernels"), get("/api/terminals")
    except Exception as exc:
        print("jupyter did not answer, not stopping:", exc)
        return
    if any(kernel.get("execution_state") == "busy" for kernel in kernels):
        return
    last = os.path.getmtime("{STARTED}")
    for item in kernels + terminals:
        if item.get("last_activity"):
            last = max(last, seconds(item["last_activity"]))
    if time.time() - last < LIMIT:
        return
    with open("/opt/ml/metadata/resource-metadata.json") as found:
        metadata = json.load(found)
    region = metadata["ResourceArn"].split(":")[3]
    print("idle for", int((time.time() - last) // 60), "minutes: stopping",
          metadata["ResourceName"])
    subprocess.run(["aws", "sagemaker", "stop-notebook-instance", "--region", region,
                    "--notebook-instance-name", metadata["ResourceName"]], check=True)


main()
"""


def on_start_script(idle_minutes: int) -> str:
    """The lifecycle configuration's on-start script, base64 as the provider expects: writes
    the idle check and a cron entry running it every 5 minutes as root."""
    script = f"""#!/bin/bash
# terraml: stop this notebook instance after {idle_minutes} idle minutes.
set -euo pipefail
touch {STARTED}
cat > {CHECK_PATH} <<'IDLE_CHECK'
{IDLE_CHECK}IDLE_CHECK
chmod 0755 {CHECK_PATH}
cat > /etc/cron.d/terraml-idle-stop <<'CRON'
PATH=/usr/local/bin:/usr/bin:/bin:/home/ec2-user/anaconda3/bin
*/5 * * * * root /usr/bin/python3 {CHECK_PATH} {idle_minutes} >> /var/log/terraml-idle-stop.log 2>&1
CRON
"""
    return base64.b64encode(script.encode()).decode()


def notebook_name(prefix: str, user: str) -> str:
    return f"{prefix}-{user}"


@AwsAdapter.implementation("notebooks")
def notebooks(adapter: AwsAdapter, scope: Construct, props: NotebooksProps, *, key: AwsKeyRefs,
              network: AwsNetworkRefs, data: AwsDataRefs,
              identity: AwsIdentityRefs) -> AwsNotebooksRefs:
    """The notebook instances, their role, network and idle-stop lifecycle configuration.
    Outputs `notebooks` (user -> instance name), `notebook_role`, `notebook_lifecycle_config`,
    `notebook_instance_type`, `notebook_idle_shutdown_minutes`."""
    site, spec = props.site, props.notebooks
    account, partition = adapter.account, adapter.partition
    names = {user: notebook_name(site.prefix, user) for user in spec.users}
    for user, name in names.items():
        if not NAME.match(name) or len(name) > MAX_NAME:
            raise UserError(site.where("notebooks.users", "expected user names that end with "
                                       f"a letter or digit and fit SageMaker's 63 characters "
                                       f"after '{site.prefix}-', found {user!r}"))
    arn = f"arn:{partition}:sagemaker:{site.region}:{account}:notebook-instance"
    logs = f"arn:{partition}:logs:{site.region}:{account}:log-group:{LOG_GROUP}"
    buckets = [b.arn for b in data.buckets.values()]
    writable = [b.arn for name, b in data.buckets.items() if name not in READ_ONLY_BUCKETS]
    role, access = service_role(
        scope, "notebook-role", f"{site.prefix}-notebooks",
        f"terraml {site.name}: SageMaker notebook instances", "sagemaker.amazonaws.com",
        account, [
            policy.allow("ReadData", READ_OBJECTS, [*buckets, *[f"{b}/*" for b in buckets]]),
            policy.allow("WriteData", WRITE_OBJECTS, [f"{b}/*" for b in writable]),
            policy.allow("UseEnvironmentKey", ["kms:Decrypt", "kms:GenerateDataKey",
                                               "kms:DescribeKey"], [key.key.arn]),
            policy.allow("CreateLogGroup", ["logs:CreateLogGroup"], [logs]),
            policy.allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents",
                                          "logs:DescribeLogStreams"],
                         [f"{logs}:log-stream:{name}/*" for name in names.values()]),
            policy.allow("StopWhenIdle", ["sagemaker:DescribeNotebookInstance",
                                          "sagemaker:StopNotebookInstance"],
                         [f"{arn}/{name}" for name in names.values()]),
        ], policy_name="notebook-access")
    group = _network(scope, props, network)
    lifecycle = SagemakerNotebookInstanceLifecycleConfiguration(
        scope, "notebook-idle-stop", name=f"{site.prefix}-idle-stop",
        on_start=on_start_script(spec.idle_shutdown_minutes))
    instance_type = adapter.notebook_machine(spec.size)
    instances = {user: SagemakerNotebookInstance(
        scope, f"notebook-{user}", name=name, instance_type=instance_type,
        platform_identifier=PLATFORM, role_arn=role.arn,
        subnet_id=network.subnets[0].id, security_groups=[group.id],
        kms_key_id=key.key.arn, direct_internet_access="Disabled",
        root_access="Enabled" if spec.root_access else "Disabled",
        volume_size=spec.disk_gb, lifecycle_config_name=lifecycle.name,
        instance_metadata_service_configuration=(
            SagemakerNotebookInstanceInstanceMetadataServiceConfiguration(
                minimum_instance_metadata_service_version="2")),
        tags={"notebook-user": user},
        depends_on=[access],  # SageMaker checks the role when it creates the instance
    ) for user, name in names.items()}
    if spec.root_access:
        for instance in instances.values():
            skip_checks(instance, {"CKV_AWS_307": "root access is notebooks.root_access, on "
                                                  "by default in dev only (package installs)"})
    return AwsNotebooksRefs(
        outputs={"notebooks": names, "notebook_role": role.arn,
                 "notebook_lifecycle_config": lifecycle.name,
                 "notebook_instance_type": instance_type,
                 "notebook_idle_shutdown_minutes": spec.idle_shutdown_minutes},
        notebooks=instances, role=role)


def _network(scope: Construct, props: NotebooksProps, network: AwsNetworkRefs) -> SecurityGroup:
    """The notebooks' security group (nothing in; HTTPS out) and the SageMaker API endpoint
    the idle check calls (reachable from the notebooks and from jobs in the subnet)."""
    prefix = props.site.prefix
    group = SecurityGroup(
        scope, "notebooks-sg", name=f"{prefix}-notebooks", vpc_id=network.vpc.id,
        description="terraml notebook instances: no inbound, HTTPS out",
        egress=[SecurityGroupEgress(description="HTTPS to AWS APIs (endpoints, NAT)",
                                    from_port=443, to_port=443, protocol="tcp",
                                    cidr_blocks=["0.0.0.0/0"])])
    api = SecurityGroup(
        scope, "sagemaker-api-sg", name=f"{prefix}-sagemaker-api", vpc_id=network.vpc.id,
        description="terraml SageMaker API endpoint: HTTPS from notebooks and jobs",
        ingress=[SecurityGroupIngress(description="HTTPS from notebooks and jobs",
                                      from_port=443, to_port=443, protocol="tcp",
                                      security_groups=[group.id, network.security_group.id])],
        egress=[SecurityGroupEgress(description="answers only (no outbound)", from_port=443,
                                    to_port=443, protocol="tcp",
                                    cidr_blocks=[network.vpc.cidr_block])])
    VpcEndpoint(scope, "sagemaker-api-endpoint", vpc_id=network.vpc.id,
                service_name=f"com.amazonaws.{props.site.region}.sagemaker.api",
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                subnet_ids=[network.subnets[0].id], security_group_ids=[api.id])
    return group
