"""Batch compute, training and serving modules, with the capability checks they rely on."""

from __future__ import annotations

from constructs import Construct

from adapters.base import Capability, CloudAdapter, Refs
from core.errors import UserError
from core.spec import Environment
from modules.base import PlatformModule


class Compute(PlatformModule):
    """A CPU batch pool for preprocessing and evaluation jobs, scaling from zero."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, network: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        if not adapter.supports(Capability.BATCH_COMPUTE):
            raise UserError(env.where("compute.enabled",
                                      f"no managed batch pool on {adapter.name}; set false"))
        self.refs = adapter.compute(self, env, network)


class Training(PlatformModule):
    """What a training job needs (identity, output and checkpoint locations, network, key)."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, key: Refs, network: Refs, data: Refs, identity: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        spec = env.training
        if spec.spot and not adapter.supports(Capability.SPOT_TRAINING):
            raise UserError(env.where("training.spot",
                                      f"spot training is not available on {adapter.name}"))
        try:
            adapter.training_machine(spec.accelerator, spec.count, spec.instance_type)
        except UserError as exc:
            raise UserError(env.where("training.count", str(exc))) from None
        self.refs = adapter.training(self, env, key, network, data, identity)


class Serving(PlatformModule):
    """The model endpoint: serverless (scale to zero) or real-time with autoscaling."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, key: Refs, network: Refs, data: Refs, registry: Refs,
                 identity: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        spec = env.serving
        if spec.mode == "serverless":
            # "serverless" is neutral for "pay nothing while idle": a serverless endpoint, or
            # a deployment that stop-idle removes while idle.
            if not (adapter.supports(Capability.SERVERLESS_SERVING)
                    or adapter.supports(Capability.SCALE_TO_ZERO_SERVING)):
                raise UserError(env.where("serving.mode", f"serverless serving is not "
                                          f"available on {adapter.name}; use realtime"))
        elif spec.min_instances == 0:
            # No cloud's runtime deploys a real-time model with 0 replicas (SageMaker, Vertex AI
            # and Azure ML keep one); scaling to zero is what mode: serverless means.
            raise UserError(env.where(
                "serving.min_instances",
                f"real-time endpoints on {adapter.name} keep at least 1 instance; "
                "set min_instances >= 1, or mode: serverless to scale to zero"))
        else:
            try:
                adapter.serving_machine(spec.accelerator, spec.size, spec.instance_type)
            except UserError as exc:
                raise UserError(env.where("serving.accelerator", str(exc))) from None
        self.refs = adapter.serving(self, env, key, network, data, registry, identity)
