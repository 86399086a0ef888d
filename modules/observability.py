"""Monitoring (notifications, endpoint alarms, failed-job events) and the monthly budget."""

from __future__ import annotations

from constructs import Construct

from adapters.base import CloudAdapter, Refs
from core.spec import Environment
from modules.base import PlatformModule


class Monitoring(PlatformModule):
    """Alerts channel with email recipients; latency/error alarms when an endpoint exists."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, key: Refs, serving: Refs | None) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        self.refs = adapter.monitoring(self, env, key, serving)


class Budget(PlatformModule):
    """Monthly budget, filtered to this environment, notifying at each threshold."""

    def __init__(self, scope: Construct, construct_id: str, *, adapter: CloudAdapter,
                 env: Environment, monitoring: Refs) -> None:
        super().__init__(scope, construct_id, adapter=adapter, env=env)
        self.refs = adapter.budget(self, env, monitoring)
