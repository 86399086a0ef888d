"""Dev-time tool: rebuild cost/catalog/<cloud>.csv from the sourced reference CSVs.

    python cost/catalog/build_from_reference.py ../shared/pricing

Keeps every row's source, date and notes. Normalizes only what pricers key on:
regions the source leaves unstated ("unspecified (likely us-east-1)") become that
region with a note; "all"/"global" become "*" (any region); `usd_per_unit` becomes
`usd`. terraml never reads the reference folder at run time.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HEADER = ["cloud", "service", "sku", "region", "unit", "usd", "price_kind", "source",
          "source_date", "notes"]


def normalize(row: dict[str, str]) -> dict[str, str]:
    region, notes = row["region"].strip(), row["notes"].strip()
    likely = re.fullmatch(r"unspecified \(likely ([a-z0-9-]+)\)", region)
    if likely:
        region = likely.group(1)
        notes = f"[region not stated by the source; assumed {region}] {notes}"
    elif region in {"all", "global"}:
        region = "*"
    elif " (" in region:  # "us-central1 (Americas)"
        region = region.split(" (")[0]
    return {"cloud": row["cloud"], "service": row["service"], "sku": row["sku"].strip(),
            "region": region, "unit": row["unit"], "usd": row["usd_per_unit"],
            "price_kind": row["price_kind"], "source": row["source"],
            "source_date": row["source_date"], "notes": notes}


def main(reference: Path) -> None:
    out_dir = Path(__file__).parent
    for cloud in ("aws", "gcp", "azure"):
        rows = [normalize(r) for r in csv.DictReader((reference / f"{cloud}.csv").open())]
        with (out_dir / f"{cloud}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=HEADER)
            writer.writeheader()
            writer.writerows(rows)
        print(f"{cloud}: {len(rows)} rows")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/pricing"))
