"""Neutral schedules: one cron syntax in the environment file, read the same on every cloud.

Contract: `parse(text)` takes standard five-field cron (`minute hour day-of-month month
day-of-week`, UTC) or the AWS form `cron(min hour dom month dow year)` and returns a
`Cron`, or raises `ValueError` with one line saying what was expected. A `Cron` renders
itself for each cloud's scheduler (`unix()` for Vertex AI and Azure ML, `aws()` for
EventBridge Scheduler) and counts its runs in a 30-day month for the cost engine.
Supported per field: `*`, numbers, names (JAN-DEC, SUN-SAT), ranges `a-b`, lists `a,b`,
steps `*/n` and `a-b/n`; `?` means `*` in the day fields (AWS). L, W and # (not
portable) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, low, high, names offset by low)
FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day-of-month", 1, 31, ()),
          ("month", 1, 12, MONTHS), ("day-of-week", 0, 7, DAYS))
MONTH_MINUTES = 30 * 24 * 60
_AWS = re.compile(r"^cron\((.*)\)$")


@dataclass(frozen=True)
class Cron:
    fields: tuple[str, ...]  # the five fields as written (AWS `?` turned into `*`)
    values: tuple[frozenset[int], ...]  # the values each field admits

    def unix(self) -> str:
        """Five-field cron (Vertex AI schedules, Azure ML CronTrigger)."""
        return " ".join(self.fields)

    def aws(self) -> str:
        """EventBridge Scheduler's `cron(...)`: six fields, `?` in one of the day fields, and
        days of the week numbered 1-7 from Sunday."""
        minute, hour, dom, month, dow = self.fields
        if dow == "*":
            dow = "?"
        elif dom == "*":
            dom = "?"
        else:
            raise ValueError("AWS schedules cannot restrict both day-of-month and day-of-week")
        if dow != "?":
            dow = ",".join(str((day % 7) + 1) for day in sorted(self.values[4]))
        return f"cron({minute} {hour} {dom} {month} {dow} *)"

    def matches(self, moment: datetime) -> bool:
        minute, hour, dom, month, dow = self.values
        weekday = (moment.weekday() + 1) % 7  # Monday=0 in Python, Sunday=0 in cron
        day_ok = (moment.day in dom) if self.fields[4] == "*" else \
            (weekday in dow) if self.fields[2] == "*" else (moment.day in dom or weekday in dow)
        return (moment.minute in minute and moment.hour in hour and moment.month in month
                and day_ok)

    def runs_per_month(self) -> float:
        """Runs in a 30-day month, averaged over a year from 2026-01-01 (UTC)."""
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        hours = [h for h in range(24) if h in self.values[1]]
        minutes = sorted(self.values[0])
        runs = 0
        for day in range(365):
            moment = start + timedelta(days=day)
            if self.matches(moment.replace(hour=hours[0], minute=minutes[0])) if hours else False:
                runs += len(hours) * len(minutes)
        return round(runs * 30 / 365, 3)


def _values(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"{name}: expected *, a number, a range a-b, a list or a step "
                             f"*/n, found {part!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise ValueError(f"{name}: expected a step of at least 1, found {part!r}")
        if span == "*":
            first, last = low, high
        else:
            ends = [_number(end, name, low, high, names) for end in span.split("-")]
            first, last = ends[0], ends[-1]
            if first > last:
                raise ValueError(f"{name}: expected a range low-high, found {part!r}")
            if match.group(2) and len(ends) == 1:
                last = high
        found.update(range(first, last + 1, step))
    if name == "day-of-week" and 7 in found:
        found = (found - {7}) | {0}
    return frozenset(found)


def _number(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text.upper() in names:
        return names.index(text.upper()) + (1 if name == "month" else 0)
    if not text.isdigit() or not low <= int(text) <= high:
        listed = f" or {names[0]}-{names[-1]}" if names else ""
        raise ValueError(f"{name}: expected {low}-{high}{listed}, found {text!r}")
    return int(text)


def parse(text: str) -> Cron:
    """A `Cron` from five-field cron or AWS `cron(...)`; `ValueError` (one line) otherwise."""
    source = text.strip()
    aws = _AWS.match(source)
    parts = source.split() if not aws else aws.group(1).split()
    if aws:
        if len(parts) != 6:
            raise ValueError(f"expected cron(minute hour day-of-month month day-of-week year), "
                             f"found {text!r}")
        if parts[5] != "*":
            raise ValueError(f"year: expected * (schedules repeat every year), found {parts[5]!r}")
        parts = parts[:5]
        if parts[4] not in ("?", "*"):  # AWS numbers days 1-7 from Sunday; cron 0-6
            parts[4] = _aws_days(parts[4])
    elif len(parts) != 5:
        raise ValueError(f"expected five-field cron 'minute hour day-of-month month "
                         f"day-of-week' (e.g. '0 3 * * MON') or cron(...), found {text!r}")
    parts = ["*" if p == "?" else p for p in parts]
    values = tuple(_values(part, *spec) for part, spec in zip(parts, FIELDS))
    return Cron(tuple(parts), values)


def _aws_days(text: str) -> str:
    """AWS day-of-week numbers (1=SUN..7=SAT) as cron names, names kept."""
    def name(token: str) -> str:
        return DAYS[int(token) - 1] if token.isdigit() and 1 <= int(token) <= 7 else token
    return re.sub(r"[0-9A-Za-z]+", lambda m: name(m.group(0)), text)
