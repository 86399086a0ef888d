"""The embedded emulator: moto's server plus the few calls terraml's stack needs that
moto does not implement yet: AWS Budgets `DescribeSubscribersForNotification` and
budget tags (`TagResource`, `UntagResource`, `ListTagsForResource`, tags on create),
SageMaker `DeleteModelPackageGroup` and `UpdateEndpoint` (switches at once);
Application Auto Scaling tags (`ListTagsForResource`, `TagResource`, `UntagResource`,
tags on `RegisterScalableTarget`), without which the provider retries
`aws_appautoscaling_target` for its whole timeout; SageMaker instance types checked by
shape (`ml.<family>.<size>`) instead of moto's dated lists, which reject current
families (ml.g5, ml.g6, ml.p4d, ml.inf2, ...); SageMaker answers shaped like AWS's
(a model's `EnableNetworkIsolation` is kept, and unset `VpcConfig` /
`DataCaptureConfig` are omitted instead of returned empty), without which Terraform
sees a change on every plan; S3 `GetBucketNotificationConfiguration` returns the
`EventBridgeConfiguration` moto stores but drops on read (else `eventbridge = true` is planned
again forever); SageMaker `UpdateModelPackage` keeps `CustomerMetadataProperties` when the
call leaves them out (moto clears them); requests count as made over TLS, so a bucket
policy's TLS-only deny (`aws:SecureTransport` false) no longer refuses every object call
(moto ignores policy conditions and applied that deny to all); Step Functions
`ValidateStateMachineDefinition` (the provider's check before a create) and
`ListStateMachineVersions`.

Continuous training, each in its own module: SageMaker managed MLflow tracking servers
(`terraml.local.mlflow_servers`); pipeline executions that walk their definition, with
`ListPipelineExecutionSteps` (`terraml.local.pipeline_runs`); EventBridge delivery to
SageMaker pipeline and SNS targets plus SageMaker's pipeline and model package events
(`terraml.local.events`). Containers never run. State machines run in moto's Step Functions
interpreter, their `aws-sdk` tasks calling this emulator (`events.run_state_machines`).

Calls are handled one at a time (moto's backends are not thread-safe). Any other call moto
lacks answers 400 `NotImplementedByEmulator` at once (moto's 500 makes
SDKs retry for minutes).

Run as `python -m terraml.local.moto_server -H 127.0.0.1 -p PORT`.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from datetime import timezone

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.budgets.exceptions import NotFoundException
from moto.budgets.responses import BudgetsResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from moto.sagemaker.responses import SageMakerResponse
from moto.server import main as moto_main
from moto.stepfunctions.responses import StepFunctionResponse

from terraml.local import events, feature_store, mlflow_servers, model_monitor, pipeline_runs


def _describe_subscribers_for_notification(self: BudgetsResponse) -> str:
    account_id = self._get_param("AccountId")
    budget_name = self._get_param("BudgetName")
    wanted = self._get_param("Notification")
    budget = self.backend.budgets[account_id].get(budget_name)
    if budget is None:
        raise NotFoundException(f"Unable to get budget: {budget_name} - the budget doesn't exist.")
    for notification in budget.notifications:
        if notification.details == wanted:
            return json.dumps({"Subscribers": notification.subscribers or []})
    raise NotFoundException("Unable to describe subscribers - the notification doesn't exist.")


_BUDGET_TAGS: dict[str, dict[str, str]] = {}
_create_budget = BudgetsResponse.create_budget
_delete_budget = BudgetsResponse.delete_budget


def _budget_arn(self: BudgetsResponse, account_id: str, name: str) -> str:
    return f"arn:{self.partition}:budgets::{account_id}:budget/{name}"


def _create_budget_with_tags(self: BudgetsResponse) -> str:
    result = _create_budget(self)
    name = self._get_param("Budget")["BudgetName"]
    tags = self._get_param("ResourceTags", [])
    _BUDGET_TAGS[_budget_arn(self, self._get_param("AccountId"), name)] = {
        t["Key"]: t["Value"] for t in tags}
    return result


def _delete_budget_and_tags(self: BudgetsResponse) -> str:
    result = _delete_budget(self)
    arn = _budget_arn(self, self._get_param("AccountId"), self._get_param("BudgetName"))
    _BUDGET_TAGS.pop(arn, None)
    return result


def _list_tags(self: BudgetsResponse) -> str:
    tags = _BUDGET_TAGS.get(self._get_param("ResourceARN"), {})
    return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})


def _tag(self: BudgetsResponse) -> str:
    store = _BUDGET_TAGS.setdefault(self._get_param("ResourceARN"), {})
    store.update({t["Key"]: t["Value"] for t in self._get_param("ResourceTags", [])})
    return "{}"


def _untag(self: BudgetsResponse) -> str:
    store = _BUDGET_TAGS.setdefault(self._get_param("ResourceARN"), {})
    for key in self._get_param("ResourceTagKeys", []):
        store.pop(key, None)
    return "{}"


_create_model = SageMakerResponse.create_model
_describe_model = SageMakerResponse.describe_model
_describe_endpoint_config = SageMakerResponse.describe_endpoint_config


def _create_model_keeping_isolation(self: SageMakerResponse):
    result = _create_model(self)
    model = self.sagemaker_backend._models[self._get_param("ModelName")]
    model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
    return result


def _without_empty(describe, *keys: str):
    """Wrap a describe call so that unset (empty) `keys` are left out, as AWS does."""
    def wrapped(self: SageMakerResponse) -> ActionResult:
        response = describe(self).result
        return ActionResult({k: v for k, v in response.items() if not (k in keys and not v)})
    return wrapped


def _delete_model_package_group(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("ModelPackageGroupName")
    groups = self.sagemaker_backend.model_package_groups
    if name not in groups:
        from moto.sagemaker.exceptions import ValidationError

        raise ValidationError(f"Model package group {name} does not exist.")
    del groups[name]
    return ActionResult({})


def _update_endpoint(self: SageMakerResponse) -> ActionResult:
    """Switch the endpoint to the new configuration at once (moto has no UpdateEndpoint;
    the blue/green traffic shift happens inside SageMaker and is not emulated)."""
    from moto.core.utils import utcnow
    from moto.sagemaker.exceptions import ValidationError

    backend = self.sagemaker_backend
    endpoint = backend.endpoints.get(self._get_param("EndpointName"))
    if endpoint is None:
        raise ValidationError(f"Could not find endpoint {self._get_param('EndpointName')}.")
    try:
        config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
    except KeyError:
        raise ValidationError("Could not find endpoint configuration "
                              f"{self._get_param('EndpointConfigName')}.") from None
    endpoint.endpoint_config_name = config["EndpointConfigName"]
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"])
    endpoint.last_modified_time = utcnow()
    endpoint.endpoint_status = "InService"
    return ActionResult({"EndpointArn": endpoint.arn})


_update_model_package = SageMakerResponse.update_model_package


def _update_model_package_keeping_metadata(self: SageMakerResponse) -> ActionResult:
    """UpdateModelPackage without `CustomerMetadataProperties` leaves them as they are."""
    backend = self.sagemaker_backend
    arn = self._get_param("ModelPackageArn")
    package = backend.model_packages.get(backend.model_package_name_mapping.get(arn, arn))
    kept = package.customer_metadata_properties if package is not None else None
    result = _update_model_package(self)
    if package is not None and self._get_param("CustomerMetadataProperties") is None:
        package.customer_metadata_properties = kept
        for key in self._get_param("CustomerMetadataPropertiesToRemove", []) or []:
            (kept or {}).pop(key, None)
    return result


_get_permission = FakeBucket.get_permission


def _insecure_transport_only(statement: dict) -> bool:
    value = ((statement.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport")
    return str(value[0] if isinstance(value, list) and value else value).lower() == "false"


def _get_permission_over_tls(self: FakeBucket, action: str, resource: str):
    """The bucket policy without statements that apply only to plain-HTTP requests."""
    if self.policy is None:
        return _get_permission(self, action, resource)
    from moto.iam.access_control import IAMPolicy

    document = json.loads(self.policy)
    statements = document.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    kept = [s for s in statements if not _insecure_transport_only(s)]
    return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(
        action, resource)


_get_bucket_notification = S3Response.get_bucket_notification


def _get_bucket_notification_with_eventbridge(self: S3Response):
    """Moto stores `EventBridgeConfiguration` but leaves it out of the answer."""
    config = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if config is None or config.event_bridge is None:
        return _get_bucket_notification(self)
    serialize = self.serialized

    def with_eventbridge(result: ActionResult):
        found = result.result if isinstance(result.result, dict) else {}
        return serialize(ActionResult({**found, "EventBridgeConfiguration": {}}))

    self.data["Action"] = "GetBucketNotificationConfiguration"
    self.serialized = with_eventbridge
    try:
        return _get_bucket_notification(self)
    finally:
        del self.serialized


_INSTANCE_TYPE = re.compile(r"ml\.[a-z][a-z0-9-]*\.[a-z0-9]+")


def _validate_instance_type(self_or_type, instance_type: str | None = None) -> None:
    """Any well-formed SageMaker instance type (`ml.<family>.<size>`), as AWS's enum grows
    faster than moto's copy of it."""
    from moto.sagemaker.exceptions import ValidationError

    value = instance_type if instance_type is not None else self_or_type
    if not isinstance(value, str) or not _INSTANCE_TYPE.fullmatch(value):
        raise ValidationError(message=f"Value '{value}' at 'instanceType' failed to satisfy "
                              "constraint: Member must match ml.<family>.<size>")


