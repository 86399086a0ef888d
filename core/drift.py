"""The drift-monitoring section of the environment file (`monitoring.drift:`).

Drift is neutral: a per-feature *drift score* in [0, 1] between the baseline (the training
data, summarized by `terraml monitor baseline`) and production data (the endpoint's captured
requests, or a data-lake prefix the serving code writes to). A feature whose score exceeds its
threshold counts as a violation; any violation raises the stack's alert. Each cloud maps the
score onto its own statistic (SageMaker Model Monitor's baseline distribution distance,
Vertex AI Model Monitoring's Jensen-Shannon / L-infinity distance, Azure ML's normalized
Wasserstein / Jensen-Shannon distance).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from core.cron import parse
from core.types import CpuSize, Num, Strict

FeatureName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$")]
# A drift score is a distance between two distributions, 0 (same) to 1 (disjoint).
Threshold = Annotated[Num, Field(gt=0, le=1, description="drift score above which a feature "
                                 "counts as drifted: greater than 0, at most 1")]
ENDPOINT = "endpoint"  # production data = the endpoint's captured requests
DEFAULT_SCHEDULE = "0 * * * *"  # hourly: the shortest period every cloud's monitor accepts


class Drift(Strict):
    """Compare production data with the training baseline on a schedule."""

    baseline: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}/[A-Za-z0-9_./=-]*$")] = \
        Field(description="<bucket>/<prefix> (bucket is one of data.buckets) where "
              "`terraml monitor baseline` writes the baseline statistics")
    target: Annotated[str, Field(pattern=r"^(endpoint|[a-z][a-z0-9-]{0,30}/[A-Za-z0-9_./=-]*)$")] \
        = Field(ENDPOINT, description="production data to watch: `endpoint` (the serving "
                "endpoint's captured requests, realtime serving) or <bucket>/<prefix> where "
                "the serving code writes its requests as CSV")
    schedule: str = Field(DEFAULT_SCHEDULE, description="cron, UTC, on the hour: every hour "
                          "('0 * * * *'), every N hours ('0 */6 * * *') or daily at an hour "
                          "('0 6 * * *'), the forms every cloud's monitor accepts")
    features: list[FeatureName] = Field(min_length=1, description="the features (columns) "
                                        "to watch; each gets its own alert")
    threshold: Threshold = 0.3
    feature_thresholds: dict[FeatureName, Threshold] = Field(
        default_factory=dict, description="per-feature thresholds overriding `threshold`")
    size: CpuSize = Field("medium", description="machine size of each monitoring run")
    hours_per_run: Num = Field(0.1, gt=0, le=24, description="expected hours per monitoring "
                               "run, for cost estimates (at most 24)")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        minute, hour, *days = parse(value).fields
        if minute != "0" or any(field != "*" for field in days) or not re.fullmatch(
                r"\*|\*/([1-9]|1[0-9]|2[0-3])|[0-9]|1[0-9]|2[0-3]", hour):
            raise ValueError("expected a run on the hour every hour ('0 * * * *'), every N "
                             "hours ('0 */6 * * *') or daily at an hour ('0 6 * * *'): the "
                             f"forms every cloud's monitor accepts, found {value!r}")
        return value

    def period_hours(self) -> int:
        """Hours between two runs (1 hourly, N for `*/N`, 24 daily): the production data one
        run reads."""
        hour = parse(self.schedule).fields[1]
        return 1 if hour == "*" else int(hour[2:]) if hour.startswith("*/") else 24

    @model_validator(mode="after")
    def _thresholds_name_watched_features(self) -> Drift:
        unknown = sorted(set(self.feature_thresholds) - set(self.features))
        if unknown:
            raise ValueError(f"feature_thresholds names {unknown}, which are not in features")
        if len(set(self.features)) != len(self.features):
            raise ValueError("expected unique feature names, found duplicates")
        return self

    def threshold_of(self, feature: str) -> float:
        return self.feature_thresholds.get(feature, self.threshold)

    def thresholds(self) -> dict[str, float]:
        """`{"default": threshold, <feature>: its threshold, ...}` for every watched feature
        (the `drift_thresholds` stack output on every cloud)."""
        return {"default": float(self.threshold),
                **{name: float(self.threshold_of(name)) for name in self.features}}

    def runs_per_month(self) -> float:
        return parse(self.schedule).runs_per_month()

    def watches_endpoint(self) -> bool:
        return self.target == ENDPOINT

    def baseline_bucket(self) -> str:
        return self.baseline.split("/", 1)[0]

    def baseline_prefix(self) -> str:
        return self.baseline.split("/", 1)[1]

    def target_bucket(self) -> str | None:
        return None if self.watches_endpoint() else self.target.split("/", 1)[0]

    def target_prefix(self) -> str:
        return "" if self.watches_endpoint() else self.target.split("/", 1)[1]


def drift_bucket_problem(drift: Drift, buckets: list[str]) -> tuple[str, str] | None:
    """(setting, problem) when the baseline or target names a bucket that is not a data
    bucket, else None."""
    for setting, bucket in (("baseline", drift.baseline_bucket()),
                            ("target", drift.target_bucket())):
        if bucket is not None and bucket not in buckets:
            return (f"monitoring.drift.{setting}",
                    f"expected one of the data buckets ({', '.join(buckets)}), found {bucket!r}")
    return None
