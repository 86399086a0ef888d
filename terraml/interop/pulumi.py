"""Pulumi programs read a terraml environment's neutral stack outputs from its Terraform state.

    import pulumi
    from terraml.interop.pulumi import platform_outputs

    platform = platform_outputs("../platform/environments/dev.yaml")
    pulumi.export("raw_bucket", platform.bucket_raw)        # or platform["bucket_raw"]

Contract: `platform_outputs(env_file)` loads the environment file (`stacks.app.load_environment`),
reads the Terraform state that its `state:` section names, and returns one `pulumi.Output` per
neutral output (`core.outputs.NEUTRAL_OUTPUTS`, the same names on every cloud) plus the `extra`
names asked for, and nothing else. Where the state is read from, per backend:

- local: `pulumi_terraform.state.get_local_reference_output` on the file terraform writes for
  stack ml-<env>: `<outdir>/stacks/ml-<env>/terraform.tfstate` (`cdktf deploy`), else the local
  emulator deploy's `.terraml/local/ml-<env>.tfstate` (`terraml up --local`), or `state_path`.
  Both folders are taken relative to the terraml project (the nearest folder above the
  environment file that holds `cdktf.json`; else the current folder).
- s3: `get_s3_reference_output(bucket, key, region)` with stacks/backend.py's defaults
  (key `terraml/<env>.tfstate`, region `state.region` or the environment's region).
- azurerm: `get_azure_rm_reference_output(resource_group_name, storage_account_name,
  container_name, key)`, key as for s3.
- gcs: pulumi-terraform (6.x) has no gcs state reference. The state object
  `gs://<bucket>/<prefix>/default.tfstate` (prefix `terraml/<env>` by default) is read once,
  when `platform_outputs` runs, with google-cloud-storage (installed by `terraml[gcp]`);
  sensitive outputs become Pulumi secrets.

Credentials come from each backend's usual environment (AWS_*, ARM_*, application default
credentials) or `backend_options`: any other argument of the pulumi_terraform reference function
(s3 `profile`, `role_arn`, `endpoint` ...; azurerm `use_azuread_auth`, `subscription_id` ...;
local `workspace_dir`), or for gcs `client` (a `google.cloud.storage.Client`), `project`,
`credentials`.

Errors: bad input (missing or invalid file, unknown backend or option, no local state file, SDK
not installed) is a one-line `UserError` at call time. A requested output missing from the state,
an empty state, or the state of another environment fails the Outputs with a one-line
`UserError` naming the output. Numbers that are whole come back as `int` (Terraform has one
number type; Pulumi's wire format gives floats), as `terraform output -json` would read.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import UserError
from core.outputs import NEUTRAL_OUTPUTS
from core.spec import Environment
from stacks.app import load_environment
from terraml.local.emulator import STATE_DIR as EMULATOR_STATE_DIR

if TYPE_CHECKING:
    import pulumi

EXTRA = "terraml[pulumi]"
NEUTRAL: tuple[str, ...] = tuple(name for names in NEUTRAL_OUTPUTS.values() for name in names)
BACKENDS = ("local", "s3", "gcs", "azurerm")
# pulumi_terraform.state function per backend; gcs has none (read with google-cloud-storage)
REFERENCE_FUNCTIONS = {"local": "get_local_reference_output", "s3": "get_s3_reference_output",
                       "azurerm": "get_azure_rm_reference_output"}
GCS_OPTIONS = ("client", "project", "credentials")
GCS_WORKSPACE_OBJECT = "default.tfstate"  # terraform's gcs backend: <prefix>/<workspace>.tfstate


@dataclass(frozen=True)
class StateLocation:
    """Where an environment's Terraform state is: the backend, the arguments of its
    pulumi_terraform reference function (for gcs: bucket and object), and a readable source."""

    backend: str
    args: dict[str, Any] = field(default_factory=dict)
    source: str = ""


class PlatformOutputs(Mapping[str, Any]):
    """Output name -> `pulumi.Output`, read-only; every name is an attribute too."""

    def __init__(self, env: Environment, location: StateLocation,
                 outputs: dict[str, pulumi.Output[Any]]) -> None:
        self._env = env
        self._location = location
        self._outputs = outputs

    @property
    def environment(self) -> Environment:
        """The environment file these outputs belong to."""
        return self._env

    @property
    def location(self) -> StateLocation:
        """Where the values are read from."""
        return self._location

    def __getitem__(self, name: str) -> pulumi.Output[Any]:
        try:
            return self._outputs[name]
        except KeyError:
            raise KeyError(self._unknown(name)) from None

    def __getattr__(self, name: str) -> pulumi.Output[Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._outputs[name]
        except KeyError:
            raise AttributeError(self._unknown(name)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._outputs)

    def __len__(self) -> int:
        return len(self._outputs)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._outputs})

    def __repr__(self) -> str:
        return f"PlatformOutputs({self._env.stack_name} from {self._location.source})"

    def _unknown(self, name: str) -> str:
        return (f"{name!r} is not a neutral output of {self._env.stack_name}: pass "
                f"extra=[{name!r}] to platform_outputs() to read it")


def platform_outputs(env_file: str | Path | Environment, *, extra: Iterable[str] = (),
                     outdir: str | Path | None = None, state_path: str | Path | None = None,
                     backend_options: Mapping[str, Any] | None = None,
                     opts: Any = None) -> PlatformOutputs:
    """The environment's neutral outputs (and `extra` ones) as Pulumi Outputs, read from the
    Terraform state its `state:` section names (see the module docstring for each backend).

    `outdir` and `state_path` apply to the local backend; `opts` (`pulumi.InvokeOutputOptions`)
    is passed to the pulumi_terraform invoke. Raises `UserError` (one line) on bad input.
    """
    env = env_file if isinstance(env_file, Environment) else load_environment(env_file)
    wanted = _wanted(extra)
    location = state_location(env, outdir=outdir, state_path=state_path)
    sdk = _require("pulumi")
    secret: set[str] = set()
    if location.backend == "gcs":
        values, secret = _read_gcs(location, backend_options)
        state = sdk.Output.from_input(values)
    else:
        terraform_state = _require("pulumi_terraform.state")
        function = getattr(terraform_state, REFERENCE_FUNCTIONS[location.backend])
        args = {**location.args, **_options(function, location, backend_options)}
        state = function(**args, opts=opts).outputs
    checked = state.apply(lambda values: _checked(env, location.source, values, wanted))
    outputs = {}
    for name in wanted:
        output = checked.apply(lambda values, name=name: values[name])
        outputs[name] = sdk.Output.secret(output) if name in secret else output
    return PlatformOutputs(env, location, outputs)


def state_location(env: Environment, *, outdir: str | Path | None = None,
                   state_path: str | Path | None = None) -> StateLocation:
    """Where `env`'s state is, mirroring stacks/backend.py; `UserError` on an unknown backend,
    a missing local state file, or `state_path` with a remote backend."""
    state = env.state
    backend = state.backend
    if backend not in BACKENDS:
        raise UserError(env.where("state.backend", f"expected one of "
                                  f"{', '.join(BACKENDS)}, found {backend!r}"))
    if state_path is not None and backend != "local":
        raise UserError(f"state_path: applies to the local backend only; {env.source} keeps "
                        f"its state in {backend}")
    key = state.key or f"terraml/{env.name}.tfstate"
    if backend == "local":
        path = _local_state(env, outdir, state_path)
        return StateLocation("local", {"path": str(path)}, str(path))
    if backend == "s3":
        return StateLocation("s3", {"bucket": state.bucket, "key": key,
                                    "region": state.region or env.region},
                             f"s3://{state.bucket}/{key}")
    if backend == "azurerm":
        return StateLocation("azurerm", {"resource_group_name": state.resource_group,
                                         "storage_account_name": state.storage_account,
                                         "container_name": state.container, "key": key},
                             f"azurerm://{state.storage_account}/{state.container}/{key}")
    prefix = (state.prefix or f"terraml/{env.name}").strip("/")
    blob = f"{prefix}/{GCS_WORKSPACE_OBJECT}"
    return StateLocation("gcs", {"bucket": state.bucket, "object": blob},
                         f"gs://{state.bucket}/{blob}")


def project_root(env: Environment) -> Path:
    """The terraml project of `env`: the nearest folder above its file holding `cdktf.json`,
    else the current folder."""
    for folder in Path(env.source).resolve().parents:
        if (folder / "cdktf.json").is_file():
            return folder
    return Path.cwd()


def _local_state(env: Environment, outdir: str | Path | None,
                 state_path: str | Path | None) -> Path:
    if state_path is not None:
        path = Path(state_path)
        if not path.is_file():
            raise UserError(f"{path}: no Terraform state file here (state_path)")
        return path.resolve()
    root = project_root(env)
    stack_state = (Path(outdir) if outdir is not None else root / "cdktf.out") \
        / "stacks" / env.stack_name / "terraform.tfstate"
    for path in (stack_state, root / EMULATOR_STATE_DIR / f"{env.stack_name}.tfstate"):
        if path.is_file():
            return path.resolve()
    raise UserError(f"{stack_state}: no Terraform state for {env.stack_name} (local backend): "
                    f"deploy with `cdktf deploy {env.stack_name}` or `terraml up --env "
                    f"{env.name} --local`, or pass state_path=")


def _wanted(extra: Iterable[str]) -> tuple[str, ...]:
    names = [extra] if isinstance(extra, str) else list(extra)
    for name in names:
        if not isinstance(name, str) or not name:
            raise UserError(f"extra: expected output names, found {name!r}")
    return tuple(dict.fromkeys([*NEUTRAL, *names]))


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        if module.startswith("google."):
            raise UserError("reading gcs state needs google-cloud-storage: pip install "
                            "google-cloud-storage (or 'terraml[gcp]')") from None
        raise UserError(f"terraml.interop.pulumi needs {module.split('.')[0]}: "
                        f"pip install '{EXTRA}'") from None


def _options(function: Any, location: StateLocation,
             options: Mapping[str, Any] | None) -> dict[str, Any]:
    """`backend_options` checked against the reference function's own parameters."""
    if not options:
        return {}
    accepted = set(inspect.signature(function).parameters) - set(location.args) - {"opts"}
    for name in options:
        if name in location.args:
            where = ("pass state_path= instead" if location.backend == "local"
                     else "set it in the environment file's state: section")
            raise UserError(f"backend_options: {name!r} comes from terraml; {where}")
        if name not in accepted:
            raise UserError(f"backend_options: {name!r} is not an option of the "
                            f"{location.backend} state reference; expected one of "
                            f"{', '.join(sorted(accepted))}")
    return dict(options)


