"""Training jobs are not Terraform resources: terraml prices the training workload the
stack records (machine, GPUs, spot, GPU-hours per month) at the cloud's training rate."""

from __future__ import annotations

from cost.inputs import Project
from cost.machine_rates import NoRate, machine_rate
from cost.model import ResourceCost
from cost.pricers import PricingContext, component
from cost.workloads import Workload, workloads


def training_workload(project: Project) -> Workload | None:
    return next((w for w in workloads(project) if w.kind == "training"), None)


def price_training(work: Workload, ctx: PricingContext) -> ResourceCost:
    """Machine-hours (GPU-hours / GPUs per machine) at the training rate of the machine and,
    where billed apart, of its GPUs; spot at the cloud's spot/low-priority rate."""
    cost = ResourceCost(work.address, "terraml_training_jobs")
    try:
        parts = machine_rate(ctx.catalog, work.cloud, "training", work.instance_type or "",
                             work.region, spot=work.spot, accelerator_type=work.accelerator_type,
                             gpus=work.gpus)
    except NoRate as missing:
        cost.unpriced_reason = str(missing)
        return cost
    hours = work.hours_per_month
    for index, part in enumerate(parts):
        name = f"Training ({part.label})" if index == 0 else f"Training GPUs ({part.label})"
        cost.components.append(component(name, "hours", hours * part.quantity, part.price,
                                         part.note, part.stand_in))
    return cost
