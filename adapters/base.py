"""The adapter interface: how a cloud turns neutral specs into provider resources.

One `CloudAdapter` subclass per cloud, in its own package. `modules/` and
`stacks/` talk only to this interface and ask `supports(Capability.X)` instead
of comparing cloud names (the SkyPilot `Cloud` + features pattern).

Contract for every building method: it is called once per stack, in the order
`configure`, `encryption_key`, `network`, `data_lake`, `registry`, `identity`,
`compute`, `training`, `serving`, `monitoring`, `budget`; it creates L1 provider
resources under `scope` with stable construct ids and returns a `Refs` object
whose `outputs` become stack outputs with the same neutral names on every cloud.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from constructs import Construct

from adapters.machines import AcceleratorChoice, MachineChooser
from core.capabilities import Capability
from core.errors import UserError
from core.spec import Environment

__all__ = ["AcceleratorChoice", "Capability", "CloudAdapter", "LocalEmulator", "Refs"]


@dataclass(frozen=True)
class LocalEmulator:
    """Point the provider at a local emulator (moto) instead of the cloud."""

    endpoint: str  # e.g. http://127.0.0.1:4566
    provider_version: str | None = None  # e.g. "5.100.0" from a filesystem mirror
    state_path: str | None = None  # local state file kept outside cdktf.out


@dataclass
class Refs:
    """What a building step made, as values other steps (and stack outputs) use.

    `outputs` holds the neutral stack outputs (name -> token or literal);
    `handles` holds cloud-specific objects later steps of the same adapter need.
    """

    outputs: dict[str, Any] = field(default_factory=dict)
    handles: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        if name in self.handles:
            return self.handles[name]
        return self.outputs[name]


class CloudAdapter(MachineChooser):
    """Base class for one cloud. Subclasses set `name` and `capabilities` and mix in the
    cloud's `MachineChooser` (its machine tables)."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    # Terraform provider -> default version constraint. It must admit the version the Python
    # bindings were generated from (tests/test_provider_versions.py checks it), so the
    # synthesized JSON meets the schema it was written for; `providers:` in the environment
    # file overrides it (private mirrors, the local deploy's mirrored version).
    provider_versions: ClassVar[dict[str, str]]

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def pin_providers(self, stack: Construct, env: Environment,
                      local_version: str | None = None) -> None:
        """Write each provider's version constraint: the local deploy's mirrored version,
        else the environment's `providers:` override, else this cloud's default."""
        chosen = env.providers.model_dump(exclude_unset=True, exclude_none=True)
        for provider, default in self.provider_versions.items():
            version = local_version or chosen.get(provider) or default
            stack.add_override(f"terraform.required_providers.{provider}.version", version)

    def require(self, capability: Capability, env: Environment, what: str) -> None:
        """Raise a one-line `UserError` when the environment needs a missing capability."""
        if not self.supports(capability):
            raise UserError(
                f"environment '{env.name}': {what} is not available on {self.name} "
                f"(missing capability {capability.name})"
            )

    # -- building steps ---------------------------------------------------------------

    @abstractmethod
    def configure(self, stack: Construct, env: Environment,
                  local: LocalEmulator | None) -> None:
        """Providers, version constraints, state backend and default tags/labels."""

    @abstractmethod
    def encryption_key(self, scope: Construct, env: Environment) -> Refs:
        """A customer-managed key for everything at rest. Outputs: `kms_key`."""

    @abstractmethod
    def network(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        """Private network. Outputs: `network_id`, `subnet_ids`, `security_group_id`."""

    @abstractmethod
    def data_lake(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        """Buckets (raw, features, models, artifacts, ...) and a table catalog.
        Outputs: `bucket_<name>` for each bucket, `catalog_database`."""

    @abstractmethod
    def registry(self, scope: Construct, env: Environment, key: Refs) -> Refs:
        """Container repositories and a model registry.
        Outputs: `repository_<name>_url`, `model_registry`."""

    @abstractmethod
    def identity(self, scope: Construct, env: Environment, key: Refs, data: Refs,
                 registry: Refs) -> Refs:
        """Least-privilege identities. Outputs: `training_role`, `serving_role`."""

    @abstractmethod
    def compute(self, scope: Construct, env: Environment, network: Refs) -> Refs:
        """CPU batch pool scaling from zero. Outputs: `batch_queue`."""

    @abstractmethod
    def training(self, scope: Construct, env: Environment, key: Refs, network: Refs,
                 data: Refs, identity: Refs) -> Refs:
        """What a training job needs, as outputs (`training_*`); may create nothing."""

    @abstractmethod
    def serving(self, scope: Construct, env: Environment, key: Refs, network: Refs,
                data: Refs, registry: Refs, identity: Refs) -> Refs:
        """The model endpoint. Outputs: `endpoint_name`, `serving_mode`."""

    @abstractmethod
    def monitoring(self, scope: Construct, env: Environment, key: Refs,
                   serving: Refs | None) -> Refs:
        """Notifications and alarms. Outputs: `alerts_topic`."""

    @abstractmethod
    def budget(self, scope: Construct, env: Environment, monitoring: Refs) -> Refs:
        """Monthly budget with threshold notifications. Outputs: `budget_name`."""