def _read_gcs(location: StateLocation,
              options: Mapping[str, Any] | None) -> tuple[dict[str, Any], set[str]]:
    """The outputs in the gcs state object, and the names marked sensitive."""
    options = dict(options or {})
    for name in options:
        if name not in GCS_OPTIONS:
            raise UserError(f"backend_options: {name!r} is not an option of the gcs state "
                            f"reader; expected one of {', '.join(GCS_OPTIONS)}")
    client = options.pop("client", None)
    try:
        if client is None:
            client = _require("google.cloud.storage").Client(**options)
        text = client.bucket(location.args["bucket"]).blob(
            location.args["object"]).download_as_text()
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any cloud or credentials failure, in one line
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise UserError(f"{location.source}: cannot read the Terraform state: "
                        f"{type(exc).__name__}: {reason}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{location.source}: expected a Terraform state (JSON): {exc}") from None
    raw = document.get("outputs") if isinstance(document, dict) else None
    if not isinstance(raw, dict):
        raise UserError(f"{location.source}: expected a Terraform state with `outputs`, "
                        f"found {type(raw).__name__}")
    values = {name: item.get("value") if isinstance(item, dict) else item
              for name, item in raw.items()}
    secret = {name for name, item in raw.items()
              if isinstance(item, dict) and item.get("sensitive")}
    return values, secret


def _checked(env: Environment, source: str, values: Any,
             wanted: tuple[str, ...]) -> dict[str, Any]:
    """The wanted values of one state's outputs; `UserError` naming what is wrong."""
    if not values:
        raise UserError(f"{source}: no outputs in the Terraform state of {env.stack_name}: "
                        f"deploy it first (`cdktf deploy {env.stack_name}`)")
    for name, expected in (("environment", env.name), ("cloud", env.cloud)):
        found = values.get(name)
        if found is not None and found != expected:
            raise UserError(f"{source}: output {name!r} is {found!r}, expected {expected!r} "
                            "(the state of another environment?)")
    missing = [name for name in wanted if values.get(name) is None]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        plural = "s" if len(missing) > 1 else ""
        raise UserError(f"{source}: stack output{plural} {names} missing from the Terraform "
                        f"state: redeploy {env.stack_name} with this terraml version")
    return {name: _plain(values[name]) for name in wanted}


def _plain(value: Any) -> Any:
    """Whole floats -> int, recursively (Pulumi's wire format carries numbers as floats)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
