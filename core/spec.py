"""Environment configuration: one YAML file per environment, validated by pydantic.

Contract: `load_environment(path)` returns an `Environment` or raises `UserError`
whose message is one line, `file:line: field.path: what was expected, found X`.
Every setting has a secure, cheap default; tier-dependent defaults (deletion
protection, immutable image tags, NAT, serving mode) derive from `tier`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.drift import Drift
from core.errors import UserError
from core.features import FeatureStore
from core.guardrails import ACTIONS, RULE_NAMES, Action, describe_rules, known_rule
from core.notebooks import Notebooks
from core.pipeline import Pipeline, Tracking
from core.regions import check_region
from core.types import (  # noqa: F401 (re-exported: sections and tests import them here)
    ACCELERATORS,
    CPU_SIZES,
    MAX_GPUS,
    MAX_USD,
    Accelerator,
    Bool,
    CpuSize,
    Email,
    Int,
    Name,
    Num,
    Strict,
    Tier,
    _no_bool,
)
from core.yaml_lines import dotted, load_with_lines, nearest_line


class StateBackend(Strict):
    """Where Terraform keeps state. `local` needs nothing; the others are remote."""

    backend: Literal["local", "s3", "gcs", "azurerm"] = "local"
    bucket: str | None = None
    key: str | None = None
    region: str | None = None
    use_lockfile: Bool = True
    prefix: str | None = None
    resource_group: str | None = None
    storage_account: str | None = None
    container: str | None = None

    @model_validator(mode="after")
    def _required_for_backend(self) -> StateBackend:
        needed = {
            "s3": ("bucket",),
            "gcs": ("bucket",),
            "azurerm": ("resource_group", "storage_account", "container"),
        }.get(self.backend, ())
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(
                f"backend '{self.backend}' needs {', '.join(missing)}: expected a value, found none"
            )
        return self


def _constraint(value: str) -> str:
    part = r"\s*(=|!=|>=|<=|>|<|~>)?\s*\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?\s*"
    if not re.fullmatch(rf"{part}(,{part})*", value):
        raise ValueError(f"expected a Terraform version constraint like '~> 6.0', found {value!r}")
    return value.strip()


# A Terraform provider version constraint; each cloud's `providers:` section is made of these.
Constraint = Annotated[str, AfterValidator(_constraint)]


class Network(Strict):
    cidr: str = "10.40.0.0/16"
    zones: Int = Field(2, ge=2, le=3)
    nat_gateway: Bool = False

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise ValueError(f"expected an IPv4 CIDR like 10.40.0.0/16, found {value!r}") from None
        if net.version != 4 or not 16 <= net.prefixlen <= 24:
            raise ValueError(f"expected an IPv4 CIDR between /16 and /24, found {value!r}")
        return value


class Data(Strict):
    buckets: list[Name] = Field(default_factory=lambda: ["raw", "features", "models", "artifacts"])
    noncurrent_version_days: Int = Field(30, ge=1, le=3650)
    abort_multipart_days: Int = Field(7, ge=1, le=365)
    access_log_days: Int = Field(90, ge=1, le=3650)
    stored_gb: Num = Field(50, ge=0, le=10_000_000,
                           description="expected data at rest in GB, for cost estimates "
                           "(at most 10,000,000 GB = 10 PB)")

    @field_validator("buckets")
    @classmethod
    def _buckets(cls, value: list[str]) -> list[str]:
        required = {"raw", "features", "models", "artifacts"}
        missing = sorted(required - set(value))
        if missing:
            raise ValueError(f"expected at least raw, features, models, artifacts; missing {missing}")
        if len(set(value)) != len(value):
            raise ValueError("expected unique bucket names, found duplicates")
        return value


class Registry(Strict):
    repositories: list[Name] = Field(default_factory=lambda: ["train", "serve"])
    keep_images: Int = Field(30, ge=1, le=1000)
    immutable_tags: Bool | None = None  # default: mutable in dev, immutable elsewhere


class Compute(Strict):
    """CPU batch pool for preprocessing and evaluation; scales from zero."""

    enabled: Bool = True
    size: CpuSize = "medium"
    max_vcpus: Int = Field(16, ge=1, le=4096)
    spot: Bool = True


class Training(Strict):
    accelerator: Accelerator | None = "T4"
    count: Int = Field(1, ge=1, le=16, description="GPUs per machine (1 to 16)")
    instance_type: str | None = None
    spot: Bool = True
    max_runtime_hours: Num = Field(24, gt=0, le=28 * 24,
                                   description="longest a training job may run, in hours "
                                   "(at most 672 = 28 days, SageMaker's limit); jobs asking "
                                   "for more meet the max_runtime_hours guardrail")
    max_parallel_jobs: Int = Field(2, ge=1, le=100)
    gpu_hours_per_month: Num = Field(20, ge=0, le=1_000_000,
                                     description="expected GPU-hours a month, for cost "
                                     "estimates (at most 1,000,000)")

    @model_validator(mode="after")
    def _one_choice(self) -> Training:
        if self.instance_type and "accelerator" in self.model_fields_set and self.accelerator:
            raise ValueError("set either accelerator or instance_type, not both")
        if self.instance_type:
            self.accelerator = None
        return self


class Serving(Strict):
    enabled: Bool = True
    mode: Literal["serverless", "realtime"] | None = None  # default: serverless in dev
    accelerator: Accelerator | None = None
    size: CpuSize = "medium"
    instance_type: str | None = None
    memory_mb: Int = Field(2048, ge=1024, le=6144)
    max_concurrency: Int = Field(5, ge=1, le=200)
    min_instances: Int = Field(1, ge=0, le=100)
    max_instances: Int = Field(2, ge=1, le=100)
    target_invocations_per_instance: Int = Field(100, ge=1, le=1_000_000,
                                                 description="invocations per instance per "
                                                 "minute before scaling out (at most 1,000,000)")
    hours_per_month: Num = Field(730, ge=0, le=744)
    requests_per_month: Int = Field(100_000, ge=0, le=10**12,
                                    description="expected requests a month, for cost "
                                    "estimates (at most 10^12)")
    placeholder_image: str | None = None
    data_capture_percent: Int = Field(20, ge=0, le=100)

    @model_validator(mode="after")
    def _bounds(self) -> Serving:
        if self.min_instances > self.max_instances:
            raise ValueError(
                f"min_instances ({self.min_instances}) must not exceed "
                f"max_instances ({self.max_instances})"
            )
        if self.mode == "serverless" and (self.accelerator or self.instance_type):
            raise ValueError(
                "serverless serving runs on CPU only: remove accelerator/instance_type "
                "or set mode: realtime"
            )
        if self.accelerator and self.instance_type:
            raise ValueError("set either accelerator or instance_type, not both")
        return self


class Monitoring(Strict):
    latency_ms: Int = Field(1000, ge=1, le=600_000,
                            description="p99 latency in ms that raises an alarm (at most "
                            "600,000 = 10 minutes)")
    errors_5xx: Int = Field(5, ge=1, le=1_000_000,
                            description="5xx errors per 5 minutes that raise an alarm "
                            "(at most 1,000,000)")
    emails: list[Email] = Field(default_factory=list)
    log_retention_days: Annotated[
        Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                2192, 2557, 2922, 3288, 3653],
        BeforeValidator(_no_bool)] = 30
    drift: Drift | None = None  # drift monitoring (core/drift.py); off when absent


class Budget(Strict):
    monthly_usd: Num = Field(500, gt=0, le=MAX_USD,
                             description="monthly budget in USD (at most 10,000,000)")
    thresholds_percent: list[Annotated[Int, Field(ge=1, le=1000)]] = Field(
        default_factory=lambda: [50, 80, 100]
    )
    emails: list[Email] = Field(default_factory=list)  # default: monitoring.emails

    @field_validator("thresholds_percent")
    @classmethod
    def _sorted(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("expected at least one threshold, found none")
        if sorted(set(value)) != value:
            raise ValueError(f"expected unique thresholds in increasing order, found {value}")
        return value


class StopIdle(Strict):
    """`terraml stop-idle`: what to do with endpoints and notebooks nobody used for `hours`.

    Defaults by tier: dev deletes idle endpoint deployments and stops notebooks after 2 h;
    staging scales endpoints down and stops notebooks after 12 h; prod only reports (24 h).
    """

    hours: Num | None = Field(None, gt=0, le=24 * 30)
    endpoints: Literal["delete", "scale_down", "report"] | None = None
    notebooks: Literal["stop", "report"] | None = None


def _yaml_off(value: Any) -> Any:
    """YAML 1.1 reads an unquoted `off` as false: take false as the `off` action."""
    if value is False:
        return "off"
    if value is True:
        raise ValueError(f"expected one of {', '.join(map(repr, ACTIONS))}, found True")
    return value


RuleAction = Annotated[Action, BeforeValidator(_yaml_off)]
# Rule names come from the one rule table, core/guardrails.py (cost engine and runtime alike).
GUARDRAIL_RULES = RULE_NAMES
RuleName = Annotated[str, AfterValidator(known_rule),
                     Field(json_schema_extra={"enum": list(RULE_NAMES)})]


class Suppression(Strict):
    rule: RuleName
    resource: str = "*"
    reason: Annotated[str, Field(min_length=10)]


class Guardrails(Strict):
    """Read by the cost engine; validated here so mistakes show up at synth time."""

    max_monthly_usd: Num | None = Field(None, gt=0, le=MAX_USD,
                                        description="monthly estimate that blocks, in USD "
                                        "(at most 10,000,000; default: budget.monthly_usd)")
    max_increase_usd: Num | None = Field(None, ge=0, le=MAX_USD,
                                         description="monthly increase vs base that blocks, "
                                         "in USD (at most 10,000,000)")
    max_increase_percent: Num | None = Field(None, ge=0, le=10_000,
                                             description="monthly increase vs base that "
                                             "blocks, in percent (at most 10,000)")
    allowed_instance_types: list[str] | None = None
    allowed_accelerators: list[Accelerator] | None = None
    max_gpus: Int | None = Field(None, ge=0, le=MAX_GPUS,
                                 description="GPUs at once (at most 10,000)")
    require_spot_training: Bool | None = None  # default: true in dev
    require_scale_to_zero_serving: Bool | None = None  # default: true in dev
    required_tags: list[str] = Field(default_factory=lambda: ["env", "project", "cost-center"])
    actions: dict[RuleName, RuleAction] = Field(
        default_factory=dict,
        description=f"rule -> {' | '.join(ACTIONS)} (`off` unquoted reads as false, taken as "
                    f"off); rules, default action in parentheses: {describe_rules()}",
        json_schema_extra={"propertyNames": {"enum": list(RULE_NAMES)}})
    suppressions: list[Suppression] = Field(default_factory=list)


class Environment(Strict):
    """One environment file: the neutral settings every cloud shares. Each cloud adds its own
    (ids, provider constraints, state backends) in a subclass it registers with
    `register_cloud`; the spec is the union of those, told apart by `cloud:`. Field order here
    is the order users read in the schema."""

    name: Name
    cloud: str
    region: Annotated[str, Field(pattern=r"^[a-z]{2,}[a-z0-9-]*[0-9a-z]$",
                                 description="the cloud's region where its ML service runs "
                                 "(core/regions.py)")]
    tier: Tier | None = None  # default: name when it is dev/staging/prod, else prod
    project: Name = "terraml"
    cost_center: Annotated[str, Field(min_length=1, max_length=64)] = "ml-platform"
    tags: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/=+@-]{1,128}$")], str] = Field(
        default_factory=dict
    )
    deletion_protection: Bool | None = None  # default: on outside dev
    state: StateBackend = Field(default_factory=StateBackend)
    network: Network = Field(default_factory=Network)
    data: Data = Field(default_factory=Data)
    registry: Registry = Field(default_factory=Registry)
    compute: Compute = Field(default_factory=Compute)
    training: Training = Field(default_factory=Training)
    serving: Serving = Field(default_factory=Serving)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    budget: Budget = Field(default_factory=Budget)
    pipeline: Pipeline | None = None  # continuous training (core/pipeline.py); off when absent
    tracking: Tracking = Field(default_factory=Tracking)
    features: FeatureStore | None = None  # feature store (core/features.py); off when absent
    notebooks: Notebooks | None = None  # notebooks per user (core/notebooks.py); off when absent
    guardrails: Guardrails = Field(default_factory=Guardrails)
    stop_idle: StopIdle = Field(default_factory=StopIdle)

    _source: Path = PrivateAttr(default=Path("<memory>"))
    _lines: dict = PrivateAttr(default_factory=dict)

    # The state backends this cloud's subclass accepts (local works everywhere).
    state_backends: ClassVar[tuple[str, ...]] = ("local",)

    @field_validator("state")
    @classmethod
    def _state_backend(cls, value: StateBackend, info: ValidationInfo) -> StateBackend:
        if value.backend not in cls.state_backends:
            raise ValueError(f"backend: expected one of {', '.join(cls.state_backends)} on "
                             f"{info.data.get('cloud')}, found {value.backend!r}")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str, info: ValidationInfo) -> str:
        cloud = info.data.get("cloud")  # absent when `cloud:` itself failed validation
        return check_region(cloud, value) if cloud else value

    @model_validator(mode="before")
    @classmethod
    def _must_be_mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            # pydantic turns ValueError (not TypeError) into a located validation error
            raise ValueError(  # noqa: TRY004
                f"expected a mapping of settings, found {type(value).__name__}")
        return value

    @model_validator(mode="after")
    def _derive_defaults(self) -> Environment:
        if self.tier is None:
            self.tier = Tier(self.name) if self.name in Tier.__members__ else Tier.prod
        dev = self.tier is Tier.dev
        if self.deletion_protection is None:
            self.deletion_protection = not dev
        if self.registry.immutable_tags is None:
            self.registry.immutable_tags = not dev
        if self.serving.mode is None:
            gpu = bool(self.serving.accelerator or self.serving.instance_type)
            self.serving.mode = "serverless" if dev and not gpu else "realtime"
        if self.pipeline and self.pipeline.registration.approval is None:
            self.pipeline.registration.approval = "auto" if dev else "manual"
        if self.notebooks and self.notebooks.root_access is None:
            self.notebooks.root_access = dev
        if not self.budget.emails:
            self.budget.emails = list(self.monitoring.emails)
        rails = self.guardrails
        if rails.require_spot_training is None:
            rails.require_spot_training = dev
        if rails.require_scale_to_zero_serving is None:
            rails.require_scale_to_zero_serving = dev
        idle = self.stop_idle
        idle_defaults = {Tier.dev: (2, "delete", "stop"), Tier.staging: (12, "scale_down", "stop"),
                         Tier.prod: (24, "report", "report")}[self.tier]
        idle.hours = idle.hours if idle.hours is not None else idle_defaults[0]
        idle.endpoints = idle.endpoints or idle_defaults[1]
        idle.notebooks = idle.notebooks or idle_defaults[2]
        reserved = {"env", "project", "cost-center"} & set(self.tags)
        if reserved:
            raise ValueError(
                f"tags: {sorted(reserved)} are set by terraml from name/project/cost_center; "
                "remove them from tags"
            )
        return self

    @property
    def source(self) -> Path:
        """The file this environment was read from."""
        return self._source

    def where(self, field: str, problem: str) -> str:
        """Format a one-line error about `field` (dotted path) as `file:line: field: problem`."""
        loc = tuple(int(p) if p.isdigit() else p for p in field.split("."))
        return f"{self._source}:{nearest_line(loc, self._lines)}: {field}: {problem}"

    @property
    def stack_name(self) -> str:
        return f"ml-{self.name}"

    @property
    def prefix(self) -> str:
        """Name prefix for every resource: `<project>-<env>`."""
        return f"{self.project}-{self.name}"

    @property
    def is_dev(self) -> bool:
        return self.tier is Tier.dev

    def cloud_ids(self) -> Any:
        """The cloud's account ids, as its `core.props.CloudIds` subclass (each cloud's
        environment model overrides this)."""
        raise NotImplementedError(f"{type(self).__name__} does not give its cloud ids")

    def guardrail_record(self) -> dict[str, Any]:
        """The `guardrails:` section as the cost engine and the runtime guard read it: the
        rules, the budget and the training runtime limit they check against, and the file."""
        record = self.guardrails.model_dump(mode="json")
        record.update(budget_monthly_usd=self.budget.monthly_usd,
                      max_runtime_hours=self.training.max_runtime_hours,
                      source=str(self.source))
        return record

    def all_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries (cost allocation needs all three)."""
        return {**self.tags, "env": self.name, "project": self.project,
                "cost-center": self.cost_center, "managed-by": "terraml"}


