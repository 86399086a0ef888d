"""The neutral stack-output contract: the output names every cloud's stack emits, grouped by
the layer that makes them, and `StackOutputs`, the deployed values the runtime reads.

Adapters emit these names (cloud-specific extras are allowed beside them); the runtime reads
them; the README and tests take the list from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import UserError

NEUTRAL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "environment": ("environment", "cloud", "region"),
    "encryption": ("kms_key",),
    "network": ("network_id", "subnet_ids", "security_group_id"),
    "storage": ("bucket_raw", "bucket_features", "bucket_models", "bucket_artifacts",
                "catalog_database"),
    "registry": ("repository_train_url", "repository_serve_url", "model_registry"),
    "identity": ("training_role", "serving_role"),
    "compute": ("batch_queue",),
    "training": ("training_instance_type", "training_output_uri", "training_spot",
                 "training_max_runtime_seconds", "training_max_parallel_jobs"),
    "serving": ("endpoint_name", "serving_mode", "serving_instance_type"),
    "monitoring": ("alerts_topic",),
    "budget": ("budget_name",),
}

# The outputs of opt-in layers: emitted on every cloud when the layer is on.
OPT_IN_OUTPUTS: dict[str, tuple[str, ...]] = {
    "tracking": ("tracking_uri", "tracking_experiment"),
    "pipeline": ("pipeline_name", "pipeline_schedule", "pipeline_trigger", "pipeline_role",
                 "pipeline_approval"),
    "drift": ("drift_monitor", "drift_baseline_uri", "drift_target", "drift_reports_uri",
              "drift_features", "drift_thresholds", "drift_schedule"),
    "features": ("feature_store", "feature_groups", "feature_online_store"),
    "notebooks": ("notebooks", "notebook_role"),
}


def neutral_output_names() -> set[str]:
    return {name for names in NEUTRAL_OUTPUTS.values() for name in names}


@dataclass(frozen=True)
class StackOutputs:
    """A deployed stack's output values and where they came from."""

    values: dict[str, Any]
    source: str  # where the values came from, for error messages
    endpoint: str | None = None  # the local emulator, when the stack runs there

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def require(self, *names: str) -> list[Any]:
        """The values of `names`; `UserError` naming the first missing one."""
        missing = [n for n in names if self.values.get(n) in (None, "")]
        if missing:
            raise UserError(f"{self.source}: stack output {missing[0]!r} is missing: redeploy "
                            "the stack with this terraml version")
        return [self.values[n] for n in names]

    def __getitem__(self, name: str) -> Any:
        return self.require(name)[0]
