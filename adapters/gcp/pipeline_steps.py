"""The programs terraml's own pipeline steps run on Vertex AI Pipelines.

This file is standard library only: the compiled template embeds its source and runs it as
`python3 -c <source> <command> <args...>` in the google-cloud-cli image (which has python3),
authenticated as the run's service account through the metadata server. Commands:

- `gate EVALUATION_DIR FILE METRIC MIN MAX METRIC_OUT METRICS_OUT`: read the evaluate step's
  report `EVALUATION_DIR/FILE` (`{"<metric>": value, ...}`), write the gate's metric to
  METRIC_OUT (a float the pipeline's condition compares) and every numeric metric as JSON to
  METRICS_OUT. A missing report or metric fails the step.
- `train PARENT JOB_JSON INPUT MODEL_URI RUN`: create the train step as a Vertex AI custom job
  (JOB_JSON: the CustomJob body with the step's machine, spot strategy, timeout, identity,
  network and key), with TERRAML_INPUT / TERRAML_MODEL_DIR pointing at INPUT and MODEL_URI
  through Cloud Storage FUSE (/gcs/...) in PARENT (projects/P/locations/R); wait for it; fail when it fails. SIGTERM (the run
  being cancelled) cancels the job.
- `register MODEL DISPLAY_NAME ARTIFACT_URI IMAGE KMS_KEY LABELS_JSON ALIASES METRICS_JSON RUN`:
  upload ARTIFACT_URI as a new version of MODEL (the first upload creates it) with the labels
  (approval state included), version aliases (comma-separated), CMEK and a version
  description `{"metrics": ..., "run": ...}`; wait for the upload.

A failure prints one line (`terraml <command>: ...`) and exits 1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

TOKEN_URL = ("http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/"
             "default/token")
POLL_SECONDS = 30.0
UPLOAD_TIMEOUT_SECONDS = 3600.0
JOB_DONE = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED",
            "JOB_STATE_EXPIRED"}


class StepError(Exception):
    """What made the step fail (printed as one line)."""


class ApiError(StepError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Vertex:
    """Vertex AI REST calls with the metadata server's token. `opener` and `sleep` are
    swappable for tests."""

    def __init__(self, region: str, opener: Callable[..., Any] = urllib.request.urlopen,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = f"https://{region}-aiplatform.googleapis.com/v1/"
        self.opener, self.sleep = opener, sleep
        self._token: tuple[str, float] | None = None

    def token(self) -> str:
        if self._token is None or self._token[1] < time.time() + 60:
            request = urllib.request.Request(TOKEN_URL, headers={"Metadata-Flavor": "Google"})
            with self.opener(request, timeout=30) as response:
                found = json.loads(response.read())
            self._token = (found["access_token"], time.time() + float(found["expires_in"]))
        return self._token[0]

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token()}",
                     "Content-Type": "application/json"})
        try:
            with self.opener(request, timeout=60) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read().decode(errors="replace")
            try:
                message = json.loads(raw)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = raw[:300] or exc.reason
            raise ApiError(exc.code, message) from None
        return json.loads(text) if text else {}

    def wait_operation(self, operation: dict, timeout: float = UPLOAD_TIMEOUT_SECONDS) -> dict:
        """The finished operation's response; `StepError` on its error or a timeout."""
        deadline = time.time() + timeout
        while not operation.get("done"):
            if time.time() > deadline:
                raise StepError(f"{operation.get('name')} not done after {timeout:g} s")
            self.sleep(POLL_SECONDS)
            operation = self.call("GET", operation["name"])
        if "error" in operation:
            raise StepError(operation["error"].get("message", "the operation failed"))
        return operation.get("response", {})


def fuse(uri: str) -> str:
    """A gs:// URI as the Cloud Storage FUSE path Vertex AI mounts at /gcs."""
    return "/gcs/" + uri[len("gs://"):] if uri.startswith("gs://") else uri


def label(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]


# -- gate ------------------------------------------------------------------------------


