"""The environment's `pipeline:` section as a Kubeflow Pipelines (kfp v2) template for Vertex AI.

Contract: `compile_template(env, target)` returns `(yaml_text, spec)`: the compiled template as
uploaded to the KFP repository and the same pipeline spec as a dict (a PipelineJob's
`pipelineSpec`). Compiling makes no network call. The DAG, in order (each task's caching off,
so every run reads the data as it is now):

- `prepare` (if set): the step's image and command on its CPU size; TERRAML_INPUT is the raw
  bucket (/gcs/<bucket>/), TERRAML_OUTPUT its output dataset.
- `train`: a launcher in the google-cloud-cli image creates the step as a Vertex AI custom
  job — the step's machine and accelerators, Spot when training.spot, a timeout of
  training.max_runtime_hours, the training service account, the VPC and the CMEK key — and
  waits for it (adapters/gcp/pipeline_steps.py `train`). TERRAML_INPUT is prepare's output
  (else the raw bucket), TERRAML_MODEL_DIR the model artifact.
- `evaluate` (if set): TERRAML_INPUT, TERRAML_MODEL_DIR (the trained model) and
  TERRAML_METRICS_FILE (`<output>/evaluation.json`, core.pipeline.METRICS_FILE).
- `gate` (with evaluate): reads the report and outputs the gate metric and all metrics.
- `register`: inside `dsl.If(metric >= min)` (and `<= max`) when evaluate has a gate; uploads
  the model artifact as a new version of the environment's registry model with the train
  step's image as its serving container, the approval label (`APPROVAL_KEY`: pending for
  manual approval, approved for auto) and alias (`pending` / `approved`), CMEK, and the
  metrics in the version description.

User steps run `sh -c` around their command (to export the step variables and create the
output directories), so their images need `sh`. Tracking variables, when tracking is on, are
set on every user step and on the custom job.
"""

# No `from __future__ import annotations`: kfp reads the component signatures' types.
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kfp import compiler, dsl

from adapters.gcp.machines import GcpMachines
from adapters.runtime import APPROVAL_KEY, APPROVED, PENDING_APPROVAL
from core.pipeline import METRICS_FILE, STEP_VARIABLES, CpuStep, EvaluateStep
from core.spec import Environment

# Google's own image with gcloud and python3, for terraml's steps (gate, train launcher,
# register): they need only the standard library and the metadata server's token.
CLI_IMAGE = "gcr.io/google.com/cloudsdktool/google-cloud-cli:slim"
STEPS_SOURCE = Path(__file__).with_name("pipeline_steps.py")


@dataclass(frozen=True)
class Target:
    """What the template is compiled against: the deployed stack's values."""

    name: str  # pipeline_name: the pipeline's and the runs' name
    parent: str  # projects/<project>/locations/<region>
    raw_uri: str  # gs://<raw bucket>/ : what prepare (or train) reads
    training_role: str  # the train custom job's service account
    network: str  # projects/<number>/global/networks/<vpc>
    kms_key: str
    model: str  # the registry model: projects/.../models/<id>
    output_uri: str  # gs://.../ under which custom jobs write their own output
    labels: dict[str, str] = field(default_factory=dict)
    tracking: dict[str, str] = field(default_factory=dict)  # CloudRuntime.tracking_variables()
    tensorboard: str = ""  # tracking_uri: the custom job streams TensorBoard logs to it


def compile_template(env: Environment, target: Target) -> tuple[str, dict[str, Any]]:
    """The compiled template (YAML text) and its pipeline spec (dict)."""
    pipeline_func = _pipeline(env, target)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline_func=pipeline_func, package_path=str(path))
        text = path.read_text()
    return text, yaml.safe_load(text)


def _wrapper(names: tuple[str, ...], outputs: tuple[int, ...], metrics: int | None = None) -> str:
    """`sh -c` text exporting the step variables from its first arguments, making the output
    directories, then running the step's own command."""
    values = [f'{name}="${i + 1}"' for i, name in enumerate(names)]
    if metrics is not None:
        values[metrics] = f'{names[metrics]}="${metrics + 1}/{METRICS_FILE}"'
    dirs = " ".join(f'"${i + 1}"' for i in outputs)
    return f'export {" ".join(values)} && mkdir -p {dirs} && shift {len(names)} && exec "$@"'


