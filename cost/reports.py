"""Reports: terminal table (rich), Markdown (jinja2, for PR comments), JSON shaped like
Infracost's (`projects[].breakdown.resources[].costComponents[]`)."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from rich.table import Table

from cost.model import ProjectCost
from cost.policy import Verdict

LEVEL_STYLE = {"pass": "green", "warn": "yellow", "block": "bold red", "suppressed": "cyan"}

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _delta(value: float | None) -> str:
    return "-" if value is None else f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def table(projects: list[ProjectCost]) -> Table:
    view = Table("environment", "resource", "component", "quantity", "unit", "monthly USD",
                 title="terraml cost estimate (offline catalog, 730 h/month)")
    for project in projects:
        for resource in project.resources:
            for item in resource.components:
                quantity = "usage?" if item.quantity is None else f"{item.quantity:,.2f}"
                view.add_row(project.name, resource.address, item.name, quantity, item.unit,
                             f"{item.monthly:,.2f}")
        view.add_row(project.name, "[bold]total[/]", "", "", "", f"[bold]{project.monthly:,.2f}")
        for resource in project.unpriced:
            view.add_row(project.name, resource.address, f"[yellow]not priced[/]: "
                         f"{resource.unpriced_reason}", "", "", "")
        for rtype, count in project.unsupported.items():
            view.add_row(project.name, f"{rtype} x{count}", "[yellow]no pricer[/]", "", "", "")
    return view


def verdict_table(verdicts: dict[str, list[Verdict]]) -> Table:
    view = Table("environment", "rule", "verdict", "resource", "detail", title="guardrails")
    for env, items in verdicts.items():
        for v in sorted(items, key=lambda v: (v.level == "pass", v.rule)):
            view.add_row(env, v.rule, f"[{LEVEL_STYLE[v.level]}]{v.level}[/]", v.resource,
                         v.message + (f" (suppressed: {v.reason})" if v.reason else ""))
    return view


def markdown(projects: list[ProjectCost],
             verdicts: dict[str, list[Verdict]] | None = None) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      trim_blocks=False, autoescape=False)
    rows = [{"name": p.name, "monthly": p.monthly, "past": None, "diff": None,
             "components": sorted(((n, a) for n, a in p.by_component().items() if a),
                                  key=lambda item: -item[1])} for p in projects]
    unpriced = [(p.name, r.address, r.unpriced_reason) for p in projects for r in p.unpriced]
    unpriced += [(p.name, f"{t} x{c}", "no pricer for this resource type")
                 for p in projects for t, c in p.unsupported.items()]
    return env.get_template("cost_report.md.j2").render(
        projects=rows, total=sum(p.monthly for p in projects), has_base=False, past_total=None,
        diff_total=None, unpriced=unpriced, money=_money, delta=_delta,
        verdicts=[(env, v) for env, items in (verdicts or {}).items() for v in items
                  if v.level != "pass"],
        checked=sorted(verdicts or {}))


def infracost_json(projects: list[ProjectCost],
                   verdicts: dict[str, list[Verdict]] | None = None) -> str:
    def resource(r) -> dict:
        return {"name": r.address, "resourceType": r.type,
                "monthlyCost": f"{r.monthly:.6f}" if not r.unpriced_reason else None,
                "costComponents": [{
                    "name": c.name, "unit": c.unit, "price": f"{c.price:.6f}",
                    "monthlyQuantity": None if c.quantity is None else f"{c.quantity:.6f}",
                    "monthlyCost": f"{c.monthly:.6f}", "usageBased": c.quantity is None,
                    "source": c.source, "note": c.note} for c in r.components]}

    total = sum(p.monthly for p in projects)
    document = {
        "version": "0.2",
        "currency": "USD",
        "projects": [{
            "name": p.name,
            "metadata": {"path": p.source},
            "pastBreakdown": None,
            "breakdown": {
                "resources": [resource(r) for r in p.resources if not r.free],
                "freeResources": [{"name": r.address, "resourceType": r.type}
                                  for r in p.resources if r.free],
                "totalMonthlyCost": f"{p.monthly:.6f}",
            },
            "summary": {"unsupportedResourceCounts": p.unsupported,
                        "unpricedResources": [r.address for r in p.unpriced]},
            "guardrails": [{"rule": v.rule, "verdict": v.level, "resource": v.resource,
                            "message": v.message, "reason": v.reason}
                           for v in (verdicts or {}).get(p.name, [])],
        } for p in projects],
        "totalMonthlyCost": f"{total:.6f}",
        "pastTotalMonthlyCost": None,
        "diffTotalMonthlyCost": None,
    }
    return json.dumps(document, indent=2)
