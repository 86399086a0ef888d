"""Cloud-neutral constructs (L2/L3): each asks the adapter for provider resources.

Modules never branch on the cloud's name; they ask `adapter.supports(...)`.
"""
