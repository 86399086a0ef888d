"""Cloud-neutral layer constructs (L2/L3): each asks the adapter for provider resources.

Modules never branch on the cloud's name; they ask `adapter.supports(...)`. Importing this
package registers every layer (`modules/layers.py`): one line per layer module.
"""

from modules import (  # noqa: F401  (each registers its layers)
    continuous_training,
    data,
    ml,
    network,
    observability,
    production_ops,
)