def gate(evaluation_dir: str, file_name: str, metric: str, low: str, high: str,
         metric_out: str, metrics_out: str) -> str:
    path = os.path.join(fuse(evaluation_dir), file_name)
    try:
        with open(path) as handle:
            report = json.load(handle)
    except FileNotFoundError:
        raise StepError(f"the evaluate step wrote no {path} (TERRAML_METRICS_FILE)") from None
    except ValueError as exc:
        raise StepError(f"{path}: expected JSON {{\"<metric>\": number}}, found an error: "
                        f"{exc}") from None
    if not isinstance(report, dict):
        raise StepError(f"{path}: expected a JSON object of metrics, found "
                        f"{type(report).__name__}")
    metrics = {str(k): float(v) for k, v in report.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    value = 0.0
    if metric:
        if metric not in metrics:
            raise StepError(f"{path}: expected a number under {metric!r}, found keys "
                            f"{sorted(report) or 'none'}")
        value = metrics[metric]
    for target, text in ((metric_out, repr(value)), (metrics_out, json.dumps(metrics))):
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w") as handle:
            handle.write(text)
    if not metric:
        return f"metrics: {json.dumps(metrics)}"
    passed = (not low or value >= float(low)) and (not high or value <= float(high))
    bounds = " and ".join(part for part in (f">= {low}" if low else "",
                                            f"<= {high}" if high else "") if part)
    return (f"{metric} = {value:g}: {'passes' if passed else 'fails'} the gate ({bounds}); "
            f"{'registering the model' if passed else 'the model is not registered'}")


# -- train -----------------------------------------------------------------------------


def train(api: Vertex, parent: str, job_json: str, source: str, model_uri: str,
          run: str, log: Callable[[str], None] = print) -> str:
    job = json.loads(job_json)
    container = job["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]
    container["env"] = [*container.get("env", []),
                        {"name": "TERRAML_INPUT", "value": fuse(source)},
                        {"name": "TERRAML_MODEL_DIR", "value": fuse(model_uri)}]
    job["displayName"] = f"{run}-train"[:128]
    output = job["jobSpec"].get("baseOutputDirectory")
    if output:  # one folder per run for the job's own output (AIP_* directories)
        output["outputUriPrefix"] = f"{output['outputUriPrefix'].rstrip('/')}/{label(run)}/"
    job["labels"] = {**job.get("labels", {}), "terraml-pipeline-run": label(run)}
    created = api.call("POST", f"{parent}/customJobs", job)
    name = created["name"]
    log(f"custom job {name}: {created.get('state', 'JOB_STATE_PENDING')}")

    def cancel(signum: int, frame: Any) -> None:
        api.call("POST", f"{name}:cancel", {})
        raise StepError(f"cancelled: custom job {name} cancelled with the run")

    previous = signal.signal(signal.SIGTERM, cancel)
    found = created
    try:
        while found.get("state") not in JOB_DONE:
            api.sleep(POLL_SECONDS)
            state, found = found.get("state"), api.call("GET", name)
            if found.get("state") != state:
                log(f"custom job {name}: {found.get('state')}")
    finally:
        signal.signal(signal.SIGTERM, previous)
    if found["state"] != "JOB_STATE_SUCCEEDED":
        error = (found.get("error") or {}).get("message", "")
        raise StepError(f"custom job {name} ended {found['state']}"
                        f"{': ' + error if error else ''}")
    return f"custom job {name} succeeded; model in {model_uri}"


# -- register --------------------------------------------------------------------------


def register(api: Vertex, model: str, display_name: str, artifact_uri: str, image: str,
             kms_key: str, labels_json: str, aliases: str, metrics_json: str,
             run: str) -> str:
    parent = model.split("/models/")[0]
    body = {"displayName": display_name, "artifactUri": artifact_uri,
            "containerSpec": {"imageUri": image},
            "labels": {**json.loads(labels_json), "terraml-pipeline-run": label(run)},
            "versionAliases": [a for a in aliases.split(",") if a],
            "versionDescription": json.dumps({"metrics": json.loads(metrics_json or "{}"),
                                              "run": run}),
            "encryptionSpec": {"kmsKeyName": kms_key}}
    try:
        api.call("GET", model)
        request = {"parentModel": model, "model": body}
    except ApiError as exc:
        if exc.status != 404:
            raise
        request = {"modelId": model.rsplit("/", 1)[1], "model": body}
    try:
        operation = api.call("POST", f"{parent}/models:upload", request)
    except ApiError as exc:
        if exc.status != 409 or "parentModel" in request:
            raise
        # another run created the model between the two calls: add a version to it
        operation = api.call("POST", f"{parent}/models:upload",
                             {"parentModel": model, "model": body})
    response = api.wait_operation(operation)
    return (f"registered {response.get('model', model)}@{response.get('modelVersionId', '?')} "
            f"({', '.join(body['versionAliases']) or 'no alias'})")


def main(argv: list[str], api_factory: Callable[[str], Vertex] = Vertex) -> int:
    """Run one command; 0 on success, 1 with one line on stderr otherwise."""
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "gate":
            print(gate(*args))
        elif command in ("train", "register"):
            region = args[0].split("/")[3]  # projects/P/locations/R/...
            print((train if command == "train" else register)(api_factory(region), *args))
        else:
            raise StepError(f"expected gate, train or register, found {command!r}")
    except (StepError, OSError, KeyError, TypeError, ValueError) as exc:
        print(f"terraml {command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