CLOUD_ENVIRONMENTS: dict[str, type[Environment]] = {}


def register_cloud(model: type[Environment]) -> type[Environment]:
    """Join a cloud's environment model (`cloud: Literal["<name>"]` plus its ids, provider
    constraints and state backends) to the spec. Each cloud's package registers its own."""
    (name,) = get_args(model.model_fields["cloud"].annotation)
    CLOUD_ENVIRONMENTS[name] = model
    _spec.cache_clear()
    return model


@functools.cache
def _spec() -> TypeAdapter:
    models = tuple(CLOUD_ENVIRONMENTS.values())
    if not models:
        raise RuntimeError("no cloud is registered: load environments through "
                           "stacks.app.load_environment, which registers every cloud")
    union = models[0] if len(models) == 1 else Union[models]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="cloud")])


def load_environment(path: Path | str) -> Environment:
    """Read and validate one environment file against the registered clouds' models;
    `UserError` with file:line on any problem."""
    path = Path(path)
    data, lines = load_with_lines(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: (root): expected a mapping of settings, "
                        f"found {type(data).__name__}")
    try:
        env = _spec().validate_python(data)
    except ValidationError as exc:
        raise UserError(_first_error(path, exc, lines)) from None
    env._source = path
    env._lines = lines
    return env


