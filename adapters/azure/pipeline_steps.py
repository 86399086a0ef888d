"""What the Azure ML training pipeline runs, shared by the stack and the runtime: the names
both sides use and each step's command line. No SDK or CDK code here.

Contract:
- `pipeline_name`, `model_name`, `experiment_name` name the pipeline (its jobs' tag and its
  schedule), the registered model and the Azure ML experiment its jobs (and their MLflow
  runs) land in; the stack's outputs and the runtime compute the same values.
- `step_command(step, argv)` exports the step's `STEP_VARIABLES` (core/pipeline.py) as the
  Azure ML input/output paths (`${{inputs.x}}` / `${{outputs.y}}`), then runs `argv`.
- `gate_program(step)` is a Python program (stdlib only) that reads `METRICS_FILE` and exits
  1 when the metric is missing, below `min` or above `max`: the evaluate step runs it after
  the user's command, so a failed gate fails the pipeline before the register step.
- `register_command(...)` is the register step: in the Azure CLI image it logs in as the
  pipeline's managed identity and PUTs a new version of the model (the train step's output,
  passed by URI) with the approval tag, the stage and the evaluate step's numeric metrics as
  tags, through ARM (`az rest`, no CLI extension to install).
"""

from __future__ import annotations

import shlex

from adapters.runtime import APPROVAL_KEY
from core.pipeline import METRICS_FILE, STEP_VARIABLES, EvaluateStep, Tracking

# The register step's image: the Azure CLI (>= 2.69 has `az login --identity --client-id`).
REGISTER_IMAGE = "mcr.microsoft.com/azure-cli:2.70.0"
MODELS_API_VERSION = "2024-04-01"
# Tags terraml keeps on a model version (besides APPROVAL_KEY and the metrics).
PIPELINE_TAG = "terraml-pipeline"  # on pipeline jobs and model versions: the pipeline's name
RUN_TAG = "terraml-run"  # on model versions: the register step's run id
REASON_TAG = "terraml-reason"  # on model versions: the reason given for approve / reject
# Why `pipeline.on_new_data` is refused (by the stack and the runtime).
NO_NEW_DATA = ("a new-data trigger is not available on azure (Azure ML schedules are "
               "time-based); use schedule")
# Azure ML model stages for each neutral approval state.
STAGES = {"pending": "Development", "approved": "Production", "rejected": "Archived"}
# Where each step's variables point, as Azure ML input/output names of the step.
_PATHS = {
    "TERRAML_INPUT": "${{inputs.input}}",
    "TERRAML_OUTPUT": "${{outputs.output}}",
    "TERRAML_MODEL_DIR": "${{outputs.model}}",
    "TERRAML_METRICS_FILE": "${{outputs.metrics}}/" + METRICS_FILE,
}
_EVALUATE_PATHS = {**_PATHS, "TERRAML_MODEL_DIR": "${{inputs.model}}"}
_BODY_FILE = "/tmp/terraml-model-version.json"


def pipeline_name(prefix: str) -> str:
    return f"{prefix}-training"


def model_name(prefix: str) -> str:
    return f"{prefix}-model"


def experiment_name(env_name: str, tracking: Tracking) -> str:
    """The Azure ML experiment (= MLflow experiment) of the pipeline's jobs."""
    return tracking.experiment or env_name


def tracking_uri(region: str, workspace_id: str) -> str:
    """The workspace's MLflow tracking URI in its documented form."""
    return f"azureml://{region}.api.azureml.ms/mlflow/v1.0{workspace_id}"


def step_variables(step: str) -> dict[str, str]:
    """The step's `STEP_VARIABLES` -> the Azure ML path expression each one holds."""
    paths = _EVALUATE_PATHS if step == "evaluate" else _PATHS
    return {name: paths[name] for name in STEP_VARIABLES[step]}


def _exports(variables: dict[str, str]) -> str:
    return "export " + " ".join(f'{name}="{value}"' for name, value in variables.items())


