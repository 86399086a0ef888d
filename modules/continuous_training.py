"""Continuous training layers: experiment tracking, and the pipeline (prepare -> train ->
evaluate gate -> register pending approval) with its schedule and new-data trigger."""

from __future__ import annotations

from adapters.base import CloudAdapter
from core.errors import UserError
from core.pipeline import bucket_problem
from core.props import PipelineProps, TrackingProps
from modules.base import PlatformModule
from modules.layers import layer


@layer("tracking", props=TrackingProps, setting="tracking.enabled",
       needs=("key", "data", "identity"), enabled=lambda env: env.tracking.enabled)
class Tracking(PlatformModule):
    """Experiment tracking the training jobs and pipeline steps report to.
    Outputs: `tracking_uri`, `tracking_experiment`."""


@layer("pipeline", props=PipelineProps, setting="pipeline",
       needs=("key", "network", "data", "registry", "identity", "monitoring"),
       uses=("tracking",), enabled=lambda env: env.pipeline is not None)
class Pipeline(PlatformModule):
    """The training pipeline, its schedule and new-data trigger, and the identity that runs it.
    Outputs: `pipeline_name`, `pipeline_schedule`, `pipeline_trigger`, `pipeline_role`,
    `pipeline_approval`."""

    def check(self, adapter: CloudAdapter, props: PipelineProps) -> None:
        spec, where = props.pipeline, props.site.where
        problem = bucket_problem(spec, props.data)
        if problem:
            raise UserError(where("pipeline.on_new_data", problem))
        train = spec.steps.train
        limit = props.training.max_runtime_hours
        if train.hours > limit:
            raise UserError(where("pipeline.steps.train.hours",
                                  f"expected at most training.max_runtime_hours ({limit:g}), "
                                  f"found {train.hours:g}"))
        try:
            adapter.train_step_machine(train, props.training)
        except UserError as exc:
            raise UserError(where("pipeline.steps.train", str(exc))) from None

