"""AWS Price List API through boto3 (`pricing` client): SageMaker hosting, training,
notebook rates per region. Paging with NextToken; boto3 retries throttling itself."""

from __future__ import annotations

import json

from cost.refresh import Row, today

USAGE_KINDS = {"Host": "sagemaker-realtime-inference", "Train": "sagemaker-training",
               "Notebk": "sagemaker-notebook"}


def fetch(regions: list[str], client=None) -> list[Row]:
    if client is None:
        import boto3
        from botocore.config import Config

        client = boto3.client("pricing", region_name="us-east-1",
                              config=Config(retries={"max_attempts": 8, "mode": "adaptive"}))
    rows: list[Row] = []
    for region in regions:
        token = None
        while True:
            request = {"ServiceCode": "AmazonSageMaker", "MaxResults": 100, "Filters": [
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]}
            if token:
                request["NextToken"] = token
            page = client.get_products(**request)
            for item in page.get("PriceList", []):
                row = _row(json.loads(item) if isinstance(item, str) else item, region)
                if row:
                    rows.append(row)
            token = page.get("NextToken")
            if not token:
                break
    return rows


def _row(product: dict, region: str) -> Row | None:
    attributes = product.get("product", {}).get("attributes", {})
    usage = attributes.get("usagetype", "")  # e.g. USE1-Host:ml.m5.xlarge
    kind_part, _, instance = usage.partition(":")
    service = next((s for k, s in USAGE_KINDS.items() if kind_part.endswith(f"-{k}")), None)
    if not service or not instance.startswith("ml."):
        return None
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            try:
                usd = float(dimension.get("pricePerUnit", {}).get("USD"))
            except (TypeError, ValueError):
                continue  # a product without a usable USD price is skipped, not guessed
            if dimension.get("unit", "").lower().startswith("hr"):
                return {"cloud": "aws", "service": service, "sku": instance, "region": region,
                        "unit": "hour", "usd": f"{usd:.6f}", "price_kind": "on_demand",
                        "source": "AWS Price List API (pricing:GetProducts AmazonSageMaker)",
                        "source_date": (term.get("effectiveDate") or today())[:10],
                        "notes": f"usage type {usage}"}
    return None
