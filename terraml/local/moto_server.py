"""The embedded emulator: moto's server plus the few calls terraml's stack needs that
moto does not implement yet: AWS Budgets `DescribeSubscribersForNotification` and
budget tags (`TagResource`, `UntagResource`, `ListTagsForResource`, tags on create),
SageMaker `DeleteModelPackageGroup` and `UpdateEndpoint` (switches at once);
and SageMaker answers shaped like AWS's (a model's `EnableNetworkIsolation` is kept,
and unset `VpcConfig` / `DataCaptureConfig` are omitted instead of returned empty),
without which Terraform sees a change on every plan.

Run as `python -m terraml.local.moto_server -H 127.0.0.1 -p PORT`.
"""

from __future__ import annotations

import json
import sys

from moto.budgets.exceptions import NotFoundException
from moto.budgets.responses import BudgetsResponse
from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse
from moto.server import main as moto_main


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


def install() -> None:
    """Add the missing Budgets calls to moto's Budgets responses."""
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


if __name__ == "__main__":
    install()
    sys.exit(moto_main(sys.argv[1:]))
