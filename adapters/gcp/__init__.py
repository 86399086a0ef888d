"""GCP adapter: Vertex AI, Cloud Storage, Cloud KMS, Artifact Registry, BigQuery, Monitoring.

The adapter (and its provider bindings) loads on first use of `GcpAdapter`, so the runtime
modules of this package (`machines`, `runtime`) import without CDK code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GcpAdapter"]


def __getattr__(name: str) -> Any:
    if name == "GcpAdapter":
        from adapters.gcp.adapter import GcpAdapter

        return GcpAdapter
    raise AttributeError(name)
