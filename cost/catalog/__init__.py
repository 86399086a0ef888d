"""Offline price catalog: one CSV per cloud, validated on load.

Contract: `load_catalog(paths)` returns a `Catalog` or raises `UserError` naming
the file, line and column. `Catalog.price(...)` finds the row for a region, falls
back to a region-less (`*`) row, then (flagged, never silently) to the cloud's
reference region, then to the first region listed with a figure for that SKU; `None` when
nothing matches.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError

CATALOG_DIR = Path(__file__).parent
HEADER = ["cloud", "service", "sku", "region", "unit", "usd", "price_kind", "source",
          "source_date", "notes"]
KINDS = {"on_demand", "spot", "serverless", "storage", "request", "other"}
DATE = re.compile(r"\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?")
REFERENCE_REGION = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    source_date: str
    region: str  # the region the figure is for ("*" = any)
    fallback: bool = False  # True when priced at another region's rate (`region` says which)

    @property
    def note(self) -> str:
        return f"priced at {self.region} rate (no figure for the resource's region)" \
            if self.fallback else ""


class Catalog:
    def __init__(self, rows: list[dict[str, str]]) -> None:
        self._index: dict[tuple[str, str, str, str, str], Price] = {}
        self._any_region: dict[tuple[str, str, str, str], Price] = {}
        for row in rows:
            key = (row["cloud"], row["service"], row["sku"], row["region"], row["price_kind"])
            # first row wins: rows are listed best source first
            price = Price(float(row["usd"]), row["unit"], row["source"], row["source_date"],
                          row["region"])
            self._index.setdefault(key, price)
            self._any_region.setdefault(
                (row["cloud"], row["service"], row["sku"], row["price_kind"]), price)

    def __len__(self) -> int:
        return len(self._index)

    def price(self, cloud: str, service: str, sku: str, region: str,
              kind: str = "on_demand") -> Price | None:
        for candidate in (region, "*"):
            found = self._index.get((cloud, service, sku, candidate, kind))
            if found:
                return found
        reference = REFERENCE_REGION.get(cloud)
        found = self._index.get((cloud, service, sku, reference, kind))
        if found is None or reference == region:
            found = self._any_region.get((cloud, service, sku, kind))
        if found and found.region != region:
            return Price(found.usd, found.unit, found.source, found.source_date, found.region,
                         fallback=True)
        return None


def _validate(path: Path) -> list[dict[str, str]]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read price catalog: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != HEADER:
            raise UserError(f"{path}:1: header: expected {','.join(HEADER)}, "
                            f"found {','.join(reader.fieldnames or [])}")
        rows = []
        for line, row in enumerate(reader, start=2):
            if None in row or any(v is None for v in row.values()):
                raise UserError(f"{path}:{line}: row: expected {len(HEADER)} columns")
            try:
                usd = float(row["usd"])
            except ValueError:
                raise UserError(f"{path}:{line}: usd: expected a number, "
                                f"found {row['usd']!r}") from None
            if usd < 0:
                raise UserError(f"{path}:{line}: usd: expected >= 0, found {usd}")
            if row["price_kind"] not in KINDS:
                raise UserError(f"{path}:{line}: price_kind: expected one of "
                                f"{', '.join(sorted(KINDS))}, found {row['price_kind']!r}")
            for column in ("cloud", "service", "sku", "region", "unit", "source", "source_date"):
                if not row[column].strip():
                    raise UserError(f"{path}:{line}: {column}: expected a value, found none")
            if not DATE.fullmatch(row["source_date"]):
                raise UserError(f"{path}:{line}: source_date: expected YYYY-MM-DD or YYYY-MM "
                                f"(the source's date, else the day it was read), "
                                f"found {row['source_date']!r}")
            rows.append(row)
    return rows


def load_catalog(paths: list[Path] | None = None) -> Catalog:
    """Load the shipped catalogs (or `paths`), validating every row."""
    files = paths or sorted(CATALOG_DIR.glob("*.csv"))
    return Catalog([row for path in files for row in _validate(path)])
