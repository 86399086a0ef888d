"""Azure Retail Prices API (no authentication): VM pay-as-you-go, spot and low-priority."""

from __future__ import annotations

from collections.abc import Callable

import requests

from cost.refresh import Row, today, with_retries

API = "https://prices.azure.com/api/retail/prices"
VM_SIZES = ("Standard_NC4as_T4_v3", "Standard_NC24ads_A100_v4", "Standard_NC40ads_H100_v5",
            "Standard_ND96asr_v4", "Standard_NC6s_v3", "Standard_D4s_v3", "Standard_DS3_v2",
            "Standard_E4s_v3")


def _transient(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(exc, requests.ConnectionError | requests.Timeout) or (
        response is not None and (response.status_code == 429 or response.status_code >= 500))


def fetch(regions: list[str], session: requests.Session | None = None,
          sleep: Callable[[float], None] | None = None) -> list[Row]:
    session = session or requests.Session()
    rows: list[Row] = []
    for region in regions:
        sizes = " or ".join(f"armSkuName eq '{s}'" for s in VM_SIZES)
        url: str | None = API
        params: dict | None = {"$filter": f"serviceName eq 'Virtual Machines' and "
                                          f"armRegionName eq '{region}' and ({sizes})"}
        while url:
            def get(url=url, params=params):
                response = session.get(url, params=params, timeout=30)
                response.raise_for_status()
                return response.json()
            page = with_retries(get, transient=_transient, **({"sleep": sleep} if sleep else {}))
            rows += [row for item in page.get("Items", []) if (row := _row(item, url))]
            url, params = page.get("NextPageLink"), None
    return rows


def _row(item: dict, url: str) -> Row | None:
    if item.get("type") != "Consumption" or "Windows" in item.get("productName", ""):
        return None
    meter = item.get("meterName", "")
    sku = item.get("armSkuName", "")
    if "Low Priority" in meter:
        sku, kind = f"{sku} (low-priority)", "spot"
    elif "Spot" in meter:
        kind = "spot"
    else:
        kind = "on_demand"
    if item.get("unitOfMeasure") != "1 Hour":
        return None
    return {"cloud": "azure", "service": "virtual-machines", "sku": sku,
            "region": item.get("armRegionName", ""), "unit": "hour",
            "usd": f"{float(item['retailPrice']):.6f}", "price_kind": kind,
            "source": API, "source_date": (item.get("effectiveStartDate") or today())[:10],
            "notes": f"Azure Retail Prices API meter '{meter}' ({item.get('productName', '')})"}
