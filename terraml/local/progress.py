"""Progress of `up`/`down`: a live status line on a terminal, plain lines otherwise (CI logs).

Plain lines carry the elapsed time; resource counts ("apply: 12/40 resources ...") are
printed at each tenth of the total so a log stays short.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

_COUNT = re.compile(r"^(\w+): (\d+)/(\d+) resources")


class _Lines:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()
        self.decile: dict[str, int] = {}

    def __call__(self, message: str) -> None:
        match = _COUNT.match(message)
        if match:
            step, done, total = match.group(1), int(match.group(2)), int(match.group(3))
            decile = 10 if done >= total else (done * 10 // total if total else 0)
            if self.decile.get(step) == decile:
                return
            self.decile[step] = decile
            if total and done < total:
                message = _COUNT.sub(rf"\g<0> ({done * 100 // total}%)", message)
        self.console.print(f"[{time.monotonic() - self.started:4.0f}s] {message}",
                           markup=False, highlight=False, soft_wrap=True)


@contextmanager
def reporter(console: Console) -> Iterator[Callable[[str], None]]:
    """A `progress(message)` callable for the duration of the block."""
    if console.is_terminal:
        started = time.monotonic()
        with console.status("") as status:
            yield lambda message: status.update(f"{message} [{time.monotonic() - started:.0f}s]")
    else:
        yield _Lines(console)
