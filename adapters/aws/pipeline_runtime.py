"""AWS runtime for continuous training: SageMaker Pipelines executions and the model package
group's approval states (boto3, through `AwsRuntime.sm`).

Terraform creates the pipeline, its schedule and its new-data rule (adapters/aws/pipeline.py),
so `deploy_pipeline` only checks they are in place. Registry versions are the model packages
of the stack's group (`model_registry` output); a version is the package's version number.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from adapters.aws.pipeline_definition import METRIC_PREFIX
from adapters.runtime import (
    APPROVED,
    FAILED,
    PENDING,
    PENDING_APPROVAL,
    REJECTED,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    ModelVersion,
    PipelineRun,
    Progress,
    StepRun,
)
from core.errors import UserError

RUN_STATES = {"Executing": RUNNING, "Stopping": RUNNING, "Stopped": STOPPED,
              "Failed": FAILED, "Succeeded": SUCCEEDED}
STEP_STATES = {"Starting": PENDING, "Executing": RUNNING, "Stopping": RUNNING,
               "Stopped": STOPPED, "Failed": FAILED, "Succeeded": SUCCEEDED}
APPROVAL_STATES = {"PendingManualApproval": PENDING_APPROVAL, "Approved": APPROVED,
                   "Rejected": REJECTED}


class AwsPipelineCalls:
    """Mixed into `AwsRuntime`: the continuous-training half of `CloudRuntime`."""

    def deploy_pipeline(self, progress: Progress) -> str:
        """DescribePipeline: Terraform made the pipeline, schedule and trigger; say so."""
        name = self._pipeline_name()
        found = self.sm("DescribePipeline", PipelineName=name)
        schedule = self.outputs.get("pipeline_schedule") or "none"
        trigger = self.outputs.get("pipeline_trigger") or "none"
        progress(f"pipeline {name}: {found.get('PipelineStatus', 'Active')}")
        return (f"pipeline {name} is in place (Terraform): schedule "
                f"{'none' if schedule == 'none' else schedule + ' UTC'}, new-data trigger "
                f"{trigger}; nothing to upload on AWS")

    def start_pipeline(self) -> PipelineRun:
        """StartPipelineExecution, then the run as it is now."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        started = self.sm("StartPipelineExecution", PipelineName=self._pipeline_name(),
                          PipelineExecutionDisplayName=f"{self.env.prefix}-{stamp}",
                          PipelineExecutionDescription="terraml pipeline run",
                          ClientRequestToken=str(uuid.uuid4()))
        return self.pipeline_run(started["PipelineExecutionArn"])

    def pipeline_run(self, run_id: str) -> PipelineRun:
        """DescribePipelineExecution and ListPipelineExecutionSteps."""
        found = self.sm("DescribePipelineExecution", PipelineExecutionArn=run_id)
        listed = self.sm("ListPipelineExecutionSteps", PipelineExecutionArn=run_id,
                         SortOrder="Ascending").get("PipelineExecutionSteps", [])
        steps = [StepRun(name=step["StepName"],
                         state=STEP_STATES.get(step.get("StepStatus", ""), PENDING),
                         detail=step.get("FailureReason", ""),
                         started=step.get("StartTime"), ended=step.get("EndTime"))
                 for step in listed]
        return PipelineRun(run_id=run_id,
                           state=RUN_STATES.get(found.get("PipelineExecutionStatus", ""),
                                                PENDING),
                           steps=steps, started=found.get("CreationTime"),
                           detail=found.get("FailureReason", ""))

    def pipeline_runs(self, limit: int = 10) -> list[PipelineRun]:
        """ListPipelineExecutions, newest first (steps are left out; `pipeline_run` has them)."""
        found = self.sm("ListPipelineExecutions", PipelineName=self._pipeline_name(),
                        SortBy="CreationTime", SortOrder="Descending", MaxResults=limit)
        return [PipelineRun(run_id=run["PipelineExecutionArn"],
                            state=RUN_STATES.get(run.get("PipelineExecutionStatus", ""), PENDING),
                            steps=[], started=run.get("StartTime"),
                            detail=run.get("PipelineExecutionFailureReason", ""))
                for run in found.get("PipelineExecutionSummaries", [])]

    def model_versions(self) -> list[ModelVersion]:
        """ListModelPackages of the stack's group, then DescribeModelPackage of each."""
        return [self._version(self.sm("DescribeModelPackage",
                                      ModelPackageName=item["ModelPackageArn"]))
                for item in self._packages()]

    def set_approval(self, version: str, approved: bool, reason: str) -> ModelVersion:
        """UpdateModelPackage: ModelApprovalStatus Approved or Rejected, with the reason."""
        arn = self._package_arn(version)
        # ApprovalDescription is always sent: a decision without a reason clears the last one
        self.sm("UpdateModelPackage", ModelPackageArn=arn,
                ModelApprovalStatus="Approved" if approved else "Rejected",
                ApprovalDescription=reason[:1000])
        return self._version(self.sm("DescribeModelPackage", ModelPackageName=arn))

    # -- helpers ------------------------------------------------------------------------

    def _pipeline_name(self) -> str:
        name = self.outputs.get("pipeline_name")
        if not name:
            raise UserError(f"{self.outputs.source}: no pipeline is deployed for "
                            f"{self.env.name}: add a pipeline: section and deploy the stack")
        return name

    def _packages(self) -> list[dict[str, Any]]:
        """ListModelPackages of the stack's group, newest first (summaries)."""
        listed = self.sm("ListModelPackages", ModelPackageGroupName=self.outputs["model_registry"],
                         SortBy="CreationTime", SortOrder="Descending", MaxResults=100)
        return listed.get("ModelPackageSummaryList", [])

    def _package_arn(self, version: str) -> str:
        """The ARN of version `version` of the group, from the summaries (no Describe each)."""
        for item in self._packages():
            if str(item.get("ModelPackageVersion", "")) == version:
                return item["ModelPackageArn"]
        raise UserError(f"--version: {version!r} is not a version of "
                        f"{self.outputs['model_registry']} (terraml models lists them)")

    @staticmethod
    def _version(package: dict[str, Any]) -> ModelVersion:
        containers = package.get("InferenceSpecification", {}).get("Containers", [{}])
        metadata = package.get("CustomerMetadataProperties", {})
        metrics = {}
        for key, value in metadata.items():
            if key.startswith(METRIC_PREFIX):
                try:
                    metrics[key[len(METRIC_PREFIX):]] = float(value)
                except ValueError:
                    continue
        return ModelVersion(
            version=str(package.get("ModelPackageVersion", "")),
            approval=APPROVAL_STATES.get(package.get("ModelApprovalStatus", ""),
                                         PENDING_APPROVAL),
            model_uri=containers[0].get("ModelDataUrl", "") if containers else "",
            model_id=package["ModelPackageArn"], created=package.get("CreationTime"),
            metrics=metrics, detail=package.get("ApprovalDescription", ""))
