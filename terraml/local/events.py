"""EventBridge in the embedded emulator: the deliveries and events terraml's rules rely on,
which moto lacks.

- Rule targets moto does not deliver to: a SageMaker pipeline (a start with the target's
  `SageMakerPipelineParameters`, walked as `terraml.local.pipeline_runs` describes), an SNS
  topic (Publish of the event, or of the target's `Input` / `InputTransformer` result) and a
  Step Functions state machine (an execution with that payload as input, which moto runs when
  `STATE_MACHINES_RUN` is installed: its `aws-sdk` tasks call this emulator). Moto raises
  NotImplementedError for these and, on an S3 event, silently skips the rules after it.
  Other targets keep moto's own delivery.
- SageMaker events on the default bus: `SageMaker Model Building Pipeline Execution Status
  Change` when an emulated execution finishes, and `SageMaker Model Package State Change` when
  a model package is created or its approval status changes (any caller).
- S3 `Object Created` events are moto's (for buckets with EventBridge notifications on), so a
  new object under a pipeline's `on_new_data` prefix starts the pipeline.

Not emulated: schedules firing (EventBridge Scheduler stores them only), retries, dead-letter
queues, delivery to any other target type moto lacks.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from moto.events.models import Rule, events_backends
from moto.events.utils import EventTemplateParser
from moto.sagemaker.models import SageMakerModelBackend
from moto.utilities.arns import parse_arn

from terraml.local import pipeline_runs

PIPELINE_STATUS = "SageMaker Model Building Pipeline Execution Status Change"
PACKAGE_STATE = "SageMaker Model Package State Change"

_send = Rule.send_to_targets
_create_package = SageMakerModelBackend.create_model_package
_update_package = SageMakerModelBackend.update_model_package


def _payload(target: dict[str, Any], event: dict[str, Any], transform: bool) -> str:
    if target.get("Input"):
        return target["Input"]
    transformer = target.get("InputTransformer") or {}
    if transform and transformer:
        parsed = EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                           input_paths_map=transformer.get("InputPathsMap", {}),
                                           event=event)
        return parsed if isinstance(parsed, str) else json.dumps(parsed)
    return json.dumps(event, default=str)


def _send_to_targets(self: Rule, original_event: dict[str, Any],
                     transform_input: bool = True) -> None:
    """Moto's delivery, plus SageMaker pipeline and SNS targets."""
    if not self.event_pattern.matches_event(original_event):
        return
    others = []
    for target in self.targets:
        arn = parse_arn(target["Arn"])
        if arn.service == "sagemaker" and arn.resource_type == "pipeline":
            from moto.sagemaker.models import sagemaker_backends

            parameters = (target.get("SageMakerPipelineParameters") or {}).get(
                "PipelineParameterList")
            pipeline_runs.start_pipeline(sagemaker_backends[arn.account][arn.region],
                                         arn.resource_id, parameters,
                                         f"started by EventBridge rule {self.name}")
        elif arn.service == "states":
            from moto.stepfunctions.responses import get_backend

            get_backend(arn.account, arn.region).start_execution(
                target["Arn"], name=str(uuid.uuid4()),  # as EventBridge does: moto's
                #                    interpreter would name every execution "None"
                execution_input=_payload(target, original_event, transform_input))
        elif arn.service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[arn.account][arn.region].publish(
                _payload(target, original_event, transform_input), arn=target["Arn"])
        else:
            others.append(target)
    if others:
        handled, self.targets = self.targets, others
        try:
            _send(self, original_event, transform_input)
        finally:
            self.targets = handled


def emit(account: str, region: str, detail_type: str, detail: dict[str, Any],
         resources: list[str]) -> None:
    """Put an `aws.sagemaker` event on the default bus (its rules deliver it)."""
    events_backends[account][region].put_events([{
        "Source": "aws.sagemaker", "DetailType": detail_type, "Detail": json.dumps(detail),
        "Resources": resources}])


def _pipeline_finished(backend: SageMakerModelBackend, pipeline_arn: str,
                       run: pipeline_runs.Run) -> None:
    emit(backend.account_id, backend.region_name, PIPELINE_STATUS, {
        "pipelineArn": pipeline_arn, "pipelineExecutionArn": run.arn,
        "currentPipelineExecutionStatus": run.status,
        "previousPipelineExecutionStatus": "Executing"}, [pipeline_arn, run.arn])


def _package_event(backend: SageMakerModelBackend, arn: str) -> None:
    package = backend.model_packages.get(arn)
    if package is None:
        return
    emit(backend.account_id, backend.region_name, PACKAGE_STATE, {
        "ModelPackageGroupName": package.model_package_group_name,
        "ModelPackageVersion": package.model_package_version, "ModelPackageArn": arn,
        "ModelApprovalStatus": package.model_approval_status}, [arn])


def _create_package_and_emit(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
    arn = _create_package(self, *args, **kwargs)
    _package_event(self, arn)
    return arn


def _update_package_and_emit(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
    arn = _update_package(self, *args, **kwargs)
    if kwargs.get("model_approval_status") or (len(args) > 1 and args[1]):
        _package_event(self, arn)
    return arn


def run_state_machines(port: int) -> None:
    """Make moto run state machine executions (its Step Functions interpreter) with their
    service calls sent to this emulator on `port`."""
    from moto.core.config import default_user_config

    os.environ["MOTO_PORT"] = str(port)  # where moto's interpreter sends `aws-sdk` tasks
    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True


def install() -> None:
    Rule.send_to_targets = _send_to_targets
    SageMakerModelBackend.create_model_package = _create_package_and_emit
    SageMakerModelBackend.update_model_package = _update_package_and_emit
    if _pipeline_finished not in pipeline_runs.LISTENERS:
        pipeline_runs.LISTENERS.append(_pipeline_finished)
