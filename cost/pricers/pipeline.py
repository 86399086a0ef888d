"""A training pipeline's runs are not Terraform resources (on GCP and Azure nothing of the
pipeline is): terraml prices the step records the stack writes (stacks/workloads.py: machine,
spot, hours per run, runs a month from the schedule) at each cloud's machine rates, plus the
cloud's per-run orchestration fee where the catalog has one.

Contract: `price_pipeline(project, ctx)` returns one `ResourceCost` per step
(`terraml_pipeline_steps.<project>.<step>`: hours per run x runs a month at the step's rate,
GPUs apart where the cloud bills them apart), one `terraml_pipeline_runs.<project>` for the
per-run fee when the catalog has a figure for it, or, for a plan of a stack with a pipeline
(plans drop the step records), one unpriced entry saying so. `pipeline_assumptions(project,
priced)` and `tracking_assumptions(project)` are the lines every report states about them.
"""

from __future__ import annotations

from cost.inputs import Project
from cost.machine_rates import NoRate, machine_rate
from cost.model import ResourceCost
from cost.pricers import PricingContext, component
from cost.workloads import Workload, pipeline_steps

STEP_TYPE = "terraml_pipeline_steps"
RUNS_TYPE = "terraml_pipeline_runs"

# The per-run orchestration fee: (service, sku) in each cloud's catalog ("request" rows, per
# run). A cloud without a row has it stated as not included, with why (NO_RUN_FEE).
RUN_FEE = {"aws": ("sagemaker-pipelines", "pipeline run"),
           "gcp": ("vertex-ai-pipelines", "pipeline run"),
           "azure": ("machine-learning", "pipeline run")}
NO_RUN_FEE = {
    "aws": "SageMaker Pipelines adds no orchestration charge (AWS SageMaker FAQ: you pay only "
           "for the underlying compute); only the steps' jobs are priced",
    "azure": "no per-run fee for Azure ML pipeline jobs is in the catalog (no Azure ML surcharge "
             "on top of VM rates was verified either way); only the steps' compute is priced",
}
# Outputs a terraml stack with a pipeline has (core/outputs.py); a plan keeps them.
PIPELINE_OUTPUTS = ("pipeline_name", "pipeline_schedule")

# What experiment tracking bills on each cloud, stated whenever the stack records tracking on.
TRACKING = {
    "aws": "the SageMaker managed MLflow tracking server ({size}) bills every hour of the "
           "month, idle or not (aws_sagemaker_mlflow_tracking_server)",
    "gcp": "Vertex AI Experiments bills nothing while idle; a Vertex AI TensorBoard instance, "
           "where the stack creates one, bills only its stored data",
    "azure": "MLflow through the Azure ML workspace's own tracking URI bills nothing beyond "
             "the workspace (catalog: Azure ML workspace, no charge); logged artifacts are "
             "stored in the workspace's storage account, priced there",
}


def purpose(work: Workload) -> str:
    """The train step runs as a training job; the CPU steps as processing jobs (SageMaker
    Processing on AWS, custom jobs on Vertex AI, cluster jobs on Azure ML)."""
    return "training" if work.trains else "processing"


def price_step(work: Workload, ctx: PricingContext) -> ResourceCost:
    """Hours per run x runs a month at the step's machine rate (and its GPUs', where billed
    apart); spot at the cloud's spot/low-priority rate."""
    cost = ResourceCost(work.address, STEP_TYPE)
    try:
        parts = machine_rate(ctx.catalog, work.cloud, purpose(work), work.instance_type or "",
                             work.region, spot=work.spot, accelerator_type=work.accelerator_type,
                             gpus=work.gpus)
    except NoRate as missing:
        cost.unpriced_reason = f"pipeline step {work.step}: {missing}"
        return cost
    hours = work.hours_per_run * work.runs_per_month
    usage = f"{work.hours_per_run:g} h/run x {work.runs_per_month:g} runs/month"
    for index, part in enumerate(parts):
        name = (f"Pipeline step {work.step} ({part.label})" if index == 0
                else f"Pipeline step {work.step} GPUs ({part.label})")
        note = "; ".join(n for n in (usage, part.note) if n)
        cost.components.append(component(name, "hours", hours * part.quantity, part.price,
                                         note, part.stand_in))
    return cost


def run_fee(project: Project, steps: list[Workload], ctx: PricingContext) -> ResourceCost | None:
    """The cloud's per-run fee x runs a month, or None when the catalog has no figure."""
    first = steps[0]
    sku = RUN_FEE.get(first.cloud)
    price = ctx.catalog.price(first.cloud, *sku, first.region, "request") if sku else None
    if price is None:
        return None
    return ResourceCost(f"{RUNS_TYPE}.{project.name}", RUNS_TYPE, [component(
        "Pipeline runs (orchestration fee)", "runs", first.runs_per_month, price,
        f"{first.runs_per_month:g} runs/month")])


def price_pipeline(project: Project, ctx: PricingContext) -> list[ResourceCost]:
    steps = pipeline_steps(project)
    if not steps:
        if any(name in project.outputs for name in PIPELINE_OUTPUTS):
            return [ResourceCost(f"{STEP_TYPE}.{project.name}", STEP_TYPE, unpriced_reason=(
                "a terraform plan drops terraml's pipeline step records (machines, hours per "
                "run, runs a month); price the synthesized stack (cdktf.out) for the pipeline"))]
        return []
    priced = [price_step(work, ctx) for work in steps]
    fee = run_fee(project, steps, ctx)
    return priced + ([fee] if fee else [])


def pipeline_assumptions(project: Project, priced: list[ResourceCost]) -> list[str]:
    """Runs a month and where that figure comes from; each step's hours and capacity; the run
    fee when it is not priced, and why."""
    steps = pipeline_steps(project)
    if not steps:
        return []
    first = steps[0]
    source = first.runs_source or "the environment"
    found = [f"pipeline: {first.runs_per_month:g} runs/month, from {source}",
             "pipeline steps (hours per run from pipeline.steps.<step>.hours): " +
             "; ".join(_describe(w) for w in steps) +
             "; the train step follows training.spot, the CPU steps run on-demand; only these "
             "steps are priced, not the small tasks a cloud's pipeline adds around them "
             "(metric gate, model registration, a launcher waiting on the train job)"]
    if not any(r.type == RUNS_TYPE for r in priced):
        found.append("pipeline run fee: " + NO_RUN_FEE.get(
            first.cloud, "no per-run fee figure in the catalog: not included"))
    return found


def _describe(work: Workload) -> str:
    gpus = f" ({work.gpus} GPU{'s' if work.gpus > 1 else ''})" if work.gpus else ""
    capacity = "spot/low-priority" if work.spot else "on-demand"
    return f"{work.step} {work.hours_per_run:g} h on {work.instance_type}{gpus}, {capacity}"


def tracking_assumptions(project: Project) -> list[str]:
    tracking = project.usage.get("tracking")
    if not isinstance(tracking, dict) or not tracking.get("enabled"):
        return []
    template = TRACKING.get(str(tracking.get("cloud") or ""))
    if template is None:
        return []
    size = str(tracking.get("size") or "small").capitalize()
    return ["tracking: " + template.format(size=size)]