def _first_error(path: Path, exc: ValidationError, lines: dict) -> str:
    error = exc.errors(include_url=False)[0]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        found = (error.get("ctx") or {}).get("tag")
        expected = ", ".join(sorted(CLOUD_ENVIRONMENTS))
        problem = (f"expected one of {expected}, found {_short(found)}" if found is not None
                   else "required setting: expected a value, found none")
        return f"{path}:{nearest_line(('cloud',), lines)}: cloud: {problem}"
    loc = tuple(error["loc"])
    if loc and loc[0] in CLOUD_ENVIRONMENTS:  # the union member's tag
        loc = loc[1:]
    loc = tuple(part for part in loc if not _is_union_tag(part))
    line = nearest_line(loc, lines)
    field = dotted(loc) or "(root)"
    return f"{path}:{line}: {field}: {_describe(error)}"


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the union member type to `loc` ("str", "literal['a']", "function-after[...]")
    return isinstance(part, str) and (
        part in {"str", "int", "float", "bool", "list", "dict", "[key]"}
        or part.startswith(("literal[", "function-", "constrained-", "lax-or-strict"))
    )


def _describe(error: dict) -> str:
    kind = error["type"]
    found = error.get("input")
    shown = _short(found)
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required setting: expected a value, found none"
    if kind == "extra_forbidden":
        return "unknown setting (check the spelling; `terraml schema` lists every setting)"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}, found {shown}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')}, found {shown}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "int_type":
        return f"expected an integer, found {shown}"
    if kind == "float_type":
        return f"expected a number, found {shown}{_text_number_hint(found)}"
    if kind == "bool_type":
        return f"expected true or false, found {shown}"
    if kind == "finite_number":
        return f"expected a finite number, found {shown}"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        bound = error["msg"].lower().removeprefix("input should be ")
        return f"expected a value {bound}, found {shown}"
    if kind == "enum":
        return f"expected one of {ctx.get('expected', '')}, found {shown}"
    return f"{error['msg'].lower()}, found {shown}"


def _text_number_hint(found: Any) -> str:
    """Why a number-looking value is text: quotes, or YAML 1.1 reading `1e3` (no dot, no
    exponent sign) as text."""
    if not isinstance(found, str):
        return ""
    try:
        float(found)
    except ValueError:
        return ""
    if "e" in found.lower() and not found.lower().lstrip("+-").startswith(("inf", "nan")):
        return " (YAML reads this as text: write an exponent with a dot and a sign, 1.0e+3)"
    return " (text: remove the quotes)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def environment_schema() -> dict[str, Any]:
    """JSON Schema for environment files (for YAML editor completion)."""
    schema = _spec().json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "terraml environment"
    return schema
