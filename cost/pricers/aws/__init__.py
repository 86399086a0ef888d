"""AWS pricers, one module per service group. Figures come from cost/catalog/aws.csv; hours per month are 730.

Usage keys follow Infracost's usage file (`monthly_data_processed_gb`, `standard.storage_gb`,
...). A dimension whose quantity is unknown is listed with quantity None ("usage-based");
a dimension with usage but no catalog row makes the whole resource unpriced, naming it.
Account-level free tiers are never subtracted per resource.
"""

from cost.pricers.aws import (  # noqa: F401  (each module registers its pricers)
    analytics,
    common,
    compute,
    keys,
    mlops,
    network,
    observability,
    pipelines,
    storage,
)
