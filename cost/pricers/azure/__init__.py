"""Azure pricers, one module per service group. Figures come from cost/catalog/azure.csv; hours per month are 730.

Attributes may be `${...}` expressions: a dimension the engine cannot read is either priced
with a stated assumption (noted on the component) or the resource is unpriced with a reason.
"""

from cost.pricers.azure import (  # noqa: F401  (each module registers its pricers)
    common,
    compute,
    keys,
    mlops,
    network,
    observability,
    storage,
)