def _validate_instance_types(instance_types: list[str]) -> None:
    for instance_type in instance_types or []:
        _validate_instance_type(instance_type)


_SCALING_TAGS: dict[str, dict[str, str]] = {}
_register_target = ApplicationAutoScalingResponse.register_scalable_target
_deregister_target = ApplicationAutoScalingResponse.deregister_scalable_target


def _register_target_with_tags(self: ApplicationAutoScalingResponse) -> str:
    result = _register_target(self)
    tags = self._get_param("Tags") or {}
    if tags:
        arn = json.loads(result)["ScalableTargetARN"]
        _SCALING_TAGS.setdefault(arn, {}).update(tags)
    return result


def _deregister_target_and_tags(self: ApplicationAutoScalingResponse) -> str:
    backend = self.applicationautoscaling_backend
    target = backend.targets.get(self._get_param("ScalableDimension"), {}).get(
        self._get_param("ResourceId"))
    result = _deregister_target(self)
    if target is not None:
        _SCALING_TAGS.pop(target.arn, None)
    return result


def _scaling_target_arns(self: ApplicationAutoScalingResponse) -> set[str]:
    backend = self.applicationautoscaling_backend
    return {t.arn for by_id in backend.targets.values() for t in by_id.values()}


def _scaling_arn(self: ApplicationAutoScalingResponse) -> str:
    from moto.applicationautoscaling.exceptions import AWSValidationException

    arn = self._get_param("ResourceARN")
    if arn not in _scaling_target_arns(self):
        raise AWSValidationException(f"Scalable target {arn} does not exist")
    return arn


