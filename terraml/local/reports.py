"""Stage what a container or the serving code would write, in the local emulator: the
evaluate step's report for a pipeline run (`stage_report`), and data files such as training
data or captured requests for drift monitoring (`stage_file`).

Containers do not run in the emulator, so nothing writes the report the metric gate reads.
`stage_report` puts one where the emulator's pipeline walker looks for it
(terraml/local/pipeline_runs.py: the evaluate step's output location with `emulator` in place
of the execution id); the next `terraml pipeline run` gates on it. Real clouds refuse it: their
evaluate step writes its own report.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

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

    bucket, pipeline = outputs.require("bucket_artifacts", "pipeline_name")
    key = f"pipelines/{pipeline}/{STAGED}/evaluate/{METRICS_FILE}"
    _put(outputs, bucket, key, json.dumps(metrics).encode(), "pipeline stage-report")
    return f"s3://{bucket}/{key}"


def stage_file(outputs: StackOutputs, source: Path, target: str, option: str) -> str:
    """Copy the local file `source` to `target`, `<bucket>/<prefix>` in the data lake's
    neutral bucket names (a prefix ending in `/` keeps the file's name); returns its S3 URI.
    `option` names the command-line option in errors."""
    if not outputs.endpoint:
        raise UserError(f"{option}: only a local deploy (terraml up --local) is staged this way; "
                        "on a cloud, copy the data with its own tools")
    bucket_name, sep, key = target.partition("/")
    if not sep or not bucket_name:
        raise UserError(f"{option}: expected <bucket>/<prefix> such as raw/incoming/, "
                        f"found {target!r}")
    bucket = outputs.get(f"bucket_{bucket_name}")
    if not bucket:
        raise UserError(f"{option}: expected one of the data buckets (raw, features, models, "
                        f"artifacts), found {bucket_name!r}")
    try:
        body = source.read_bytes()
    except OSError as exc:
        raise UserError(f"{source}: cannot read ({exc.strerror})") from None
    if not key or key.endswith("/"):
        key += source.name
    _put(outputs, bucket, key, body, option)
    return f"s3://{bucket}/{key}"


def _put(outputs: StackOutputs, bucket: str, key: str, body: bytes, option: str) -> None:
    """PutObject into the emulator; its failure (emulator gone, bucket missing) is one line."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _s3(outputs).put_object(Bucket=bucket, Key=key, Body=body)
    except (BotoCoreError, ClientError) as exc:
        raise UserError(f"{option}: cannot write s3://{bucket}/{key} in the local emulator "
                        f"({exc})") from None


def _s3(outputs: StackOutputs):
    import boto3

    return boto3.client("s3", endpoint_url=outputs.endpoint, region_name=outputs.get("region"),
                        aws_access_key_id="test", aws_secret_access_key="test")
