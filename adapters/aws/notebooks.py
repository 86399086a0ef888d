"""Per-user notebooks on AWS: one SageMaker notebook instance per `notebooks.users`.

Each instance (`<prefix>-<user>`, which `terraml status` / `stop-idle` find by the prefix) runs
in the first private subnet behind its own security group (no ingress; HTTPS out), without
direct internet access, with IMDSv2 only, its volume encrypted with the environment key, root
access from `notebooks.root_access` (on in dev only by default) and a `notebook-user` tag.

Idle stop, with no NAT gateway and no paid interface endpoint: a lifecycle configuration
installs, on every start, a cron check every 5 minutes (`IDLE_CHECK`, run by
`/usr/bin/python3`, Python 3.7 on Amazon Linux 2) that, after `idle_shutdown_minutes` without
kernel or terminal activity, writes a stop request `notebooks/idle/<instance>` to the artifacts
bucket through the VPC's S3 gateway endpoint. The bucket's object events go to EventBridge; a
rule on that prefix starts a Step Functions state machine whose one task calls SageMaker
`StopNotebookInstance` on the instance the key names. Only the state machine's role may stop
the notebooks, and only these instances; the notebooks themselves call no SageMaker API.

The notebooks' role may read objects in the data buckets and write (not delete) those in all
but `models` (serving loads model artifacts from there: only the pipeline writes them), use the
environment key and write the instances' own log streams.
Provider 5.x arguments only (no `region`).
"""

from __future__ import annotations

import json
import re

from cdktn import Fn
from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktn_provider_aws.sagemaker_notebook_instance import (
    SagemakerNotebookInstance,
    SagemakerNotebookInstanceInstanceMetadataServiceConfiguration,
)
from cdktn_provider_aws.sagemaker_notebook_instance_lifecycle_configuration import (
    SagemakerNotebookInstanceLifecycleConfiguration,
)
from cdktn_provider_aws.security_group import SecurityGroup, SecurityGroupEgress
from cdktn_provider_aws.sfn_state_machine import SfnStateMachine
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
from adapters.aws.storage import send_events_to_eventbridge
from adapters.suppress import skip_checks
from core.errors import UserError
from core.props import NotebooksProps, Site

# Neutral CPU size -> notebook instance type. Notebook instances offer no ml.m5.large, so
# `small` is the burstable 2-vCPU ml.t3.medium; the others match the CPU_INSTANCES sizes.
PLATFORM = "notebook-al2-v3"  # Amazon Linux 2, JupyterLab 4
LOG_GROUP = "/aws/sagemaker/NotebookInstances"  # SageMaker's own, shared by every instance
# SageMaker's NotebookInstanceName: letters and digits joined by '-', at most 63 characters.
NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_NAME = 63
READ_ONLY_BUCKETS = ("models",)  # serving loads model artifacts from there
REQUESTS_BUCKET = "artifacts"  # where the idle checks write their stop requests
REQUESTS_PREFIX = "notebooks/idle/"  # + the instance name

CHECK_PATH = "/usr/local/bin/terraml-idle-stop.py"
STARTED = "/var/tmp/terraml-notebook-started"  # the instance's disk outside ~/SageMaker is
#                                                new on every start
REQUESTED = "/var/tmp/terraml-stop-requested"
BUCKET_MARK = "@BUCKET@"  # where the script names the bucket (a Terraform value)
REPEAT_AFTER_MINUTES = 15  # ask again if the instance still runs this long after a request
# The idle check: never stops while a kernel is busy or when Jupyter does not answer; idle time
# runs from the latest kernel / terminal activity, or from the start when there is none.
IDLE_CHECK = f"""\
import json, os, ssl, subprocess, sys, time, urllib.request
from datetime import datetime, timezone

LIMIT = int(sys.argv[1]) * 60
BUCKET = sys.argv[2]


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
    idle = time.time() - last
    if idle < LIMIT:
        return
    if (os.path.exists("{REQUESTED}")
            and time.time() - os.path.getmtime("{REQUESTED}") < {REPEAT_AFTER_MINUTES} * 60):
        return
    with open("/opt/ml/metadata/resource-metadata.json") as found:
        metadata = json.load(found)
    name, region = metadata["ResourceName"], metadata["ResourceArn"].split(":")[3]
    print("idle for", int(idle // 60), "minutes: asking to stop", name)
    request = json.dumps({{"instance": name, "idle_minutes": int(idle // 60)}})
    subprocess.run(["aws", "s3", "cp", "-", "s3://" + BUCKET + "/{REQUESTS_PREFIX}" + name,
                    "--region", region], input=request.encode(), check=True)
    open("{REQUESTED}", "w").close()


main()
"""