def _scaling_list_tags(self: ApplicationAutoScalingResponse) -> str:
    return json.dumps({"Tags": dict(_SCALING_TAGS.get(_scaling_arn(self), {}))})


def _scaling_tag(self: ApplicationAutoScalingResponse) -> str:
    _SCALING_TAGS.setdefault(_scaling_arn(self), {}).update(self._get_param("Tags") or {})
    return "{}"


def _scaling_untag(self: ApplicationAutoScalingResponse) -> str:
    store = _SCALING_TAGS.setdefault(_scaling_arn(self), {})
    for key in self._get_param("TagKeys") or []:
        store.pop(key, None)
    return "{}"


class NotImplementedByEmulator(ServiceException):
    code = "NotImplementedByEmulator"


_call_action = BaseResponse.call_action
# Moto's backends are plain dicts shared by the server's request threads; Terraform sends ten
# calls at once. One call at a time keeps a backend from being read while another call changes
# it (a 500 there makes the SDK retry a create that already happened: "already exists").
_ONE_CALL_AT_A_TIME = threading.Lock()


def _call_action_failing_fast(self: BaseResponse):
    """One call at a time; a call moto lacks: a client error at once (moto's 500 makes SDKs
    retry for minutes)."""
    try:
        with _ONE_CALL_AT_A_TIME:
            return _call_action(self)
    except NotImplementedError as exc:
        print(f"terraml emulator: not emulated: {exc}", file=sys.stderr, flush=True)
        status, headers, body = self.serialized(ActionResult(NotImplementedByEmulator(
            f"the local emulator does not implement this call ({exc})")))
        return 400 if status >= 500 else status, headers, body


