"""The continuous-training sections of the environment file (`pipeline:`, `tracking:`) and the
props their layers build from.

`pipeline:` describes prepare -> train -> evaluate (a metric gate) -> register, started on a
schedule (core/cron.py) and/or when new objects land under a data-lake prefix; new model
versions wait for approval outside dev. `tracking:` turns on experiment tracking
(`tracking_uri` on every cloud). Both are neutral: each cloud maps them in its own package.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from core.cron import Cron, parse
from core.types import Accelerator, Bool, CpuSize, Int, Num, Strict

if TYPE_CHECKING:
    from core.spec import Data

# What every step's container is told, on every cloud (each cloud's runtime or pipeline
# definition maps these onto its own paths): where to read, where to write, and for the
# evaluate step where to write `{"<metric>": value}`, the report the gate reads.
STEP_VARIABLES = {
    "prepare": ("TERRAML_INPUT", "TERRAML_OUTPUT"),
    "train": ("TERRAML_INPUT", "TERRAML_MODEL_DIR"),
    "evaluate": ("TERRAML_INPUT", "TERRAML_MODEL_DIR", "TERRAML_METRICS_FILE"),
}
METRICS_FILE = "evaluation.json"  # the evaluate step's report, in its output location

Image = Annotated[str, Field(pattern=r"^\S+$", min_length=1, max_length=512,
                             description="container image URI")]
STEP_NAMES = ("prepare", "train", "evaluate")
DEFAULT_ON_NEW_DATA_RUNS = 30  # runs a month assumed for `on_new_data` without a schedule


class Step(Strict):
    image: Image
    command: Annotated[str, Field(min_length=1, description="the step's command line")]
    hours: Num = Field(0.5, gt=0, le=72, description="expected hours per run, for cost "
                       "estimates (at most 72)")

    @field_validator("command")
    @classmethod
    def _words(cls, value: str) -> str:
        try:
            if not shlex.split(value):
                raise ValueError("expected a command, found only spaces")
        except ValueError as exc:
            raise ValueError(f"expected a shell command line, found {value!r} ({exc})") from None
        return value

    def argv(self) -> list[str]:
        return shlex.split(self.command)


class CpuStep(Step):
    size: CpuSize = "medium"


class TrainStep(Step):
    """Runs on the training settings (accelerator, spot, runtime limit) unless it names its
    own machine here."""

    hours: Num = Field(1, gt=0, le=28 * 24, description="expected hours per run, for cost "
                       "estimates (at most training.max_runtime_hours)")
    accelerator: Accelerator | None = None  # default: training.accelerator
    count: Int | None = Field(None, ge=1, le=16)  # default: training.count
    instance_type: str | None = None  # default: training.instance_type

    @model_validator(mode="after")
    def _one_choice(self) -> TrainStep:
        if self.accelerator and self.instance_type:
            raise ValueError("set either accelerator or instance_type, not both")
        return self


class EvaluateStep(CpuStep):
    """A quality gate: the model is registered only when `metric` >= `min` (and <= `max`).
    The step writes `{"<metric>": value}` to the file named by TERRAML_METRICS_FILE."""

    metric: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$")] | None = None
    min: Num | None = None
    max: Num | None = None

    @model_validator(mode="after")
    def _gate(self) -> EvaluateStep:
        bounded = self.min is not None or self.max is not None
        if bounded and not self.metric:
            raise ValueError("a gate (min/max) needs the metric it reads: set metric")
        if self.metric and not bounded:
            raise ValueError(f"metric {self.metric!r} gates nothing: set min and/or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Steps(Strict):
    prepare: CpuStep | None = None
    train: TrainStep
    evaluate: EvaluateStep | None = None

    def named(self) -> dict[str, Step]:
        """The steps that are set, in run order."""
        return {name: step for name in STEP_NAMES if (step := getattr(self, name)) is not None}


class Register(Strict):
    approval: Literal["manual", "auto"] | None = None  # default: manual outside dev


class Pipeline(Strict):
    steps: Steps
    schedule: str | None = Field(None, description="cron, UTC: five fields ('0 3 * * MON') "
                                 "or cron(0 3 ? * MON *)")
    on_new_data: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}/[A-Za-z0-9_./=-]*$")] | \
        None = Field(None, description="<bucket>/<prefix>: run when objects are created there "
                     "(bucket is one of data.buckets)")
    runs_per_month: Num | None = Field(None, ge=0, le=50_000,
                                       description="expected runs a month, for cost estimates "
                                       "(default: from the schedule; "
                                       f"{DEFAULT_ON_NEW_DATA_RUNS} for on_new_data alone)")
    max_parallel_runs: Int = Field(1, ge=1, le=20)
    # `register:` in the file (`register` itself would shadow pydantic's ABC method)
    registration: Register = Field(default_factory=Register, alias="register")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron = parse(value)
            cron.aws()  # refuses what one of the clouds cannot schedule
        return value

    def cron(self) -> Cron | None:
        return parse(self.schedule) if self.schedule else None

    def trigger_bucket(self) -> str | None:
        return self.on_new_data.split("/", 1)[0] if self.on_new_data else None

    def trigger_prefix(self) -> str:
        return self.on_new_data.split("/", 1)[1] if self.on_new_data else ""

    def expected_runs(self) -> tuple[float, str]:
        """(runs a month, where the figure comes from) for the cost engine."""
        if self.runs_per_month is not None:
            return self.runs_per_month, "pipeline.runs_per_month"
        cron = self.cron()
        if cron is not None:
            runs = cron.runs_per_month()
            return runs, f"schedule {self.schedule!r}: {runs:g} runs in a 30-day month"
        if self.on_new_data:
            return DEFAULT_ON_NEW_DATA_RUNS, (f"assumed {DEFAULT_ON_NEW_DATA_RUNS} new-data "
                                              "runs a month (set pipeline.runs_per_month)")
        return 0, "no schedule and no on_new_data: runs only when started by hand"


class Tracking(Strict):
    """Experiment tracking, off by default because on AWS it is a server billed all month."""

    enabled: Bool = False
    size: Literal["small", "medium", "large"] = Field(
        "small", description="tracking server size where the cloud runs one (AWS SageMaker "
        "managed MLflow); Vertex AI Experiments and Azure ML's MLflow have no size")
    experiment: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")] | None = \
        None  # default: the environment name


def bucket_problem(pipeline: Pipeline, data: Data) -> str | None:
    """Why `on_new_data` cannot be watched, or None."""
    bucket = pipeline.trigger_bucket()
    if bucket is not None and bucket not in data.buckets:
        return f"expected one of the data buckets ({', '.join(data.buckets)}), found {bucket!r}"
    return None