def on_start_script(idle_minutes: int, bucket: str) -> str:
    """The lifecycle configuration's on-start script, base64 as the provider expects (encoded
    by Terraform: `bucket` may hold tokens): writes the idle check and a cron entry running it
    every 5 minutes as root."""
    script = f"""#!/bin/bash
# terraml: stop this notebook instance after {idle_minutes} idle minutes.
set -euo pipefail
touch {STARTED}
rm -f {REQUESTED}
cat > {CHECK_PATH} <<'IDLE_CHECK'
{IDLE_CHECK}IDLE_CHECK
chmod 0755 {CHECK_PATH}
cat > /etc/cron.d/terraml-idle-stop <<'CRON'
PATH=/usr/local/bin:/usr/bin:/bin:/home/ec2-user/anaconda3/bin
*/5 * * * * root /usr/bin/python3 {CHECK_PATH} {idle_minutes} {BUCKET_MARK} >> /var/log/terraml-idle-stop.log 2>&1
CRON
"""
    before, after = script.split(BUCKET_MARK)
    return Fn.base64encode(Fn.join("", [Fn.raw_string(before), bucket, Fn.raw_string(after)]))


def stop_definition(partition: str) -> str:
    """The state machine: stop the notebook instance named by the request's key
    (`notebooks/idle/<instance>` in the S3 `Object Created` event)."""
    depth = REQUESTS_PREFIX.count("/")
    return json.dumps({
        "Comment": "terraml: stop the notebook instance whose idle check asked",
        "StartAt": "StopNotebookInstance",
        "States": {"StopNotebookInstance": {
            "Type": "Task",
            "Resource": f"arn:{partition}:states:::aws-sdk:sagemaker:stopNotebookInstance",
            "Parameters": {"NotebookInstanceName.$": "States.ArrayGetItem(States.StringSplit("
                                                     f"$.detail.object.key, '/'), {depth})"},
            "End": True}}})


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
        ], policy_name="notebook-access")
    group = _network(scope, props, network)
    requests = send_events_to_eventbridge(scope, "notebook-requests-notification", data,
                                          REQUESTS_BUCKET)
    bucket = requests.bucket
    machine = _idle_stop(scope, site, [f"{arn}/{name}" for name in names.values()], bucket,
                         account, partition)
    lifecycle = SagemakerNotebookInstanceLifecycleConfiguration(
        scope, "notebook-idle-stop", name=f"{site.prefix}-idle-stop",
        on_start=on_start_script(spec.idle_shutdown_minutes, bucket))
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
                 "notebook_idle_shutdown_minutes": spec.idle_shutdown_minutes,
                 "notebook_stop_requests": f"s3://{bucket}/{REQUESTS_PREFIX}",
                 "notebook_stopper": machine.arn},
        notebooks=instances, role=role)


def _network(scope: Construct, props: NotebooksProps, network: AwsNetworkRefs) -> SecurityGroup:
    """The notebooks' security group: nothing in; HTTPS out (the S3 gateway endpoint, a NAT
    gateway where the environment has one)."""
    return SecurityGroup(
        scope, "notebooks-sg", name=f"{props.site.prefix}-notebooks", vpc_id=network.vpc.id,
        description="terraml notebook instances: no inbound, HTTPS out",
        egress=[SecurityGroupEgress(description="HTTPS to AWS APIs (endpoints, NAT)",
                                    from_port=443, to_port=443, protocol="tcp",
                                    cidr_blocks=["0.0.0.0/0"])])


def _idle_stop(scope: Construct, site: Site, instances: list[str], bucket: str, account: str,
               partition: str) -> SfnStateMachine:
    """The stop requests' path: an EventBridge rule on new objects under `REQUESTS_PREFIX`
    starts the state machine, whose role may stop only `instances`."""
    role, access = service_role(
        scope, "notebook-stopper-role", f"{site.prefix}-notebook-stopper",
        f"terraml {site.name}: stops idle notebook instances", "states.amazonaws.com", account,
        [policy.allow("StopIdleNotebooks", ["sagemaker:StopNotebookInstance"], instances)])
    machine = SfnStateMachine(
        scope, "notebook-stopper", name=f"{site.prefix}-notebook-stopper", type="STANDARD",
        role_arn=role.arn, definition=stop_definition(partition), depends_on=[access])
    skip_checks(machine, {
        "CKV_AWS_284": "one SDK call per idle notebook: nothing to trace across services",
        "CKV_AWS_285": "each run's input (the request's bucket and key) and result are kept in "
                       "the Step Functions execution history; no log group to pay for"})
    rule = CloudwatchEventRule(
        scope, "notebook-stop-requests", name=f"{site.prefix}-notebook-idle",
        description=f"terraml {site.name}: an idle notebook asked to be stopped",
        event_pattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                                  "detail": {"bucket": {"name": [bucket]},
                                             "object": {"key": [{"prefix": REQUESTS_PREFIX}]}}}))
    starter, starts = service_role(
        scope, "notebook-stop-requests-role", f"{site.prefix}-notebook-idle",
        f"terraml {site.name}: starts the notebook stopper on a stop request",
        "events.amazonaws.com", account,
        [policy.allow("StartTheStopper", ["states:StartExecution"], [machine.arn])])
    CloudwatchEventTarget(scope, "notebook-stop-requests-target", rule=rule.name,
                          arn=machine.arn, role_arn=starter.arn, target_id="stopper",
                          depends_on=[starts])
    return machine
