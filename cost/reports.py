"""Reports: terminal table (rich), Markdown (jinja2, for PR comments), JSON shaped like
Infracost's (`projects[].breakdown.resources[].costComponents[]`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from rich.table import Table

from cost.diff import ProjectDiff
from cost.model import ProjectCost
from cost.policy import Verdict

LEVEL_STYLE = {"pass": "green", "warn": "yellow", "block": "bold red", "suppressed": "cyan"}

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _unpriced_rows(projects: list[ProjectCost]) -> list[tuple[str, str, str]]:
    """(environment, resource or type x count, why) for everything not priced."""
    rows = [(p.name, r.address, r.unpriced_reason) for p in projects for r in p.unpriced]
    return rows + [(p.name, f"{t} x{c}", "no pricer for this resource type")
                   for p in projects for t, c in p.unsupported.items()]


def _assumptions(projects: list[ProjectCost]) -> list[tuple[str, str]]:
    return [(p.name, text) for p in projects for text in p.assumptions]


def assumptions_text(projects: list[ProjectCost]) -> str:
    """The assumptions as plain lines, for the terminal report."""
    return "\n".join(f"  {env}: {text}" for env, text in _assumptions(projects))


def _monthly(cost: ProjectCost | None) -> float:
    return cost.monthly if cost else 0.0


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
        for v in sorted((v for v in items if v.level != "pass"), key=lambda v: v.rule):
            view.add_row(env, v.rule, f"[{LEVEL_STYLE[v.level]}]{v.level}[/]", v.resource,
                         v.message + (f" (suppressed: {v.reason})" if v.reason else ""))
        passed = sorted(v.rule for v in items if v.level == "pass")
        if passed:
            view.add_row(env, ", ".join(passed), "[green]pass[/]", "", "")
    return view


def diff_table(diffs: list[ProjectDiff]) -> Table:
    view = Table("environment", "resource", "base USD", "current USD", "delta USD",
                 title="monthly cost vs base")
    for item in diffs:
        for change in item.resources:
            view.add_row(item.name, change.address, _money(change.base), _money(change.current),
                         _delta(change.delta))
        view.add_row(item.name, "[bold]total[/]",
                     _money(item.base.monthly if item.base else None),
                     _money(item.current.monthly if item.current else None),
                     f"[bold]{_delta(item.delta)}")
    return view


def markdown(projects: list[ProjectCost],
             verdicts: dict[str, list[Verdict]] | None = None,
             diffs: list[ProjectDiff] | None = None) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      trim_blocks=False, autoescape=False)
    past = {d.name: d.base.monthly if d.base else 0.0 for d in diffs or []}
    rows = [{"name": p.name, "monthly": p.monthly, "past": past.get(p.name),
             "diff": p.monthly - past[p.name] if p.name in past else None,
             "components": sorted(((n, a) for n, a in p.by_component().items() if a),
                                  key=lambda item: -item[1])} for p in projects]
    unpriced = _unpriced_rows(projects)
    return env.get_template("cost_report.md.j2").render(
        projects=rows, total=sum(p.monthly for p in projects), has_base=diffs is not None,
        past_total=sum(past.values()) if diffs is not None else None,
        diff_total=sum(d.delta for d in diffs) if diffs is not None else None,
        changes=[(d.name, c) for d in diffs or [] for c in d.resources],
        unpriced=unpriced, money=_money, delta=_delta, assumptions=_assumptions(projects),
        verdicts=[(env, v) for env, items in (verdicts or {}).items() for v in items
                  if v.level != "pass"],
        checked=sorted(verdicts or {}))


PALETTE = ("#2e90fa", "#f79009", "#12b76a", "#ee46bc", "#7a5af8", "#f04438", "#15b79e",
           "#667085", "#b692f6", "#fdb022")


def _chart(projects: list[ProjectCost]) -> dict:
    """Horizontal stacked bars: one bar per environment, one segment per component."""
    labels: list[str] = []
    for p in projects:
        for name, amount in sorted(p.by_component().items(), key=lambda kv: -kv[1]):
            if amount > 0 and name not in labels:
                labels.append(name)
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(labels)}
    largest = max([p.monthly for p in projects] + [1e-9])
    left, width = 140, 640
    bars = []
    for row, p in enumerate(projects):
        x, segments = left, []
        for name, amount in p.by_component().items():
            if amount <= 0:
                continue
            size = max(amount / largest * width, 1)
            segments.append({"x": round(x, 1), "width": round(size, 1), "color": colors[name],
                             "label": name, "amount": amount})
            x += size
        bars.append({"name": p.name, "y": 10 + row * 30, "segments": segments, "end": x,
                     "total": p.monthly})
    return {"bars": bars, "legend": list(colors.items()), "width": left + width + 120,
            "height": 20 + len(projects) * 30}


def html(projects: list[ProjectCost], verdicts: dict[str, list[Verdict]] | None = None,
         diffs: list[ProjectDiff] | None = None) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=True)
    past = {d.name: _monthly(d.base) for d in diffs or []}
    unpriced = _unpriced_rows(projects)
    return env.get_template("cost_report.html.j2").render(
        projects=[{"name": p.name, "monthly": p.monthly, "past": past.get(p.name),
                   "diff": p.monthly - past[p.name] if p.name in past else None}
                  for p in projects],
        total=sum(p.monthly for p in projects),
        past_total=sum(past.values()) if diffs is not None else None,
        diff_total=sum(d.delta for d in diffs) if diffs is not None else None,
        chart=_chart(projects),
        verdicts=[(n, v) for n, items in (verdicts or {}).items() for v in items],
        components=[(p.name, r.address, c) for p in projects for r in p.resources
                    for c in r.components],
        unpriced=unpriced, money=_money, delta=_delta, assumptions=_assumptions(projects))


def infracost_json(projects: list[ProjectCost],
                   verdicts: dict[str, list[Verdict]] | None = None,
                   diffs: list[ProjectDiff] | None = None) -> str:
    def resource(r) -> dict:
        return {"name": r.address, "resourceType": r.type,
                "monthlyCost": f"{r.monthly:.6f}" if not r.unpriced_reason else None,
                "billedWhileIdle": r.idle_billing or None,
                "costComponents": [{
                    "name": c.name, "unit": c.unit, "price": f"{c.price:.6f}",
                    "monthlyQuantity": None if c.quantity is None else f"{c.quantity:.6f}",
                    "monthlyCost": f"{c.monthly:.6f}", "usageBased": c.quantity is None,
                    "source": c.source, "note": c.note} for c in r.components]}

    total = sum(p.monthly for p in projects)
    bases = {d.name: d.base for d in diffs or []}

    def breakdown(p: ProjectCost | None) -> dict | None:
        if p is None:
            return None
        return {"resources": [resource(r) for r in p.resources if not r.free],
                "freeResources": [{"name": r.address, "resourceType": r.type}
                                  for r in p.resources if r.free],
                "unpricedResources": [{"name": r.address, "resourceType": r.type,
                                       "reason": r.unpriced_reason} for r in p.unpriced],
                "unsupportedResources": [{"resourceType": t, "count": c,
                                          "reason": "no pricer for this resource type"}
                                         for t, c in p.unsupported.items()],
                "totalMonthlyCost": f"{p.monthly:.6f}"}

    past_total = sum(b.monthly for b in bases.values() if b) if diffs is not None else None
    document = {
        "version": "0.2",
        "currency": "USD",
        "projects": [{
            "name": p.name,
            "metadata": {"path": p.source},
            "pastBreakdown": breakdown(bases.get(p.name)),
            "breakdown": breakdown(p),
            "diff": None if diffs is None else {
                "totalMonthlyCost": f"{p.monthly - _monthly(bases.get(p.name)):.6f}"},
            "summary": {"unsupportedResourceCounts": p.unsupported,
                        "unpricedResourceCounts": dict(Counter(r.type for r in p.unpriced)),
                        "totalUnsupportedResources": sum(p.unsupported.values()),
                        "totalUnpricedResources": len(p.unpriced),
                        "unpricedResources": [r.address for r in p.unpriced]},
            "assumptions": p.assumptions,
            "guardrails": [{"rule": v.rule, "verdict": v.level, "resource": v.resource,
                            "message": v.message, "reason": v.reason}
                           for v in (verdicts or {}).get(p.name, [])],
        } for p in projects],
        "totalMonthlyCost": f"{total:.6f}",
        "pastTotalMonthlyCost": None if past_total is None else f"{past_total:.6f}",
        "diffTotalMonthlyCost": None if past_total is None else f"{total - past_total:.6f}",
    }
    return json.dumps(document, indent=2)
