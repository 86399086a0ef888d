"""GCP Cloud Billing Catalog API (needs an API key): Compute Engine GPU prices per region."""

from __future__ import annotations

from collections.abc import Callable

import requests

from cost.refresh import Row, today, with_retries
from cost.refresh.azure import _transient

COMPUTE_SERVICE = "services/6F81-5844-456A"
API = "https://cloudbilling.googleapis.com/v1"
GPUS = {"Nvidia Tesla T4": "NVIDIA_TESLA_T4", "Nvidia L4": "NVIDIA_L4",
        "Nvidia Tesla A100": "NVIDIA_TESLA_A100 (40GB)", "Nvidia H100 80GB": "NVIDIA_H100_80GB"}


def fetch(regions: list[str], api_key: str, session: requests.Session | None = None,
          sleep: Callable[[float], None] | None = None) -> list[Row]:
    session = session or requests.Session()
    rows: list[Row] = []
    token = ""
    while True:
        params = {"key": api_key, "pageSize": 5000, **({"pageToken": token} if token else {})}

        def get(params=params):
            response = session.get(f"{API}/{COMPUTE_SERVICE}/skus", params=params, timeout=30)
            response.raise_for_status()
            return response.json()
        page = with_retries(get, transient=_transient, **({"sleep": sleep} if sleep else {}))
        for sku in page.get("skus", []):
            rows += _rows(sku, regions)
        token = page.get("nextPageToken", "")
        if not token:
            return rows


def _rows(sku: dict, regions: list[str]) -> list[Row]:
    description = sku.get("description", "")
    name = next((ours for theirs, ours in GPUS.items()
                 if description.startswith((f"{theirs} GPU running", f"Spot Preemptible {theirs} GPU running"))), None)
    if not name or sku.get("category", {}).get("usageType") not in {"OnDemand", "Preemptible"}:
        return []
    kind = "spot" if sku["category"]["usageType"] == "Preemptible" else "on_demand"
    info = (sku.get("pricingInfo") or [{}])[0]
    rates = info.get("pricingExpression", {}).get("tieredRates") or []
    if not rates:
        return []
    unit = rates[-1]["unitPrice"]
    usd = int(unit.get("units") or 0) + unit.get("nanos", 0) / 1e9
    date_ = (info.get("effectiveTime") or today())[:10]
    return [{"cloud": "gcp", "service": "compute-engine-gpu", "sku": name, "region": region,
             "unit": "hour", "usd": f"{usd:.6f}", "price_kind": kind,
             "source": f"{API}/{COMPUTE_SERVICE}/skus ({sku.get('skuId', '')})",
             "source_date": date_, "notes": f"Cloud Billing Catalog: {description}"}
            for region in regions if region in (sku.get("serviceRegions") or [])]