def step_command(step: str, argv: list[str]) -> str:
    """`export <step variables> && <argv>` (a shell line Azure ML fills in)."""
    return f"{_exports(step_variables(step))} && {shlex.join(argv)}"


def gate_program(step: EvaluateStep) -> str:
    """Python (stdlib) that exits 1 unless `step.metric` in $TERRAML_METRICS_FILE is a number
    within [min, max]; it prints one line saying why."""
    return (
        "import json,os,sys;"
        f"m,lo,hi={step.metric!r},{step.min!r},{step.max!r};"
        "p=os.environ['TERRAML_METRICS_FILE'];"
        "d=json.load(open(p)) if os.path.isfile(p) else {};"
        "v=d.get(m) if isinstance(d,dict) else None;"
        "n=isinstance(v,(int,float)) and not isinstance(v,bool);"
        "ok=n and (lo is None or v>=lo) and (hi is None or v<=hi);"
        "why='passed' if ok else ('not registered: '+(f'{m}={v} is outside [{lo}, {hi}]' "
        "if n else f'{p} has no number {m!r}'));"
        "print(f'terraml gate: {m}: {why}',file=sys.stderr);"
        "sys.exit(0 if ok else 1)")


def evaluate_command(step: EvaluateStep) -> str:
    """The evaluate step: the user's command, then the gate when the step has one."""
    line = step_command("evaluate", step.argv())
    if step.metric:
        line += f" && python3 -c {shlex.quote(gate_program(step))}"
    return line


def register_program(workspace_id: str, model: str, approval: str, pipeline: str) -> str:
    """Python (stdlib) that writes the model version's ARM body to a file and prints its URL:
    version = UTC time of registration, tags = the metrics file's numbers + terraml's tags."""
    base = f"https://management.azure.com{workspace_id}/models/{model}/versions/"
    return (
        "import json,os,sys,time;"
        "p=os.environ.get('TERRAML_METRICS_FILE','');"
        "d=json.load(open(p)) if p and os.path.isfile(p) else {};"
        "t={str(k)[:250]:str(v) for k,v in (d.items() if isinstance(d,dict) else ()) "
        "if isinstance(v,(int,float)) and not isinstance(v,bool)};"
        f"t.update({{{APPROVAL_KEY!r}:{approval!r},{PIPELINE_TAG!r}:{pipeline!r},"
        f"{RUN_TAG!r}:os.environ.get('AZUREML_RUN_ID','')}});"
        "b={'properties':{'modelUri':os.environ['TERRAML_MODEL_URI'],"
        f"'modelType':'custom_model','stage':{STAGES[approval]!r},'tags':t,"
        f"'description':'registered by the terraml pipeline {pipeline}'}}}};"
        f"json.dump(b,open({_BODY_FILE!r},'w'));"
        "print(" + repr(base) + "+time.strftime('%Y%m%d%H%M%S',time.gmtime())"
        f"+'?api-version={MODELS_API_VERSION}')")


def register_command(workspace_id: str, model: str, approval: str, pipeline: str,
                     client_id: str, metrics: bool) -> str:
    """The register step's shell line (Azure CLI image): log in as the pipeline identity
    (its client id: the form every managed-identity endpoint, Azure ML compute's included,
    accepts), build the version's body, PUT it."""
    variables = {"TERRAML_MODEL_URI": "${{inputs.model}}"}
    if metrics:
        variables["TERRAML_METRICS_FILE"] = "${{inputs.metrics}}/" + METRICS_FILE
    program = register_program(workspace_id, model, approval, pipeline)
    return (f"{_exports(variables)}"
            f" && az login --identity --client-id {shlex.quote(client_id)} --output none"
            f" && url=$(python3 -c {shlex.quote(program)})"
            f' && az rest --method put --url "$url" --body @{_BODY_FILE} --output none'
            ' && echo "terraml: registered $url"')
