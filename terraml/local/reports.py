"""Stage the evaluate step's report for a pipeline run in the local emulator.

Containers do not run in the emulator, so nothing writes the report the metric gate reads.
`stage_report` puts one where the emulator's pipeline walker looks for it
(terraml/local/pipeline_runs.py: the evaluate step's output location with `emulator` in place
of the execution id); the next `terraml pipeline run` gates on it. Real clouds refuse it: their
evaluate step writes its own report.
"""

from __future__ import annotations

import json
import math

from core.errors import UserError
from core.outputs import StackOutputs
from core.pipeline import METRICS_FILE

STAGED = "emulator"  # stands in for the execution id (terraml.local.pipeline_runs reads it)


def parse_metrics(pairs: list[str]) -> dict[str, float]:
    """`name=value` pairs as a report; `UserError` naming the bad pair."""
    found: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not name or number is None or not math.isfinite(number):
            raise UserError(f"--metric: expected NAME=NUMBER such as auc=0.91, found {pair!r}")
        found[name] = number
    if not found:
        raise UserError("--metric: expected at least one NAME=NUMBER, found none")
    return found


def stage_report(outputs: StackOutputs, metrics: dict[str, float]) -> str:
    """Write `metrics` as the staged evaluation report; returns its S3 URI."""
    if not outputs.endpoint:
        raise UserError("pipeline stage-report: only a local deploy (terraml up --local) needs "
                        "a staged report; a real run's evaluate step writes its own")
    import boto3

    bucket, pipeline = outputs.require("bucket_artifacts", "pipeline_name")
    key = f"pipelines/{pipeline}/{STAGED}/evaluate/{METRICS_FILE}"
    s3 = boto3.client("s3", endpoint_url=outputs.endpoint, region_name=outputs.get("region"),
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(metrics).encode(),
                  ContentType="application/json")
    return f"s3://{bucket}/{key}"
