"""Rebuild a catalog from the official price APIs (`terraml cost refresh --cloud ...`).

Each fetcher returns catalog rows (cost/catalog HEADER); `merge` replaces rows with the
same (service, sku, region, price_kind) and keeps the rest, so sourced figures the API
does not cover stay. Written atomically; the file is validated before it replaces the old.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from core.errors import UserError
from cost.catalog import HEADER, _validate

Row = dict[str, str]


def today() -> str:
    return date.today().isoformat()


def with_retries(call: Callable[[], Any], *, attempts: int = 5, base_delay: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep,
                 transient: Callable[[Exception], bool] = lambda exc: True) -> Any:
    """Call, retrying transient failures with exponential backoff (1, 2, 4, 8 s ...)."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts - 1 or not transient(exc):
                raise
            sleep(base_delay * 2 ** attempt)
    raise AssertionError("unreachable")


def merge(existing: list[Row], fresh: list[Row]) -> list[Row]:
    def key(row: Row) -> tuple[str, ...]:
        return row["cloud"], row["service"], row["sku"], row["region"], row["price_kind"]

    replaced = {key(r) for r in fresh}
    return [*fresh, *(r for r in existing if key(r) not in replaced)]


def write_catalog(path: Path, rows: list[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(buffer.getvalue())
    try:
        _validate(temporary)
    except UserError:
        temporary.unlink()
        raise
    temporary.replace(path)


def read_rows(path: Path) -> list[Row]:
    return _validate(path) if path.exists() else []
