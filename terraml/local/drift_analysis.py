"""The Model Monitor analyzer's math, for the emulator: CSV in, Model Monitor's
`statistics.json` / `constraints.json` / `constraint_violations.json` documents out.

The drift distance is core/drift.py's neutral score, in [0, 1]: numeric features, the largest
gap between the baseline's empirical CDF (from its histogram) and the data's, at the
baseline's bin edges; string features, the L-infinity distance between category frequencies.
`ValueError` (one line) when the data cannot be read.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

BINS = 10
SKETCH_SIZE = 2048
DEFAULT_THRESHOLD = 0.1  # Model Monitor's default comparison threshold
NUMERIC = ("Integral", "Fractional")

Table = tuple[list[str], list[list[str]]]


def read_csv(blobs: list[tuple[str, bytes]]) -> Table:
    """Columns and rows of CSV files with a header row (the same header in each)."""
    columns: list[str] | None = None
    rows: list[list[str]] = []
    for name, blob in blobs:
        try:
            lines = list(csv.reader(io.StringIO(blob.decode("utf-8"))))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ValueError(f"{name}: not CSV text ({exc})") from None
        lines = [line for line in lines if line]
        if not lines:
            continue
        header, body = [c.strip() for c in lines[0]], lines[1:]
        if columns is None:
            columns = header
        elif header != columns:
            raise ValueError(f"{name}: header {header} differs from {columns}")
        for number, line in enumerate(body, start=2):
            if len(line) != len(columns):
                raise ValueError(f"{name}:{number}: expected {len(columns)} fields, found "
                                 f"{len(line)}")
            rows.append(line)
    if columns is None or not rows:
        raise ValueError("no CSV rows found (expected files with a header row)")
    return columns, rows


def _column(table: Table, name: str) -> list[str]:
    index = table[0].index(name)
    return [row[index].strip() for row in table[1] if row[index].strip() != ""]


def _numbers(values: list[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _type(values: list[str]) -> str:
    numbers = _numbers(values)
    if numbers is None or not values:
        return "String" if values else "Unknown"
    return "Integral" if all(n.is_integer() and "." not in v
                             for n, v in zip(numbers, values)) else "Fractional"


def statistics(table: Table) -> dict[str, Any]:
    """Model Monitor's statistics.json for the table."""
    total = len(table[1])
    return {"version": 0.0, "dataset": {"item_count": total},
            "features": [_feature(name, _column(table, name), total) for name in table[0]]}


