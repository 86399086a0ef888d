"""Batch compute, training and serving layers, with the capability checks they rely on."""

from __future__ import annotations

from adapters.base import Capability, CloudAdapter
from core.errors import UserError
from core.props import ComputeProps, ServingProps, TrainingProps
from modules.base import PlatformModule
from modules.layers import layer


@layer("compute", props=ComputeProps, setting="compute.enabled", needs=("network", "identity"),
       enabled=lambda env: env.compute.enabled)
class Compute(PlatformModule):
    """A CPU batch pool for preprocessing and evaluation jobs, scaling from zero.
    Outputs: `batch_queue`."""

    def check(self, adapter: CloudAdapter, props: ComputeProps) -> None:
        if not adapter.supports(Capability.BATCH_COMPUTE):
            raise UserError(props.site.where("compute.enabled",
                                      f"no managed batch pool on {adapter.name}; set false"))


@layer("training", props=TrainingProps, setting="training", needs=("key", "network", "data", "identity"))
class Training(PlatformModule):
    """What a training job needs (identity, output and checkpoint locations, network, key),
    as `training_*` outputs; may create nothing."""

    def check(self, adapter: CloudAdapter, props: TrainingProps) -> None:
        spec, where = props.training, props.site.where
        if spec.spot and not adapter.supports(Capability.SPOT_TRAINING):
            raise UserError(where("training.spot",
                                      f"spot training is not available on {adapter.name}"))
        try:
            adapter.training_machine(spec.accelerator, spec.count, spec.instance_type)
        except UserError as exc:
            raise UserError(where("training.count", str(exc))) from None


@layer("serving", props=ServingProps, setting="serving.enabled",
       needs=("key", "network", "data", "registry", "identity"),
       enabled=lambda env: env.serving.enabled)
class Serving(PlatformModule):
    """The model endpoint: serverless (scale to zero) or real-time with autoscaling.
    Outputs: `endpoint_name`, `serving_mode`, `serving_instance_type`."""

    def check(self, adapter: CloudAdapter, props: ServingProps) -> None:
        spec, where = props.serving, props.site.where
        if spec.mode == "serverless":
            # "serverless" is neutral for "pay nothing while idle": a serverless endpoint, or
            # a deployment that stop-idle removes while idle.
            if not (adapter.supports(Capability.SERVERLESS_SERVING)
                    or adapter.supports(Capability.SCALE_TO_ZERO_SERVING)):
                raise UserError(where("serving.mode", f"serverless serving is not "
                                          f"available on {adapter.name}; use realtime"))
        elif spec.min_instances == 0:
            # No cloud's runtime deploys a real-time model with 0 replicas (SageMaker, Vertex AI
            # and Azure ML keep one); scaling to zero is what mode: serverless means.
            raise UserError(where(
                "serving.min_instances",
                f"real-time endpoints on {adapter.name} keep at least 1 instance; "
                "set min_instances >= 1, or mode: serverless to scale to zero"))
        else:
            try:
                adapter.serving_machine(spec.accelerator, spec.size, spec.instance_type)
            except UserError as exc:
                raise UserError(where("serving.accelerator", str(exc))) from None
