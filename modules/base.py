"""`PlatformModule`: a construct wrapping one adapter building step and its outputs."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from adapters.base import CloudAdapter, Refs
from core.spec import Environment


class PlatformModule(Construct):
    """Base for neutral modules. `refs` is what the adapter built; `outputs` its stack outputs."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment) -> None:
        super().__init__(scope, construct_id)
        self.adapter = adapter
        self.env = env
        self.refs = Refs()

    @property
    def outputs(self) -> dict[str, Any]:
        return self.refs.outputs
