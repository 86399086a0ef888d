"""Follow a cloud job to its end: the one polling loop of the runtime commands."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


def follow(item: T, fetch: Callable[[T], T], *, done: Callable[[T], bool],
           progress: Callable[[T], Hashable], on_change: Callable[[T], None],
           poll_seconds: float, timeout_seconds: float) -> T:
    """Fetch `item` again every `poll_seconds` until `done(item)` or `timeout_seconds` passed
    (the last wait is cut to the deadline); `on_change` sees it whenever `progress(item)`
    changes. Returns the last state fetched."""
    deadline = time.monotonic() + timeout_seconds
    seen = progress(item)
    while not done(item) and time.monotonic() < deadline:
        time.sleep(min(poll_seconds, max(deadline - time.monotonic(), 0)))
        item = fetch(item)
        if progress(item) != seen:
            seen = progress(item)
            on_change(item)
    return item
