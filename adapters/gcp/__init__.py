"""GCP adapter: Vertex AI, Cloud Storage, Cloud KMS, Artifact Registry, BigQuery, Monitoring."""

from adapters.gcp.adapter import GcpAdapter

__all__ = ["GcpAdapter"]
