"""Catalog refresh, offline: responses shaped like the real APIs' answers (Azure Retail
Prices, GCP Cloud Billing Catalog via `responses`; AWS Price List via botocore's Stubber)."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from core.errors import UserError
from cost.catalog import load_catalog
from cost.refresh import aws as aws_refresh
from cost.refresh import azure as azure_refresh
from cost.refresh import gcp as gcp_refresh
from cost.refresh import merge, read_rows, with_retries, write_catalog


def _azure_item(sku, meter, price, region="eastus", product="Virtual Machines NCasT4_v3 Series"):
    return {"armSkuName": sku, "meterName": meter, "retailPrice": price, "armRegionName": region,
            "type": "Consumption", "productName": product, "unitOfMeasure": "1 Hour",
            "effectiveStartDate": "2026-10-01T00:00:00Z"}


@responses.activate
def test_azure_pages_retries_and_maps_meters():
    page2 = "https://prices.azure.com/api/retail/prices?$skip=100"
    responses.get(azure_refresh.API, status=429)
    responses.get(azure_refresh.API, json={"Items": [
        _azure_item("Standard_NC4as_T4_v3", "NC4as T4 v3", 0.526),
        _azure_item("Standard_NC4as_T4_v3", "NC4as T4 v3 Spot", 0.0689),
        _azure_item("Standard_NC4as_T4_v3", "NC4as T4 v3", 0.7, product="... Windows")],
        "NextPageLink": page2})
    responses.get(page2, json={"Items": [
        _azure_item("Standard_NC4as_T4_v3", "NC4as T4 v3 Low Priority", 0.105)],
        "NextPageLink": None})
    rows = azure_refresh.fetch(["eastus"], sleep=lambda s: None)
    found = {(r["sku"], r["price_kind"]): float(r["usd"]) for r in rows}
    assert found == {("Standard_NC4as_T4_v3", "on_demand"): 0.526,
                     ("Standard_NC4as_T4_v3", "spot"): 0.0689,
                     ("Standard_NC4as_T4_v3 (low-priority)", "spot"): 0.105}
    assert all(r["source_date"] == "2026-10-01" for r in rows)


@responses.activate
def test_gcp_pages_and_converts_units_and_nanos():
    url = f"{gcp_refresh.API}/{gcp_refresh.COMPUTE_SERVICE}/skus"

    def sku(description, usage, units, nanos, regions):
        return {"skuId": "AAAA-BBBB", "description": description,
                "category": {"usageType": usage}, "serviceRegions": regions,
                "pricingInfo": [{"effectiveTime": "2026-11-01T00:00:00Z", "pricingExpression": {
                    "tieredRates": [{"unitPrice": {"units": units, "nanos": nanos}}]}}]}
    responses.get(url, json={"skus": [
        sku("Nvidia Tesla T4 GPU running in Americas", "OnDemand", "0", 350000000,
            ["us-central1", "us-east1"])], "nextPageToken": "p2"})
    responses.get(url, json={"skus": [
        sku("Spot Preemptible Nvidia L4 GPU running in EMEA", "Preemptible", "0", 243800000,
            ["europe-west4"]),
        sku("N1 Predefined Instance Core running in Americas", "OnDemand", "0", 31611000,
            ["us-central1"])]})
    rows = gcp_refresh.fetch(["us-central1", "europe-west4"], "test-key", sleep=lambda s: None)
    assert [(r["sku"], r["region"], r["price_kind"], r["usd"]) for r in rows] == [
        ("NVIDIA_TESLA_T4", "us-central1", "on_demand", "0.350000"),
        ("NVIDIA_L4", "europe-west4", "spot", "0.243800")]
    assert "key=test-key" in responses.calls[0].request.url
    assert "pageToken=p2" in responses.calls[1].request.url


def test_aws_price_list_pages_with_next_token():
    import boto3
    from botocore.stub import Stubber

    def product(usage, usd):
        return json.dumps({"product": {"attributes": {"usagetype": usage}}, "terms": {
            "OnDemand": {"T": {"effectiveDate": "2026-11-01T00:00:00Z", "priceDimensions": {
                "D": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}}})
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    stub = Stubber(client)
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"}]
    stub.add_response("get_products", {"PriceList": [product("USE1-Host:ml.m5.xlarge", "0.23")],
                                       "NextToken": "n2"},
                      {"ServiceCode": "AmazonSageMaker", "MaxResults": 100, "Filters": filters})
    stub.add_response("get_products", {"PriceList": [
        product("USE1-Train:ml.g5.2xlarge", "1.515"), product("USE1-Host:ml.bogus", "x")]},
        {"ServiceCode": "AmazonSageMaker", "MaxResults": 100, "Filters": filters,
         "NextToken": "n2"})
    with stub:
        rows = [r for r in aws_refresh.fetch(["us-east-1"], client=client)]
    assert [(r["service"], r["sku"], r["usd"]) for r in rows] == [
        ("sagemaker-realtime-inference", "ml.m5.xlarge", "0.230000"),
        ("sagemaker-training", "ml.g5.2xlarge", "1.515000")]


def test_retries_stop_on_permanent_errors_and_give_up_after_attempts():
    calls = []

    def flaky():
        calls.append(1)
        raise requests.ConnectionError("down")
    with pytest.raises(requests.ConnectionError):
        with_retries(flaky, attempts=3, sleep=lambda s: None)
    assert len(calls) == 3
    with pytest.raises(ValueError):
        with_retries(lambda: (_ for _ in ()).throw(ValueError("bad")),
                     transient=lambda e: False, sleep=lambda s: None)


def test_merge_replaces_matching_rows_and_written_catalog_validates(tmp_path):
    from cost.catalog import CATALOG_DIR

    existing = read_rows(CATALOG_DIR / "azure.csv")
    fresh = [{**existing[0], "usd": "9.99", "source_date": "2026-11-23"}]
    merged = merge(existing, fresh)
    assert len(merged) == len(existing) and merged[0]["usd"] == "9.99"
    target = tmp_path / "azure.csv"
    write_catalog(target, merged)
    assert len(load_catalog([target])) > 0
    with pytest.raises(UserError, match="usd: expected a number"):
        write_catalog(target, [{**existing[0], "usd": "n/a"}])
    assert read_rows(target)[0]["usd"] == "9.99"  # the bad write left the old file intact