def _feature(name: str, values: list[str], total: int) -> dict[str, Any]:
    kind = _type(values)
    common = {"num_present": len(values), "num_missing": total - len(values)}
    feature: dict[str, Any] = {"name": name, "inferred_type": kind}
    if kind in NUMERIC:
        numbers = sorted(_numbers(values) or [])
        low, high = numbers[0], numbers[-1]
        width = (high - low) / BINS or 1.0
        counts = [0] * BINS
        for n in numbers:
            counts[min(int((n - low) / width), BINS - 1)] += 1
        buckets = [{"lower_bound": low + i * width, "upper_bound": low + (i + 1) * width,
                    "count": float(c)} for i, c in enumerate(counts)]
        buckets[-1]["upper_bound"] = high
        step = max(1, len(numbers) // SKETCH_SIZE)
        feature["numerical_statistics"] = {
            "common": common, "mean": sum(numbers) / len(numbers), "sum": sum(numbers),
            "std_dev": _std(numbers), "min": low, "max": high,
            "distribution": {"kll": {"buckets": buckets, "sketch": {
                "parameters": {"c": 0.64, "k": float(SKETCH_SIZE)},
                "data": [numbers[::step]]}}}}
    elif kind == "String":
        counts = Counter(values)
        feature["string_statistics"] = {
            "common": common, "distinct_count": float(len(counts)),
            "distribution": {"categorical": {"buckets": [
                {"value": v, "count": float(c)} for v, c in sorted(counts.items())]}}}
    return feature


def _std(numbers: list[float]) -> float:
    mean = sum(numbers) / len(numbers)
    return (sum((n - mean) ** 2 for n in numbers) / len(numbers)) ** 0.5


def constraints(stats: dict[str, Any]) -> dict[str, Any]:
    """Model Monitor's suggested constraints.json for baseline statistics."""
    features = []
    for feature in stats["features"]:
        kind = feature["inferred_type"]
        item: dict[str, Any] = {"name": feature["name"], "inferred_type": kind}
        if kind in NUMERIC:
            common = feature["numerical_statistics"]["common"]
            item["num_constraints"] = {"is_non_negative":
                                       feature["numerical_statistics"]["min"] >= 0}
        elif kind == "String":
            common = feature["string_statistics"]["common"]
            item["string_constraints"] = {"domains": [
                b["value"] for b in
                feature["string_statistics"]["distribution"]["categorical"]["buckets"]]}
        else:
            common = {"num_present": 0, "num_missing": stats["dataset"]["item_count"]}
        present = common["num_present"] + common["num_missing"]
        item["completeness"] = common["num_present"] / present if present else 0.0
        features.append(item)
    return {"version": 0.0, "features": features, "monitoring_config": {
        "evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
        "distribution_constraints": {
            "perform_comparison": "Enabled", "comparison_threshold": DEFAULT_THRESHOLD,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": DEFAULT_THRESHOLD,
            "categorical_drift_method": "LInfinity"}}}


def numeric_distance(baseline: dict[str, Any], values: list[float]) -> float:
    """Largest gap between the baseline's histogram CDF and the values' CDF at the bin edges
    (below the first bin the baseline's CDF is 0, above the last it is 1)."""
    buckets = baseline["numerical_statistics"]["distribution"]["kll"]["buckets"]
    total = sum(b["count"] for b in buckets) or 1.0
    n = len(values) or 1
    gap = sum(1 for v in values if v < buckets[0]["lower_bound"]) / n  # baseline CDF: 0
    seen = 0.0
    for bucket in buckets:
        seen += bucket["count"]
        below = sum(1 for v in values if v <= bucket["upper_bound"]) / n
        gap = max(gap, abs(seen / total - below))
    return min(1.0, gap)


def categorical_distance(baseline: dict[str, Any], values: list[str]) -> float:
    """L-infinity distance between the baseline's and the values' category frequencies."""
    buckets = baseline["string_statistics"]["distribution"]["categorical"]["buckets"]
    total = sum(b["count"] for b in buckets) or 1.0
    before = {b["value"]: b["count"] / total for b in buckets}
    counts, n = Counter(values), len(values) or 1
    now = {v: c / n for v, c in counts.items()}
    return min(1.0, max((abs(before.get(k, 0.0) - now.get(k, 0.0))
                         for k in set(before) | set(now)), default=0.0))


def distances(baseline: dict[str, Any], table: Table) -> dict[str, float]:
    """Each baseline feature's drift distance in the table (features missing from the table
    or of another type are left out)."""
    found: dict[str, float] = {}
    for feature in baseline["features"]:
        name, kind = feature["name"], feature["inferred_type"]
        if name not in table[0]:
            continue
        values = _column(table, name)
        if kind in NUMERIC:
            numbers = _numbers(values)
            if numbers is not None:
                found[name] = numeric_distance(feature, numbers)
        elif kind == "String":
            found[name] = categorical_distance(feature, values)
    return found


def violations(baseline: dict[str, Any], limits: dict[str, Any],
               table: Table) -> list[dict[str, Any]]:
    """constraint_violations.json's `violations`: missing columns, type changes and a
    `baseline_drift_check` per feature whose distance exceeds the constraints' threshold."""
    config = limits.get("monitoring_config", {}).get("distribution_constraints", {})
    compare = config.get("perform_comparison", "Enabled") == "Enabled"
    found: list[dict[str, Any]] = []
    scores = distances(baseline, table)
    for feature in baseline["features"]:
        name, kind = feature["name"], feature["inferred_type"]
        if name not in table[0]:
            found.append({"feature_name": name, "constraint_check_type": "missing_column_check",
                          "description": f"There are missing columns: {name}"})
            continue
        if name not in scores:
            if kind in NUMERIC:
                found.append({"feature_name": name,
                              "constraint_check_type": "data_type_check",
                              "description": f"Data type match requirement is not met. "
                                             f"Expected {kind}, found String"})
            continue
        threshold = float(config.get("categorical_comparison_threshold" if kind == "String"
                                     else "comparison_threshold", DEFAULT_THRESHOLD))
        if compare and scores[name] > threshold:
            found.append({"feature_name": name, "constraint_check_type": "baseline_drift_check",
                          "description": f"Baseline drift distance: {scores[name]:.6f} "
                                         f"exceeds threshold: {threshold}"})
    return found
