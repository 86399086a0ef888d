"""A deployed-looking AWS stack inside an in-process moto server, for runtime tests.

`FakeAwsStack.create(...)` makes what `ml-<env>` would (KMS key, buckets, roles, VPC,
model package group, placeholder model/config/endpoint, endpoint alarms) with boto3 and
records it the way `terraml up --local` does: `.terraml/local/ml-<env>.tfstate` with the
outputs and `.terraml/local/<env>.json` pointing at the server, so the CLI finds both.
`add_pipeline` adds the SageMaker pipeline a `pipeline:` section makes; `register_version`
puts a model package in the group as that pipeline's register step does.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from core.spec import Environment

ACCOUNT = "123456789012"

REGION = "us-east-1"


def client(endpoint: str, service: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="test", aws_secret_access_key="test")


@dataclass
class FakeAwsStack:
    endpoint: str
    env: str
    prefix: str
    outputs: dict

    def c(self, service: str):
        return client(self.endpoint, service)

    @classmethod
    def create(cls, project: Path, endpoint: str, port: int, env: str, *,
               serverless: bool = False, instances: int = 2) -> FakeAwsStack:
        prefix = f"terraml-{env}"
        c = lambda s: client(endpoint, s)
        key = c("kms").create_key()["KeyMetadata"]["Arn"]
        buckets = {}
        for name in ("raw", "features", "models", "artifacts"):
            bucket = f"{prefix}-{name}-test"
            c("s3").create_bucket(Bucket=bucket)
            buckets[name] = bucket
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        roles = {kind: c("iam").create_role(RoleName=f"{prefix}-{kind}",
                                            AssumeRolePolicyDocument=trust)["Role"]["Arn"]
                 for kind in ("training", "serving")}
        vpc = c("ec2").create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnet = c("ec2").create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
        group = c("ec2").create_security_group(GroupName=f"{prefix}-sg", Description="t",
                                               VpcId=vpc)["GroupId"]
        sm = c("sagemaker")
        sm.create_model_package_group(ModelPackageGroupName=f"{prefix}-models")
        sm.create_model(ModelName=f"{prefix}-placeholder", ExecutionRoleArn=roles["serving"],
                        PrimaryContainer={"Image": "123.dkr.ecr.us-east-1.amazonaws.com/s:p"})
        variant = {"VariantName": "primary", "ModelName": f"{prefix}-placeholder"}
        if serverless:
            variant["ServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
        else:
            variant.update(InstanceType="ml.m5.xlarge", InitialInstanceCount=instances,
                           InitialVariantWeight=1.0)
        sm.create_endpoint_config(EndpointConfigName=f"{prefix}-placeholder",
                                  ProductionVariants=[variant])
        sm.create_endpoint(EndpointName=f"{prefix}-endpoint",
                           EndpointConfigName=f"{prefix}-placeholder")
        for metric in ("ModelLatency", "Invocation5XXErrors"):
            c("cloudwatch").put_metric_alarm(
                AlarmName=f"{prefix}-{metric}", Namespace="AWS/SageMaker", MetricName=metric,
                Dimensions=[{"Name": "EndpointName", "Value": f"{prefix}-endpoint"},
                            {"Name": "VariantName", "Value": "primary"}],
                Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=5,
                ComparisonOperator="GreaterThanThreshold")
        outputs = {
            "environment": env, "cloud": "aws", "region": REGION,
            **{f"bucket_{k}": v for k, v in buckets.items()},
            "kms_key": key, "model_registry": f"{prefix}-models",
            "training_role": roles["training"], "serving_role": roles["serving"],
            "training_output_uri": f"s3://{buckets['models']}/training-output/",
            "training_checkpoint_uri": f"s3://{buckets['artifacts']}/checkpoints/",
            "training_kms_key": key, "training_subnet_ids": [subnet],
            "training_security_group_id": group, "training_instance_type": "ml.g4dn.xlarge",
            "endpoint_name": f"{prefix}-endpoint",
            "serving_mode": "serverless" if serverless else "realtime",
            "serving_instance_type": "serverless" if serverless else "ml.m5.xlarge",
        }
        local = project / ".terraml" / "local"
        local.mkdir(parents=True, exist_ok=True)
        state = {"version": 4, "outputs": {k: {"value": v, "type": "string"}
                                          for k, v in outputs.items()}}
        (local / f"ml-{env}.tfstate").write_text(json.dumps(state))
        (local / f"{env}.json").write_text(json.dumps({"env": env, "pid": os.getpid(),
                                                       "port": port}))
        return cls(endpoint, env, prefix, outputs)

    def add_pipeline(self, env: Environment) -> str:
        """The pipeline Terraform makes for `env.pipeline` (`<prefix>-training`, the
        definition terraml synthesizes, on this stack's role, key, network, buckets and
        model package group); sets the `pipeline_*` outputs the runtime reads. Returns its
        name."""
        from adapters.aws.adapter import AwsAdapter
        from adapters.aws.pipeline_definition import DefinitionInputs, definition

        adapter, steps, out = AwsAdapter(), env.pipeline.steps, self.outputs
        machines = {name: adapter.cpu_machine(step.size)
                    for name, step in (("prepare", steps.prepare), ("evaluate", steps.evaluate))
                    if step}
        machines["train"] = adapter.train_step_machine(steps.train, env.training).instance_type
        inputs = DefinitionInputs(
            spec=env.pipeline, pipeline_name=f"{self.prefix}-training", job_prefix=self.prefix,
            job_role=out["training_role"], key=out["kms_key"],
            subnets=out["training_subnet_ids"], security_group=out["training_security_group_id"],
            buckets={name: out[f"bucket_{name}"] for name in ("raw", "features", "models",
                                                              "artifacts")},
            machines=machines, spot=env.training.spot,
            max_runtime_seconds=int(env.training.max_runtime_hours * 3600),
            model_group=out["model_registry"], approval=env.pipeline.registration.approval)
        self.c("sagemaker").create_pipeline(
            PipelineName=inputs.pipeline_name, PipelineDisplayName=inputs.pipeline_name,
            PipelineDefinition=json.dumps(definition(inputs)), ClientRequestToken="t" * 32,
            RoleArn=out["training_role"])
        out.update(pipeline_name=inputs.pipeline_name, pipeline_approval=inputs.approval,
                   pipeline_schedule="none", pipeline_trigger="none")
        return inputs.pipeline_name

    def register_version(self, model_uri: str, image: str, metrics: dict[str, float],
                         status: str = "PendingManualApproval") -> str:
        """A model package in the stack's group as the pipeline's register step leaves it
        (adapters/aws/pipeline_definition.py `_register`, as terraml.local.pipeline_runs
        runs it): the approval status, the image and artifacts, `metric:<name>` and the
        execution in its customer metadata. Returns its version number."""
        sm = self.c("sagemaker")
        execution = (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{self.prefix}-training/"
                     f"execution/{uuid.uuid4().hex[:12]}")
        arn = sm.create_model_package(
            ModelPackageGroupName=self.outputs["model_registry"], ModelApprovalStatus=status,
            InferenceSpecification={"Containers": [{"Image": image, "ModelDataUrl": model_uri}],
                                    "SupportedContentTypes": ["application/json"],
                                    "SupportedResponseMIMETypes": ["application/json"]},
            CustomerMetadataProperties={"pipeline_execution": execution,
                                        **{f"metric:{k}": str(v) for k, v in metrics.items()}},
        )["ModelPackageArn"]
        return str(sm.describe_model_package(ModelPackageName=arn)["ModelPackageVersion"])

    def registered(self) -> int:
        """How many model packages the stack's group holds."""
        listed = self.c("sagemaker").list_model_packages(
            ModelPackageGroupName=self.outputs["model_registry"], MaxResults=100)
        return len(listed["ModelPackageSummaryList"])
