"""Drift monitoring runs are not Terraform resources (on GCP and Azure the monitor is created at
run time; on AWS the schedule and its job definition bill nothing themselves): terraml prices
the `monitoring_job` record the stack writes (stacks/workloads.py: machine, hours per run, runs
a month from the schedule) at the cloud's machine rate for processing jobs, as pipeline steps
are (SageMaker Processing, Vertex AI custom jobs, Azure ML VM rates), on-demand.

Contract: `price_monitoring(project, ctx)` returns one `ResourceCost` per record
(`terraml_monitoring_jobs.<project>`), unpriced with the reason when the catalog has no rate for
its machine; for a plan of a stack with drift monitoring (plans drop the record), one unpriced
entry saying so. `monitoring_assumptions(project)` states runs and hours in every report.
"""

from __future__ import annotations

from cost.inputs import Project
from cost.machine_rates import NoRate, machine_rate
from cost.model import ResourceCost
from cost.pricers import PricingContext, component
from cost.workloads import Workload, monitoring_jobs

JOB_TYPE = "terraml_monitoring_jobs"
DRIFT_OUTPUTS = ("drift_monitor", "drift_schedule")  # core/outputs.py; a plan keeps them


def price_job(work: Workload, ctx: PricingContext) -> ResourceCost:
    """Hours per run x runs a month at the processing rate of the run's machine."""
    cost = ResourceCost(work.address, JOB_TYPE)
    try:
        parts = machine_rate(ctx.catalog, work.cloud, "processing", work.instance_type or "",
                             work.region)
    except NoRate as missing:
        cost.unpriced_reason = f"drift monitoring runs: {missing}"
        return cost
    usage = f"{work.hours_per_run:g} h/run x {work.runs_per_month:g} runs/month"
    for part in parts:
        note = "; ".join(n for n in (usage, part.note) if n)
        cost.components.append(component(f"Drift monitoring runs ({part.label})", "hours",
                                         work.hours_per_month * part.quantity, part.price, note,
                                         part.stand_in))
    return cost


def price_monitoring(project: Project, ctx: PricingContext) -> list[ResourceCost]:
    jobs = monitoring_jobs(project)
    if jobs:
        return [price_job(work, ctx) for work in jobs]
    if any(name in project.outputs for name in DRIFT_OUTPUTS):
        return [ResourceCost(f"{JOB_TYPE}.{project.name}", JOB_TYPE, unpriced_reason=(
            "a terraform plan drops terraml's drift monitoring record (machine, hours per run, "
            "runs a month); price the synthesized stack (cdktf.out) for the monitor's runs"))]
    return []


def monitoring_assumptions(project: Project) -> list[str]:
    return [f"drift monitoring: {w.runs_per_month:g} runs/month ({w.runs_source or 'recorded'}, "
            f"in a 30-day month) x {w.hours_per_run:g} h on {w.instance_type}, on-demand; the "
            "monitor's reports and captured data are stored in the data buckets, priced there"
            for w in monitoring_jobs(project)]
