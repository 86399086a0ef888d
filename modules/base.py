"""`PlatformModule`: the neutral construct of one layer; it asks the environment's cloud
adapter to build the layer and exposes what it built."""

from __future__ import annotations

from typing import Any, ClassVar

from constructs import Construct

from adapters.base import CloudAdapter, Refs
from core.props import LayerProps


class PlatformModule(Construct):
    """Base for layer constructs. Takes the layer's typed props (`core/props.py`) and the
    `Refs` of the layers it needs; `refs` is what the adapter built, `outputs` its stack
    outputs. Subclasses refuse what the cloud cannot do first (`check`), then the cloud's
    builder runs."""

    layer_name: ClassVar[str]
    layer_setting: ClassVar[str]
    props_type: ClassVar[type[LayerProps]]

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 props: LayerProps, **refs: Refs | None) -> None:
        super().__init__(scope, construct_id)
        self.adapter = adapter
        self.props = props
        self.check(adapter, props)
        self.refs = adapter.build(self.layer_name, self, props, self.layer_setting, **refs)

    def check(self, adapter: CloudAdapter, props: Any) -> None:
        """Refuse, with a one-line `UserError` naming the setting, what this cloud cannot do."""

    @property
    def outputs(self) -> dict[str, Any]:
        return self.refs.outputs
