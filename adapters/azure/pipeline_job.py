"""The environment's training pipeline as an Azure ML pipeline job (`azure.ai.ml.dsl` with
one `command()` component per step).

Contract: `pipeline_job(spec, target)` returns an unsubmitted `PipelineJob` whose nodes are
prepare (when set) -> train (the train cluster) -> evaluate (when set; its command ends with
the metric gate) -> register (Azure CLI image: a new version of the model with the approval
tag); every node but train runs on its cluster in `target.computes` (the stack's
`pipeline_step_computes`: prepare and evaluate on clusters of their own size). Each step
runs its image with its argv after exporting its step variables as Azure ML paths
(adapters/azure/pipeline_steps.py), as the pipeline's user-assigned identity, with
`MLFLOW_EXPERIMENT_NAME` set when tracking is on (Azure ML points MLflow at the workspace
inside every job). No step is reused from an earlier
run (new data behind the same input path must retrain), and a failed step fails the run, so
a failed gate stops it before register.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from azure.ai.ml import Input, Output, command, dsl
from azure.ai.ml.entities import Environment, ManagedIdentityConfiguration, PipelineJob

from adapters.azure import pipeline_steps as steps
from core.pipeline import Pipeline, Step


@dataclass(frozen=True)
class Target:
    """Where and as whom the pipeline runs (from the stack's outputs and the spec)."""

    name: str  # pipeline_name: the jobs' display name and PIPELINE_TAG
    experiment: str
    workspace_id: str
    identity: str  # pipeline_identity_client_id: the user-assigned identity's client id
    computes: dict[str, str]  # pipeline_step_computes: step -> cluster, every step but train
    train_compute: str  # pipeline_train_compute
    data_uri: str  # the first step's input (the raw data lake container)
    model: str  # the registered model's name
    approval: str  # manual | auto: the new version's approval tag
    max_seconds: int  # the train step's time limit (training.max_runtime_hours)
    tags: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)  # every step's environment


def pipeline_job(spec: Pipeline, target: Target) -> PipelineJob:
    """The pipeline job for `spec` on `target` (see the module docstring)."""
    named = spec.steps.named()
    data = Input(type="uri_folder", path=target.data_uri)
    identity = ManagedIdentityConfiguration(client_id=target.identity)
    approval = "approved" if target.approval == "auto" else "pending"

    @dsl.pipeline(name=target.name, display_name=target.name,
                  experiment_name=target.experiment,
                  default_compute=target.computes["register"])
    def training_pipeline():
        source = data
        nodes = {}
        if "prepare" in named:
            prepare = _component("prepare", named["prepare"], target, {"input": "uri_folder"},
                                 {"output": "uri_folder"})(input=source)
            source = prepare.outputs.output
            nodes["prepare"] = prepare
        train = _component("train", named["train"], target, {"input": "uri_folder"},
                           {"model": "custom_model"})(input=source)
        train.set_limits(timeout=target.max_seconds)
        nodes["train"] = train
        metrics = None
        if "evaluate" in named:
            evaluate = _component("evaluate", named["evaluate"], target,
                                  {"input": "uri_folder", "model": "custom_model"},
                                  {"metrics": "uri_folder"},
                                  steps.evaluate_command(spec.steps.evaluate))(
                input=source, model=train.outputs.model)
            metrics = evaluate.outputs.metrics
            nodes["evaluate"] = evaluate
        register_inputs = {"model": Input(type="custom_model", mode="direct")}
        if metrics is not None:
            register_inputs["metrics"] = Input(type="uri_folder")
        registrar = command(
            name="register", display_name="register", is_deterministic=False,
            environment=Environment(image=steps.REGISTER_IMAGE), inputs=register_inputs,
            command=steps.register_command(target.workspace_id, target.model, approval,
                                           target.name, target.identity, metrics is not None))
        bound = {"model": train.outputs.model}
        if metrics is not None:
            bound["metrics"] = metrics
        register = registrar(**bound)  # a node is named after its variable here
        register.inputs.model.mode = "direct"  # the model's URI, not a mount
        nodes["register"] = register
        _run_as(nodes, identity, target)

    job = training_pipeline()
    job.tags = {**target.tags, steps.PIPELINE_TAG: target.name}
    job.settings.continue_on_step_failure = False
    job.settings.force_rerun = True
    return job


def _run_as(nodes: dict, identity: ManagedIdentityConfiguration, target: Target) -> None:
    """Every node (by step name) runs as the pipeline identity, on its step's cluster."""
    for name, node in nodes.items():
        node.identity = identity
        node.compute = target.train_compute if name == "train" else target.computes[name]


def _component(name: str, step: Step, target: Target, inputs: dict[str, str],
               outputs: dict[str, str], line: str | None = None):
    """One step as a command component: its image, its command with its step variables."""
    return command(
        name=name, display_name=name, is_deterministic=False,
        environment=Environment(image=step.image),
        command=line or steps.step_command(name, step.argv()),
        environment_variables=dict(target.variables),
        inputs={key: Input(type=kind) for key, kind in inputs.items()},
        outputs={key: Output(type=kind) for key, kind in outputs.items()})
