"""The adapter interface: how a cloud turns neutral specs into provider resources.

One `CloudAdapter` subclass per cloud, in its own package. `modules/` and
`stacks/` talk only to this interface and ask `supports(Capability.X)` instead
of comparing cloud names (the SkyPilot `Cloud` + features pattern).

A cloud implements `configure` and, for each platform layer it offers (see
`modules/layers.py`), one builder registered for the layer's name: a method marked
`@builds("serving")`, or a function in the cloud's own module registered with
`@AwsAdapter.implementation("serving")`. A builder is called once per stack, after the
layers it needs, as `builder(scope, props, **refs)`: `props` is the layer's typed props
(`core/props.py`: the `Site` plus the spec sections it reads) and `refs` the typed `Refs` of
those layers by name. It creates L1 provider resources under `scope` with stable construct
ids and returns its cloud's `Refs` subclass, whose `outputs` carry the neutral names of
`core/outputs.py` and whose other fields are the handles later layers of that cloud use. A cloud
without a builder for an enabled layer gets one `UserError` naming the setting.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from constructs import Construct

from adapters.machines import AcceleratorChoice, MachineChooser
from core.capabilities import Capability
from core.errors import UserError
from core.props import LayerProps
from core.spec import Environment

__all__ = ["AcceleratorChoice", "Capability", "CloudAdapter", "LocalEmulator", "Refs",
           "ServingRefs", "builds"]


def builds(layer: str) -> Callable:
    """Mark a `CloudAdapter` method as the cloud's builder for `layer`."""
    def mark(method: Callable) -> Callable:
        method.__builds_layer__ = layer
        return method
    return mark


@dataclass(frozen=True)
class LocalEmulator:
    """Point the provider at a local emulator (moto) instead of the cloud."""

    endpoint: str  # e.g. http://127.0.0.1:4566
    provider_version: str | None = None  # e.g. "5.100.0" from a filesystem mirror
    state_path: str | None = None  # local state file kept outside cdktf.out


@dataclass(kw_only=True)
class Refs:
    """What a layer built. `outputs` holds its neutral stack outputs (name -> token or
    literal); each cloud subclasses it per layer with typed fields for the resources later
    layers of that cloud use (e.g. `AwsKeyRefs.key`)."""

    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class ServingRefs(Refs):
    """The serving layer's result on every cloud: `endpoint` is the resource the workload
    record (stacks/workloads.py) points the cost engine at."""

    endpoint: Any


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
        for provider, default in self.provider_versions.items():
            version = local_version or getattr(env.providers, provider, None) or default
            stack.add_override(f"terraform.required_providers.{provider}.version", version)

    # -- layers -------------------------------------------------------------------------

    builders: ClassVar[dict[str, Callable[..., Refs]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.builders = {layer: method for klass in reversed(cls.__mro__)
                        for method in vars(klass).values()
                        if (layer := getattr(method, "__builds_layer__", None))}

    @classmethod
    def implementation(cls, layer: str) -> Callable:
        """Register `function(adapter, scope, props, **refs) -> Refs` as this cloud's builder
        for `layer` (for layers whose code lives in its own module of the cloud's package)."""
        def register(function: Callable[..., Refs]) -> Callable[..., Refs]:
            cls.builders = {**cls.builders, layer: function}
            return function
        return register

    def implements(self, layer: str) -> bool:
        return layer in self.builders

    def build(self, layer: str, scope: Construct, props: LayerProps, setting: str,
              **refs: Refs | None) -> Refs:
        """Run this cloud's builder for `layer`; a one-line `UserError` naming `setting` when
        the cloud does not offer the layer."""
        builder = self.builders.get(layer)
        if builder is None:
            raise UserError(props.site.where(setting, f"the {layer} layer is not available on "
                                                      f"{self.name}; turn it off for this cloud"))
        return builder(self, scope, props, **refs)

    @abstractmethod
    def configure(self, stack: Construct, env: Environment,
                  local: LocalEmulator | None) -> None:
        """Providers, version constraints, state backend and default tags/labels."""