def _limits(task: dsl.PipelineTask, machine_type: str) -> None:
    """CPU and memory of an e2-standard-N machine (what CPU sizes map to) as task limits."""
    cpus = int(machine_type.rsplit("-", 1)[1])
    task.set_cpu_limit(str(cpus)).set_memory_limit(f"{4 * cpus}G")


def _user_task(task: dsl.PipelineTask, step: CpuStep, target: Target) -> dsl.PipelineTask:
    _limits(task, GcpMachines().cpu_machine(step.size))
    for name, value in target.tracking.items():
        task.set_env_variable(name, value)
    return task.set_caching_options(False)


def _own_task(task: dsl.PipelineTask) -> dsl.PipelineTask:
    return task.set_cpu_limit("1").set_memory_limit("4G").set_caching_options(False)


def _steps_command(command: str) -> list[str]:
    return ["python3", "-c", STEPS_SOURCE.read_text(), command]


def _train_job(env: Environment, target: Target) -> str:
    """The train step's CustomJob body (the launcher adds paths, name and run label)."""
    assert env.pipeline is not None
    step = env.pipeline.steps.train
    machine = GcpMachines().train_step_machine(step, env.training)
    spec: dict[str, Any] = {"machineType": machine.instance_type}
    if machine.accelerator_type:
        spec.update(acceleratorType=machine.accelerator_type, acceleratorCount=machine.count)
    wrap = 'mkdir -p "$TERRAML_MODEL_DIR" && exec "$@"'
    container = {"imageUri": step.image, "command": ["sh", "-c", wrap, "terraml-train"],
                 "args": step.argv(),
                 "env": [{"name": k, "value": v} for k, v in target.tracking.items()]}
    job_spec: dict[str, Any] = {
        "workerPoolSpecs": [{"machineSpec": spec, "replicaCount": "1",
                             "containerSpec": container}],
        "serviceAccount": target.training_role, "network": target.network,
        "scheduling": {"timeout": f"{int(env.training.max_runtime_hours * 3600)}s",
                       "strategy": "SPOT" if env.training.spot else "STANDARD"},
        "baseOutputDirectory": {"outputUriPrefix": f"{target.output_uri.rstrip('/')}/"
                                                   "pipeline-train/"}}
    if target.tensorboard:
        job_spec["tensorboard"] = target.tensorboard
    return json.dumps({"labels": target.labels, "jobSpec": job_spec,
                       "encryptionSpec": {"kmsKeyName": target.kms_key}})


def _register_args(env: Environment, target: Target) -> list[str]:
    assert env.pipeline is not None
    auto = env.pipeline.registration.approval == "auto"
    state = APPROVED if auto else PENDING_APPROVAL
    labels = {**target.labels, APPROVAL_KEY: state}
    return [target.model, target.model.rsplit("/", 1)[1], env.pipeline.steps.train.image,
            target.kms_key, json.dumps(labels, sort_keys=True), state]


def _train(target: Target, train_job: str, prepared: bool):
    """The `train` launcher component (reading prepare's dataset or the raw bucket)."""
    def spec(source: Any, model: Any) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(image=CLI_IMAGE, command=_steps_command("train"),
                                 args=[target.parent, train_job, source, model,
                                       dsl.PIPELINE_JOB_NAME_PLACEHOLDER])
    if prepared:
        @dsl.container_component
        def train(data: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]):
            return spec(data.uri, model.uri)
    else:
        @dsl.container_component
        def train(model: dsl.Output[dsl.Model]):
            return spec(target.raw_uri, model.uri)
    return train


