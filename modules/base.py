"""`PlatformModule`: the neutral construct of one layer; it asks the environment's cloud
adapter to build the layer and exposes what it built."""

from __future__ import annotations

from typing import Any, ClassVar

from constructs import Construct

from adapters.base import CloudAdapter, Refs
from core.spec import Environment


class PlatformModule(Construct):
    """Base for layer constructs. `refs` is what the adapter built; `outputs` its stack
    outputs. Subclasses check the environment against the adapter's capabilities first
    (`check`), then the cloud's builder runs with the Refs of the layers this one needs."""

    layer_name: ClassVar[str]
    layer_setting: ClassVar[str]

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, **refs: Refs | None) -> None:
        super().__init__(scope, construct_id)
        self.adapter = adapter
        self.env = env
        self.check(adapter, env)
        self.refs = adapter.build(self.layer_name, self, env, self.layer_setting, **refs)

    def check(self, adapter: CloudAdapter, env: Environment) -> None:
        """Refuse, with a one-line `UserError` naming the setting, what this cloud cannot do."""

    @property
    def outputs(self) -> dict[str, Any]:
        return self.refs.outputs
