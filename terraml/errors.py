"""The one exception type that means "the user gave us bad input".

Anything raised as `UserError` is printed as a single line and exits with
code 2, with no traceback. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Bad input (config, CLI argument, plan file, catalog): one line, exit 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
