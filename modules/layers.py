"""The layer registry: which platform layers exist, what each needs, when it is on.

A layer is a spec section (`setting`), typed props (a `core.props.LayerProps` subclass naming
the sections it reads), one neutral construct (a `PlatformModule` subclass registered here
with `@layer(...)`) and per-cloud builders registered on each cloud's adapter
for the layer's name (adapters/base.py). The stack composes the enabled layers in dependency
order (`ordered`). Adding a layer: its spec section, its construct module (registered with
`@layer`), one import line in `modules/__init__.py`, and a builder in each cloud that offers it;
no other layer and no adapter base class changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import UserError
from core.props import LayerProps
from core.spec import Environment

if TYPE_CHECKING:
    from modules.base import PlatformModule


def always(env: Environment) -> bool:
    return True


@dataclass(frozen=True)
class Layer:
    name: str  # the construct id and the builder's name on each cloud
    construct: type[PlatformModule]
    props: type[LayerProps]  # what the builder gets: `props.of(env)`
    setting: str  # the environment setting named when the layer cannot be built
    needs: tuple[str, ...] = ()  # layers whose Refs it takes (keyword = layer name)
    uses: tuple[str, ...] = ()  # layers it takes when they are on (None otherwise)
    enabled: Callable[[Environment], bool] = always


LAYERS: dict[str, Layer] = {}


def layer(name: str, *, props: type[LayerProps], setting: str, needs: tuple[str, ...] = (),
          uses: tuple[str, ...] = (), enabled: Callable[[Environment], bool] = always) -> Callable:
    """Register a `PlatformModule` subclass as the construct of layer `name`."""
    def register(construct: type[PlatformModule]) -> type[PlatformModule]:
        LAYERS[name] = Layer(name, construct, props, setting, needs, uses, enabled)
        construct.layer_name = name
        construct.layer_setting = setting
        return construct
    return register


def registered() -> dict[str, Layer]:
    """Every layer (importing `modules` registers them)."""
    import modules  # noqa: F401

    return LAYERS


def ordered(env: Environment, layers: dict[str, Layer]) -> list[Layer]:
    """The enabled layers, each after every layer it needs or uses (registration order
    otherwise); `UserError` when an enabled layer needs one that is off."""
    enabled = {name: item for name, item in layers.items() if item.enabled(env)}
    for item in enabled.values():
        missing = [need for need in item.needs if need not in enabled]
        if missing:
            raise UserError(env.where(item.setting, f"the {item.name} layer needs "
                                                     f"{', '.join(missing)}, which is off"))
    done: list[Layer] = []
    pending = list(enabled.values())
    while pending:
        ready = next(item for item in pending if all(
            dep in {d.name for d in done} for dep in (*item.needs, *item.uses)
            if dep in enabled))
        done.append(ready)
        pending.remove(ready)
    return done
