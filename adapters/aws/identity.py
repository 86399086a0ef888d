"""SageMaker execution roles for training and for serving, scoped to this environment.

No statement grants `*` actions; the only `Resource: "*"` statements are for
actions AWS does not scope to a resource (ECR auth token, ENI management,
CloudWatch metrics), each with a condition where AWS offers one.
"""

from __future__ import annotations

from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from adapters.aws import policy
from adapters.aws.refs import AwsDataRefs, AwsIdentityRefs, AwsKeyRefs, AwsRegistryRefs
from core.props import IdentityProps, Site

READ_OBJECTS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"]
WRITE_OBJECTS = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
PULL_IMAGES = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
               "ecr:GetDownloadUrlForLayer"]
USE_KEY = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"]
VPC_ACCESS = ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
              "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
              "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
              "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]


def _objects(arns: list[str]) -> list[str]:
    return [*arns, *[f"{arn}/*" for arn in arns]]


def identity(scope: Construct, props: IdentityProps, key: AwsKeyRefs, data: AwsDataRefs,
             registry: AwsRegistryRefs, account: str, partition: str) -> AwsIdentityRefs:
    site = props.site
    buckets = data.buckets
    key_arn = key.key.arn
    repos = registry.repositories
    logs = f"arn:{partition}:logs:{site.region}:{account}:log-group:/aws/sagemaker/*"
    common = [
        policy.allow("UseEnvironmentKey", USE_KEY, [key_arn]),
        policy.allow("EcrAuthToken", ["ecr:GetAuthorizationToken"], "*"),
        policy.allow("WriteJobLogs", ["logs:CreateLogGroup", "logs:CreateLogStream",
                                      "logs:PutLogEvents", "logs:DescribeLogStreams"],
                     [logs, f"{logs}:*"]),
        policy.allow("PublishMetrics", ["cloudwatch:PutMetricData"], "*",
                     {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "terraml/*"]}}),
        policy.allow("RunInPrivateNetwork", VPC_ACCESS, "*",
                     {"StringEquals": {"aws:RequestedRegion": site.region}}),
    ]
    training = _role(scope, "training-role", f"{site.prefix}-training", site, [
        *common,
        policy.allow("ReadTrainingData", READ_OBJECTS,
                     _objects([b.arn for b in buckets.values()])),
        policy.allow("WriteModelsAndArtifacts", WRITE_OBJECTS,
                     [f"{buckets[n].arn}/*" for n in ("models", "artifacts", "features")]),
        policy.allow("PullTrainingImage", PULL_IMAGES, [r.arn for r in repos.values()]),
    ])
    serving = _role(scope, "serving-role", f"{site.prefix}-serving", site, [
        *common,
        policy.allow("ReadModels", READ_OBJECTS, _objects([buckets["models"].arn])),
        policy.allow("WriteDataCapture", WRITE_OBJECTS,
                     [f"{buckets['artifacts'].arn}/data-capture/*"]),
        # Endpoints pull serving images only (every repository when none is named "serve").
        policy.allow("PullServingImage", PULL_IMAGES,
                     [repos["serve"].arn] if "serve" in repos else
                     [r.arn for r in repos.values()]),
    ])
    return AwsIdentityRefs(outputs={"training_role": training.arn, "serving_role": serving.arn},
                           training=training, serving=serving)


def _role(scope: Construct, cid: str, name: str, site: Site,
          statements: list[dict]) -> IamRole:
    role = IamRole(scope, cid, name=name,
                   description=f"terraml {site.name}: SageMaker execution role",
                   assume_role_policy=policy.assume_role("sagemaker.amazonaws.com"))
    IamRolePolicy(scope, f"{cid}-policy", role=role.id, name="scoped-access",
                  policy=policy.document(*statements))
    return role