def _validate_state_machine_definition(self: StepFunctionResponse) -> str:
    """Step Functions `ValidateStateMachineDefinition` (the provider calls it before a create):
    a definition that is not a JSON object with `StartAt` and `States` fails, with one
    diagnostic; the rest of the Amazon States Language is checked when a run interprets it."""
    try:
        document = json.loads(self._get_param("definition") or "")
    except ValueError as exc:
        problem = f"not JSON: {exc}"
    else:
        missing = [k for k in ("StartAt", "States") if not isinstance(document, dict)
                   or k not in document]
        problem = f"missing {', '.join(missing)}" if missing else ""
    if not problem:
        return json.dumps({"result": "OK", "diagnostics": []})
    return json.dumps({"result": "FAIL", "diagnostics": [
        {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": problem}]})


def _list_state_machine_versions(self: StepFunctionResponse) -> str:
    """Step Functions `ListStateMachineVersions` (the provider reads it after every create), newest
    first as AWS lists them; the `maxResults` page is the whole list (a stack publishes few)."""
    machine = self.stepfunction_backend.describe_state_machine(
        self._get_param("stateMachineArn"))
    versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
    return json.dumps({"stateMachineVersions": [
        {"stateMachineVersionArn": v.arn,
         "creationDate": v.creation_date.replace(tzinfo=timezone.utc).timestamp()}
        for v in versions]})


def install() -> None:
    """Add the calls moto lacks (see the module docstring) to moto's responses."""
    from moto.sagemaker import models as sagemaker_models

    BaseResponse.call_action = _call_action_failing_fast
    sagemaker_models.FakeEndpointConfig.validate_instance_type = _validate_instance_type
    sagemaker_models.FakeSagemakerNotebookInstance.validate_instance_type = \
        _validate_instance_type
    sagemaker_models.ModelPackage.validate_supported_transform_instance_types = \
        staticmethod(_validate_instance_types)
    sagemaker_models.ModelPackage.validate_supported_realtime_inference_instance_types = \
        staticmethod(_validate_instance_types)
    ApplicationAutoScalingResponse.register_scalable_target = _register_target_with_tags
    ApplicationAutoScalingResponse.deregister_scalable_target = _deregister_target_and_tags
    ApplicationAutoScalingResponse.list_tags_for_resource = _scaling_list_tags
    ApplicationAutoScalingResponse.tag_resource = _scaling_tag
    ApplicationAutoScalingResponse.untag_resource = _scaling_untag
    BudgetsResponse.describe_subscribers_for_notification = _describe_subscribers_for_notification
    BudgetsResponse.create_budget = _create_budget_with_tags
    BudgetsResponse.delete_budget = _delete_budget_and_tags
    BudgetsResponse.list_tags_for_resource = _list_tags
    BudgetsResponse.tag_resource = _tag
    BudgetsResponse.untag_resource = _untag
    SageMakerResponse.create_model = _create_model_keeping_isolation
    SageMakerResponse.delete_model_package_group = _delete_model_package_group
    SageMakerResponse.update_endpoint = _update_endpoint
    SageMakerResponse.describe_model = _without_empty(_describe_model, "VpcConfig", "Containers")
    SageMakerResponse.describe_endpoint_config = _without_empty(
        _describe_endpoint_config, "DataCaptureConfig", "AsyncInferenceConfig")
    SageMakerResponse.update_model_package = _update_model_package_keeping_metadata
    S3Response.get_bucket_notification = _get_bucket_notification_with_eventbridge
    StepFunctionResponse.validate_state_machine_definition = _validate_state_machine_definition
    StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions
    FakeBucket.get_permission = _get_permission_over_tls
    mlflow_servers.install()
    pipeline_runs.install()
    events.install()
    model_monitor.install()
    feature_store.install()


def _port(argv: list[str]) -> int:
    for flag in ("-p", "--port"):
        if flag in argv:
            return int(argv[argv.index(flag) + 1])
    return 5000  # moto's default


if __name__ == "__main__":
    install()
    events.run_state_machines(_port(sys.argv[1:]))
    sys.exit(moto_main(sys.argv[1:]))
