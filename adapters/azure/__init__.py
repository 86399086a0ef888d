"""Azure adapter: Azure ML workspace, compute clusters, managed online endpoint (azapi),
ADLS Gen2 storage, Key Vault, ACR, Monitor, consumption budget."""

from adapters.azure.adapter import AzureAdapter

__all__ = ["AzureAdapter"]
