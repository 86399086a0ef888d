"""The regions each cloud offers terraml's services in, for `region:` validation.

Contract: `check_region(cloud, region)` returns `region` when the cloud runs terraml's
managed ML service there, else raises `ValueError` with one line naming the closest valid
regions (difflib), for the spec's validators. The tables are snapshots of each cloud's
public regions (not GovCloud, China, sovereign or restricted-access regions) where its ML
service runs; a new region is one line here.
"""

from __future__ import annotations

import difflib

# Amazon SageMaker AI training and hosting endpoints, commercial partition:
# https://docs.aws.amazon.com/general/latest/gr/sagemaker.html
AWS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1",
    "mx-central-1", "sa-east-1", "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2", "il-central-1", "me-south-1",
    "me-central-1", "af-south-1", "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
)

# Vertex AI locations (custom training and online prediction):
# https://cloud.google.com/vertex-ai/docs/general/locations
GCP = (
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
    "us-west3", "us-west4", "northamerica-northeast1", "northamerica-northeast2",
    "southamerica-east1", "southamerica-west1", "europe-central2", "europe-north1",
    "europe-southwest1", "europe-west1", "europe-west2", "europe-west3", "europe-west4",
    "europe-west6", "europe-west8", "europe-west9", "europe-west12", "me-central1",
    "me-central2", "me-west1", "africa-south1", "asia-east1", "asia-east2", "asia-northeast1",
    "asia-northeast2", "asia-northeast3", "asia-south1", "asia-southeast1", "asia-southeast2",
    "australia-southeast1", "australia-southeast2",
)

# Azure Machine Learning, public non-restricted regions:
# https://azure.microsoft.com/explore/global-infrastructure/products-by-region/?products=machine-learning-service
# (programmatic names: https://learn.microsoft.com/azure/reliability/regions-list)
AZURE = (
    "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus",
    "westus", "westus2", "westus3", "canadacentral", "canadaeast", "mexicocentral",
    "brazilsouth", "northeurope", "westeurope", "uksouth", "ukwest", "francecentral",
    "germanywestcentral", "italynorth", "norwayeast", "polandcentral", "spaincentral",
    "swedencentral", "switzerlandnorth", "switzerlandwest", "israelcentral", "qatarcentral",
    "uaenorth", "southafricanorth", "centralindia", "southindia", "eastasia", "southeastasia",
    "japaneast", "japanwest", "koreacentral", "koreasouth", "australiaeast",
    "australiasoutheast", "australiacentral", "newzealandnorth",
)

REGIONS: dict[str, tuple[str, ...]] = {"aws": AWS, "gcp": GCP, "azure": AZURE}
SERVICE = {"aws": "SageMaker", "gcp": "Vertex AI", "azure": "Azure Machine Learning"}
NAME = {"aws": "an AWS", "gcp": "a GCP", "azure": "an Azure"}


def closest(cloud: str, region: str, n: int = 3) -> list[str]:
    """Up to `n` valid regions of `cloud` that look like `region`, best first: difflib's
    similarity, a swapped-letters typo (same letters) first, ties in table order."""
    scored = []
    for index, name in enumerate(REGIONS[cloud]):
        score = difflib.SequenceMatcher(None, region, name).ratio()
        if score >= 0.6:
            scored.append((-(score + (0.2 if sorted(name) == sorted(region) else 0)), index, name))
    return [name for _, _, name in sorted(scored)[:n]]


def check_region(cloud: str, region: str) -> str:
    """`region` when `cloud` runs terraml's services there; else a one-line `ValueError`."""
    regions = REGIONS.get(cloud)
    if regions is None or region in regions:
        return region
    near = closest(cloud, region)
    hint = (f"did you mean {' or '.join(near)}?" if near
            else f"{cloud} regions: {', '.join(regions)}")
    raise ValueError(f"expected {NAME[cloud]} region where {SERVICE[cloud]} runs, "
                     f"found {region!r}; {hint}")
