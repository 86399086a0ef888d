"""Production ML-ops layers: drift monitoring, the feature store and per-user notebooks."""

from __future__ import annotations

from adapters.base import Capability, CloudAdapter
from core.drift import drift_bucket_problem
from core.errors import UserError
from core.features import feature_bucket_problem
from core.props import DriftProps, FeatureStoreProps, NotebooksProps
from modules.base import PlatformModule
from modules.layers import layer


@layer("drift", props=DriftProps, setting="monitoring.drift",
       needs=("key", "network", "data", "identity", "monitoring"), uses=("serving",),
       enabled=lambda env: env.monitoring.drift is not None)
class DriftMonitoring(PlatformModule):
    """Scheduled comparison of production data with the training baseline, alerting on the
    monitoring channel. Outputs: `drift_monitor`, `drift_baseline_uri`, `drift_target`,
    `drift_reports_uri`, `drift_features`, `drift_thresholds`, `drift_schedule`."""

    def check(self, adapter: CloudAdapter, props: DriftProps) -> None:
        drift, where = props.monitoring.drift, props.site.where
        assert drift is not None  # the layer is on only when it is set
        problem = drift_bucket_problem(drift, props.data.buckets)
        if problem:
            raise UserError(where(*problem))
        if not drift.watches_endpoint():
            return
        if not props.serving.enabled:
            raise UserError(where("monitoring.drift.target", "`endpoint` needs serving.enabled; "
                                  "set target to the <bucket>/<prefix> of production data"))
        if props.serving.data_capture_percent == 0:
            raise UserError(where("monitoring.drift.target", "`endpoint` reads the requests "
                                  "the endpoint captures: set serving.data_capture_percent "
                                  "above 0"))
        if props.serving.mode == "serverless" and not adapter.supports(
                Capability.SERVERLESS_DATA_CAPTURE):
            raise UserError(where("monitoring.drift.target", f"serverless endpoints on "
                                  f"{adapter.name} capture no requests: set serving.mode: "
                                  "realtime, or target: <bucket>/<prefix> where the serving "
                                  "code writes its requests"))


@layer("features", props=FeatureStoreProps, setting="features",
       needs=("key", "network", "data", "identity"),
       enabled=lambda env: env.features is not None)
class FeatureStore(PlatformModule):
    """Entities and feature groups: an offline store in the data lake (history, for training)
    and an optional online store (latest values, for serving). Outputs: `feature_store`,
    `feature_groups`, `feature_online_store`."""

    def check(self, adapter: CloudAdapter, props: FeatureStoreProps) -> None:
        problem = feature_bucket_problem(props.features, props.data.buckets)
        if problem:
            raise UserError(props.site.where(*problem))


@layer("notebooks", props=NotebooksProps, setting="notebooks",
       needs=("key", "network", "data", "identity"),
       enabled=lambda env: env.notebooks is not None)
class Notebooks(PlatformModule):
    """One notebook machine per user, private, encrypted, stopped when idle.
    Outputs: `notebooks` (user -> notebook name), `notebook_role`."""
