"""Experiment tracking on AWS: a SageMaker managed MLflow tracking server.

The server stores artifacts under `s3://<artifacts bucket>/mlflow/` as its own role (S3 on that
prefix only, the environment key), and jobs report to it as the training role (MLflow calls on
this server only). `tracking_uri` is the server's ARN, which the `sagemaker-mlflow` plugin takes
as `MLFLOW_TRACKING_URI`. The server is billed every hour it exists (the `always_on_in_dev`
guardrail says so in dev). Provider 5.x arguments only: no `region`, no MLflow apps.
"""

from __future__ import annotations

from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.sagemaker_mlflow_tracking_server import SagemakerMlflowTrackingServer
from constructs import Construct

from adapters.aws import policy
from adapters.aws.refs import AwsDataRefs, AwsIdentityRefs, AwsKeyRefs, AwsTrackingRefs
from adapters.aws.roles import service_role
from adapters.lifecycle import protect
from core.props import TrackingProps

SIZES = {"small": "Small", "medium": "Medium", "large": "Large"}
MAINTENANCE_WINDOW = "Sun:03:00"  # weekly, UTC
ARTIFACT_PREFIX = "mlflow"
# What a job needs to log runs, metrics, parameters and models and read them back; no
# deletes and no MLflow model registry (versions are registered in the model package group).
REPORT_ACTIONS = [f"sagemaker-mlflow:{action}" for action in (
    "CreateExperiment", "GetExperiment", "GetExperimentByName", "SearchExperiments",
    "SetExperimentTag", "CreateRun", "UpdateRun", "GetRun", "SearchRuns", "LogMetric",
    "LogParam", "LogBatch", "LogInputs", "LogModel", "SetTag", "GetMetricHistory",
    "ListArtifacts")]


def tracking(scope: Construct, props: TrackingProps, key: AwsKeyRefs, data: AwsDataRefs,
             identity: AwsIdentityRefs, account: str) -> AwsTrackingRefs:
    site, spec = props.site, props.tracking
    artifacts = data.buckets["artifacts"]
    role, access = service_role(scope, "tracking-role", f"{site.prefix}-mlflow",
                                f"terraml {site.name}: MLflow tracking server",
                                "sagemaker.amazonaws.com", account, [
        policy.allow("ListArtifactStore", ["s3:ListBucket"], [artifacts.arn],
                     {"StringLike": {"s3:prefix": [ARTIFACT_PREFIX, f"{ARTIFACT_PREFIX}/*"]}}),
        policy.allow("LocateArtifactStore", ["s3:GetBucketLocation"], [artifacts.arn]),
        policy.allow("ReadWriteArtifacts", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                            "s3:AbortMultipartUpload"],
                     [f"{artifacts.arn}/{ARTIFACT_PREFIX}/*"]),
        policy.allow("UseEnvironmentKey", ["kms:Decrypt", "kms:GenerateDataKey",
                                           "kms:DescribeKey"], [key.key.arn]),
    ], policy_name="artifact-store")
    server = SagemakerMlflowTrackingServer(
        scope, "tracking-server", tracking_server_name=f"{site.prefix}-mlflow",
        artifact_store_uri=f"s3://{artifacts.bucket}/{ARTIFACT_PREFIX}/",
        role_arn=role.arn, tracking_server_size=SIZES[spec.size],
        automatic_model_registration=False,
        weekly_maintenance_window_start=MAINTENANCE_WINDOW,
        depends_on=[access],  # the server checks its artifact store when it starts
        lifecycle=protect(site),  # experiments and runs live in the server
    )
    IamRolePolicy(scope, "tracking-report", role=identity.training.id, name="experiment-tracking",
                  policy=policy.document(policy.allow("ReportToTracking", REPORT_ACTIONS,
                                                      [server.arn])))
    experiment = spec.experiment or site.name
    return AwsTrackingRefs(
        outputs={"tracking_uri": server.arn, "tracking_experiment": experiment,
                 "tracking_server_url": server.tracking_server_url},
        server=server, experiment=experiment)