def _evaluate(step: CpuStep, raw: str, prepared: bool):
    """The `evaluate` component: the step's image, with its three step variables."""
    names = STEP_VARIABLES["evaluate"]
    command = ["sh", "-c", _wrapper(names, (2,), metrics=2), "terraml-evaluate"]

    def spec(source: Any, model: Any, evaluation: Any) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(image=step.image, command=command,
                                 args=[source, model, evaluation, *step.argv()])
    if prepared:
        @dsl.container_component
        def evaluate(data: dsl.Input[dsl.Dataset], model: dsl.Input[dsl.Model],
                     evaluation: dsl.Output[dsl.Artifact]):
            return spec(data.path, model.path, evaluation.path)
    else:
        @dsl.container_component
        def evaluate(model: dsl.Input[dsl.Model], evaluation: dsl.Output[dsl.Artifact]):
            return spec(raw, model.path, evaluation.path)
    return evaluate


def _prepare(step: CpuStep, raw: str):
    """The `prepare` component: the step's image reading the raw bucket."""
    command = ["sh", "-c", _wrapper(STEP_VARIABLES["prepare"], (1,)), "terraml-prepare"]

    @dsl.container_component
    def prepare(data: dsl.Output[dsl.Dataset]):
        return dsl.ContainerSpec(image=step.image, command=command,
                                 args=[raw, data.path, *step.argv()])
    return prepare


def _gate(step: EvaluateStep):
    """The `gate` component: the evaluate report's gate metric (a float) and all metrics."""
    bounds = ["" if v is None else repr(float(v)) for v in (step.min, step.max)]

    @dsl.container_component
    def gate(evaluation: dsl.Input[dsl.Artifact], metric: dsl.OutputPath(float),
             metrics: dsl.OutputPath(str)):
        return dsl.ContainerSpec(image=CLI_IMAGE, command=_steps_command("gate"),
                                 args=[evaluation.path, METRICS_FILE, step.metric or "",
                                       *bounds, metric, metrics])
    return gate


def _register(env: Environment, target: Target):
    """The `register` component: a new Model Registry version of the trained model."""
    args = _register_args(env, target)

    @dsl.container_component
    def register(model: dsl.Input[dsl.Model], metrics: str):
        return dsl.ContainerSpec(image=CLI_IMAGE, command=_steps_command("register"),
                                 args=[*args[:2], model.uri, *args[2:], metrics,
                                       dsl.PIPELINE_JOB_NAME_PLACEHOLDER])
    return register


def _pipeline(env: Environment, target: Target):
    assert env.pipeline is not None
    steps = env.pipeline.steps
    raw = "/gcs/" + target.raw_uri.removeprefix("gs://")
    prepare = _prepare(steps.prepare, raw) if steps.prepare else None
    train = _train(target, _train_job(env, target), steps.prepare is not None)
    evaluate = _evaluate(steps.evaluate, raw, steps.prepare is not None) \
        if steps.evaluate else None
    gate = _gate(steps.evaluate) if steps.evaluate else None
    register = _register(env, target)

    @dsl.pipeline(name=target.name, description=f"terraml {env.name}: "
                  f"{' -> '.join(steps.named())} -> register")
    def training_pipeline():
        inputs = {}
        if prepare is not None:
            inputs["data"] = _user_task(prepare(), steps.prepare, target).outputs["data"]
        model = _own_task(train(**inputs)).outputs["model"]
        if evaluate is None or gate is None:
            _own_task(register(model=model, metrics="{}"))
            return
        evaluated = _user_task(evaluate(model=model, **inputs), steps.evaluate, target)
        gated = _own_task(gate(evaluation=evaluated.outputs["evaluation"]))
        _gated_register(lambda: _own_task(register(model=model,
                                                   metrics=gated.outputs["metrics"])),
                        gated.outputs["metric"], steps.evaluate)

    return training_pipeline


def _gated_register(register: Callable[[], object], value: Any, step: EvaluateStep) -> None:
    """`register()` inside `dsl.If(value >= min)` and/or `dsl.If(value <= max)`."""
    if step.min is not None and step.max is not None:
        with dsl.If(value >= step.min, name="metric-gate"), \
                dsl.If(value <= step.max, name="metric-gate-max"):
            register()
    elif step.min is not None:
        with dsl.If(value >= step.min, name="metric-gate"):
            register()
    elif step.max is not None:
        with dsl.If(value <= step.max, name="metric-gate"):
            register()
    else:
        register()
