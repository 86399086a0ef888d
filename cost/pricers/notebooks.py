"""Shared by every cloud's notebook pricers (SageMaker notebook instances, Vertex AI Workbench
instances, Azure ML compute instances): the running hours, the same figure on every cloud.

Contract: `running_hours(resource, ctx)` returns `(hours, note)`: the usage file's
`monthly_hours` first, else the stack's `notebook` record (`notebooks.hours_per_month`, see
stacks/workloads.py), else 730 (always on: a notebook outside a terraml stack). The disk a
notebook keeps while stopped is billed all month: `disk_note` words what is not priced.
"""

from __future__ import annotations

from cost.inputs import Resource
from cost.model import HOURS_PER_MONTH
from cost.pricers import PricingContext
from cost.workloads import notebooks


def running_hours(resource: Resource, ctx: PricingContext) -> tuple[float, str]:
    given = ctx.usage(resource, "monthly_hours")
    if given is not None:
        return float(given), "running hours from the usage file (monthly_hours)"
    record = notebooks(ctx.project)
    if record is not None:
        return record.hours_per_month, (f"{record.hours_per_month:g} running h/month, from "
                                        "notebooks.hours_per_month")
    return HOURS_PER_MONTH, ""


def disk_note(what: str, why: str) -> str:
    """A disk left out of the figure, and why (it bills all month, also while stopped)."""
    return f"{what} not priced ({why}); it bills all month, also while the notebook is stopped"
