"""Azure adapter: Azure ML workspace, compute clusters, managed online endpoint (azapi),
ADLS Gen2 storage, Key Vault, ACR, Monitor, consumption budget.

The adapter (and its provider bindings) loads on first use of `AzureAdapter`, so the runtime
modules of this package (`machines`, `runtime`) import without CDK code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AzureAdapter"]


def __getattr__(name: str) -> Any:
    if name == "AzureAdapter":
        from adapters.azure.adapter import AzureAdapter

        return AzureAdapter
    raise AttributeError(name)
