"""SageMaker model, endpoint configuration, endpoint and (real-time) autoscaling.

Serverless endpoints (dev default) scale to zero but SageMaker gives them no VPC,
no GPU, no data capture and no KMS volume key; real-time endpoints get all four
(KMS only on instance families without local NVMe, which SageMaker encrypts itself).
"""

from __future__ import annotations

from cdktn import TerraformResourceLifecycle
from cdktn_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktn_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktn_provider_aws.sagemaker_endpoint import SagemakerEndpoint
from cdktn_provider_aws.sagemaker_endpoint_configuration import (
    SagemakerEndpointConfiguration,
    SagemakerEndpointConfigurationDataCaptureConfig,
    SagemakerEndpointConfigurationDataCaptureConfigCaptureOptions,
    SagemakerEndpointConfigurationProductionVariants,
    SagemakerEndpointConfigurationProductionVariantsServerlessConfig,
)
from cdktn_provider_aws.sagemaker_model import (
    SagemakerModel,
    SagemakerModelPrimaryContainer,
    SagemakerModelVpcConfig,
)
from constructs import Construct

from adapters.aws.logs import log_group
from adapters.aws.machines import has_local_nvme
from adapters.aws.refs import (
    AwsDataRefs,
    AwsIdentityRefs,
    AwsKeyRefs,
    AwsNetworkRefs,
    AwsRegistryRefs,
    AwsServingRefs,
)
from adapters.base import AcceleratorChoice
from adapters.suppress import skip_checks
from core.props import ServingProps
from core.spec import Registry, Serving

VARIANT = "primary"


def serving(scope: Construct, props: ServingProps, machine: AcceleratorChoice | None,
            key: AwsKeyRefs, network: AwsNetworkRefs, data: AwsDataRefs,
            registry: AwsRegistryRefs, identity: AwsIdentityRefs) -> AwsServingRefs:
    site, spec = props.site, props.serving
    serverless = spec.mode == "serverless"
    endpoint_name = f"{site.prefix}-endpoint"
    key_arn = key.key.arn
    image = spec.placeholder_image or \
        f"{registry.repositories[_serve_repo(props.registry)].repository_url}:placeholder"
    model = SagemakerModel(
        scope, "model", name=f"{site.prefix}-placeholder",
        execution_role_arn=identity.serving.arn,
        primary_container=SagemakerModelPrimaryContainer(image=image),
        enable_network_isolation=True,
        vpc_config=None if serverless else SagemakerModelVpcConfig(
            subnets=[s.id for s in network.subnets],
            security_group_ids=[network.security_group.id]),
    )
    if serverless:
        variant = SagemakerEndpointConfigurationProductionVariants(
            variant_name=VARIANT, model_name=model.name,
            serverless_config=SagemakerEndpointConfigurationProductionVariantsServerlessConfig(
                memory_size_in_mb=spec.memory_mb, max_concurrency=spec.max_concurrency))
    else:
        variant = SagemakerEndpointConfigurationProductionVariants(
            variant_name=VARIANT, model_name=model.name, instance_type=machine.instance_type,
            initial_instance_count=max(spec.min_instances, 1), initial_variant_weight=1)
    capture = None
    if not serverless and spec.data_capture_percent > 0:
        bucket = data.buckets["artifacts"].bucket
        capture = SagemakerEndpointConfigurationDataCaptureConfig(
            destination_s3_uri=f"s3://{bucket}/data-capture/{endpoint_name}",
            initial_sampling_percentage=spec.data_capture_percent,
            kms_key_id=key_arn,
            capture_options=[
                SagemakerEndpointConfigurationDataCaptureConfigCaptureOptions(capture_mode="Input"),
                SagemakerEndpointConfigurationDataCaptureConfigCaptureOptions(
                    capture_mode="Output"),
            ])
    volume_key = not serverless and not has_local_nvme(machine.instance_type)
    config = SagemakerEndpointConfiguration(
        scope, "endpoint-config", name=f"{site.prefix}-placeholder",
        production_variants=[variant], data_capture_config=capture,
        kms_key_arn=key_arn if volume_key else None,
    )
    if not volume_key:
        skip_checks(config, {"CKV_AWS_98": (
            "SageMaker rejects a volume KMS key for serverless variants and for instances "
            "with local NVMe storage, which it encrypts with a hardware key")})
    # `terraml deploy-model` rolls new endpoint configurations onto this endpoint; Terraform
    # creates it with the placeholder and must not roll a deployed model back on the next apply.
    endpoint = SagemakerEndpoint(scope, "endpoint", name=endpoint_name,
                                 endpoint_config_name=config.name,
                                 lifecycle=TerraformResourceLifecycle(
                                     ignore_changes=["endpoint_config_name"]))
    log_group(scope, "endpoint-logs", props.monitoring,
              f"/aws/sagemaker/Endpoints/{endpoint_name}", key)
    if not serverless:
        _autoscaling(scope, site.prefix, spec, endpoint_name, endpoint)
    return AwsServingRefs(
        outputs={"endpoint_name": endpoint.name, "serving_mode": spec.mode,
                 "serving_instance_type": "serverless" if serverless else machine.instance_type},
        endpoint=endpoint, variant=VARIANT,
    )


def _serve_repo(registry: Registry) -> str:
    repos = registry.repositories
    return "serve" if "serve" in repos else repos[-1]


def _autoscaling(scope: Construct, prefix: str, spec: Serving, endpoint_name: str,
                 endpoint: SagemakerEndpoint) -> None:
    target = AppautoscalingTarget(
        scope, "endpoint-scaling",
        service_namespace="sagemaker",
        resource_id=f"endpoint/{endpoint_name}/variant/{VARIANT}",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        min_capacity=spec.min_instances,
        max_capacity=spec.max_instances,
        depends_on=[endpoint],
    )
    AppautoscalingPolicy(
        scope, "endpoint-scaling-policy",
        name=f"{prefix}-invocations-per-instance",
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension,
        target_tracking_scaling_policy_configuration=(
            AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=spec.target_invocations_per_instance,
                scale_in_cooldown=300,
                scale_out_cooldown=60,
                predefined_metric_specification=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type="SageMakerVariantInvocationsPerInstance")),
            )),
    )
