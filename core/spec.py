"""Environment configuration: one YAML file per environment, validated by pydantic.

Contract: `load_environment(path)` returns an `Environment` or raises `UserError`
whose message is one line, `file:line: field.path: what was expected, found X`.
Every setting has a secure, cheap default; tier-dependent defaults (deletion
protection, immutable image tags, NAT, serving mode) derive from `tier`.
"""

from __future__ import annotations

import ipaddress
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import UserError
from core.yaml_lines import dotted, load_with_lines, nearest_line

ACCELERATORS = ("T4", "A10G", "L4", "A100", "H100")
CPU_SIZES = ("small", "medium", "large", "xlarge")

Accelerator = Literal["T4", "A10G", "L4", "A100", "H100"]
CpuSize = Literal["small", "medium", "large", "xlarge"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Tier(str, Enum):
    """How protected an environment is. Dev is cheap and disposable."""

    dev = "dev"
    staging = "staging"
    prod = "prod"


class Strict(BaseModel):
    """Base for every section: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class StateBackend(Strict):
    """Where Terraform keeps state. `local` needs nothing; the others are remote."""

    backend: Literal["local", "s3", "gcs", "azurerm"] = "local"
    bucket: str | None = None
    key: str | None = None
    region: str | None = None
    use_lockfile: bool = True
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


class Providers(Strict):
    """Terraform provider version constraints (override for private mirrors)."""

    aws: str = ">= 5.100, < 7.0"
    google: str = ">= 6.0, < 8.0"
    azurerm: str = ">= 4.0, < 5.0"
    azapi: str = ">= 2.0, < 3.0"

    @field_validator("aws", "google", "azurerm", "azapi")
    @classmethod
    def _constraint(cls, value: str) -> str:
        part = r"\s*(=|!=|>=|<=|>|<|~>)?\s*\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?\s*"
        if not re.fullmatch(rf"{part}(,{part})*", value):
            raise ValueError(f"expected a Terraform version constraint like '~> 6.0', found {value!r}")
        return value.strip()


class Network(Strict):
    cidr: str = "10.40.0.0/16"
    zones: int = Field(2, ge=2, le=3)
    nat_gateway: bool = False

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
    noncurrent_version_days: int = Field(30, ge=1, le=3650)
    abort_multipart_days: int = Field(7, ge=1, le=365)
    access_log_days: int = Field(90, ge=1, le=3650)
    stored_gb: float = Field(50, ge=0, description="expected data at rest, for cost estimates")

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
    keep_images: int = Field(30, ge=1, le=1000)
    immutable_tags: bool | None = None  # default: mutable in dev, immutable elsewhere


class Compute(Strict):
    """CPU batch pool for preprocessing and evaluation; scales from zero."""

    enabled: bool = True
    size: CpuSize = "medium"
    max_vcpus: int = Field(16, ge=1, le=4096)
    spot: bool = True


class Training(Strict):
    accelerator: Accelerator | None = "T4"
    count: int = Field(1, ge=1, le=16)
    instance_type: str | None = None
    spot: bool = True
    max_runtime_hours: float = Field(24, gt=0, le=28 * 24)
    max_parallel_jobs: int = Field(2, ge=1, le=100)
    gpu_hours_per_month: float = Field(20, ge=0)

    @model_validator(mode="after")
    def _one_choice(self) -> Training:
        if self.instance_type and "accelerator" in self.model_fields_set and self.accelerator:
            raise ValueError("set either accelerator or instance_type, not both")
        if self.instance_type:
            self.accelerator = None
        return self


class Serving(Strict):
    enabled: bool = True
    mode: Literal["serverless", "realtime"] | None = None  # default: serverless in dev
    accelerator: Accelerator | None = None
    size: CpuSize = "medium"
    instance_type: str | None = None
    memory_mb: int = Field(2048, ge=1024, le=6144)
    max_concurrency: int = Field(5, ge=1, le=200)
    min_instances: int = Field(1, ge=0, le=100)
    max_instances: int = Field(2, ge=1, le=100)
    target_invocations_per_instance: int = Field(100, ge=1)
    hours_per_month: float = Field(730, ge=0, le=744)
    requests_per_month: int = Field(100_000, ge=0)
    placeholder_image: str | None = None
    data_capture_percent: int = Field(20, ge=0, le=100)

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
    latency_ms: int = Field(1000, ge=1)
    errors_5xx: int = Field(5, ge=1, description="5xx errors per 5 minutes that raise an alarm")
    emails: list[Email] = Field(default_factory=list)
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                                1096, 1827, 2192, 2557, 2922, 3288, 3653] = 30


class Budget(Strict):
    monthly_usd: float = Field(500, gt=0)
    thresholds_percent: list[Annotated[int, Field(ge=1, le=1000)]] = Field(
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

    hours: float | None = Field(None, gt=0, le=24 * 30)
    endpoints: Literal["delete", "scale_down", "report"] | None = None
    notebooks: Literal["stop", "report"] | None = None


RuleAction = Literal["warn", "block", "off"]
# The cost engine's rule names (cost/policy.py RULES; a test keeps the two in step).
GUARDRAIL_RULES = ("budget", "max_increase_usd", "max_increase_percent", "allowed_instance_types",
                   "allowed_accelerators", "max_gpus", "spot_training", "scale_to_zero_serving",
                   "required_tags")


def _known_rule(name: str) -> str:
    if name not in GUARDRAIL_RULES:
        raise ValueError(f"expected a guardrail rule ({', '.join(GUARDRAIL_RULES)}), "
                         f"found {name!r}")
    return name


class Suppression(Strict):
    rule: Annotated[str, AfterValidator(_known_rule)]
    resource: str = "*"
    reason: Annotated[str, Field(min_length=10)]


class Guardrails(Strict):
    """Read by the cost engine; validated here so mistakes show up at synth time."""

    max_monthly_usd: float | None = Field(None, gt=0)
    max_increase_usd: float | None = Field(None, ge=0)
    max_increase_percent: float | None = Field(None, ge=0)
    allowed_instance_types: list[str] | None = None
    allowed_accelerators: list[Accelerator] | None = None
    max_gpus: int | None = Field(None, ge=0)
    require_spot_training: bool | None = None  # default: true in dev
    require_scale_to_zero_serving: bool | None = None  # default: true in dev
    required_tags: list[str] = Field(default_factory=lambda: ["env", "project", "cost-center"])
    actions: dict[Annotated[str, AfterValidator(_known_rule)], RuleAction] = Field(
        default_factory=dict)
    suppressions: list[Suppression] = Field(default_factory=list)


class Environment(Strict):
    """One environment file. Field order here is the order users read in the schema."""

    name: Name
    cloud: Literal["aws", "gcp", "azure"]
    region: Annotated[str, Field(pattern=r"^[a-z]{2,}[a-z0-9-]*[0-9a-z]$")]
    tier: Tier | None = None  # default: name when it is dev/staging/prod, else prod
    project: Name = "terraml"
    cost_center: Annotated[str, Field(min_length=1, max_length=64)] = "ml-platform"
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    project_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")] | None = None
    billing_account: Annotated[str, Field(pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")] | None = None
    subscription_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")] | None = None
    tags: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/=+@-]{1,128}$")], str] = Field(
        default_factory=dict
    )
    deletion_protection: bool | None = None  # default: on outside dev
    state: StateBackend = Field(default_factory=StateBackend)
    providers: Providers = Field(default_factory=Providers)
    network: Network = Field(default_factory=Network)
    data: Data = Field(default_factory=Data)
    registry: Registry = Field(default_factory=Registry)
    compute: Compute = Field(default_factory=Compute)
    training: Training = Field(default_factory=Training)
    serving: Serving = Field(default_factory=Serving)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    budget: Budget = Field(default_factory=Budget)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    stop_idle: StopIdle = Field(default_factory=StopIdle)

    _source: Path = PrivateAttr(default=Path("<memory>"))
    _lines: dict = PrivateAttr(default_factory=dict)

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

    def all_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries (cost allocation needs all three)."""
        return {**self.tags, "env": self.name, "project": self.project,
                "cost-center": self.cost_center, "managed-by": "terraml"}


def load_environment(path: Path | str) -> Environment:
    """Read and validate one environment file; `UserError` with file:line on any problem."""
    path = Path(path)
    data, lines = load_with_lines(path)
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        raise UserError(_first_error(path, exc, lines)) from None
    env._source = path
    env._lines = lines
    return env


def _first_error(path: Path, exc: ValidationError, lines: dict) -> str:
    error = exc.errors(include_url=False)[0]
    loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
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
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return f"{error['msg'].lower()}, found {shown}"
    if kind == "enum":
        return f"expected one of {ctx.get('expected', '')}, found {shown}"
    return f"{error['msg'].lower()}, found {shown}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def environment_schema() -> dict[str, Any]:
    """JSON Schema for environment files (for YAML editor completion)."""
    schema = Environment.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "terraml environment"
    return schema
