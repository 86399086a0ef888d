"""Retry transient cloud errors with exponential backoff and jitter; everything else is
turned into one line.

Contract: `call(operation, fn)` returns `fn()`; a `CloudCallError` marked transient is
retried up to `attempts` times (sleeping base * 2**n, capped, with jitter); a
non-transient one, or the last transient one, becomes a `UserError` naming the
operation, the cloud's error code and message.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

from core.errors import UserError

T = TypeVar("T")


class CloudCallError(Exception):
    """A cloud API call failed. `transient` errors (throttling, 5xx, timeouts) are retried."""

    def __init__(self, operation: str, code: str, message: str, *, transient: bool) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.operation, self.code, self.message, self.transient = \
            operation, code, message, transient

ATTEMPTS = 5
BASE_SECONDS = float(os.environ.get("TERRAML_RETRY_BASE_SECONDS", "1.0"))
CAP_SECONDS = 30.0


def call(fn: Callable[[], T], *, attempts: int = ATTEMPTS, base: float | None = None,
         sleep: Callable[[float], None] = time.sleep,
         on_retry: Callable[[CloudCallError, float], None] | None = None) -> T:
    """Run `fn`, retrying transient `CloudCallError`s; see the module contract."""
    delay = BASE_SECONDS if base is None else base
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except CloudCallError as exc:
            if not exc.transient:
                raise UserError(f"{exc.operation}: {exc.code}: {_one_line(exc.message)}") from None
            if attempt == attempts:
                raise UserError(f"{exc.operation}: {exc.code}: {_one_line(exc.message)} "
                                f"(still failing after {attempts} attempts)") from None
            wait = min(CAP_SECONDS, delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            if on_retry:
                on_retry(exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:400]
