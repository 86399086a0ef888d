"""The one exception type that means "the user gave us bad input".

Anything raised as `UserError` is printed as a single line and exits with
code 2, with no traceback. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_BLOCKED = 1  # a guardrail refused it (and nothing else)
EXIT_BAD_INPUT = 2  # `UserError`: bad input, nothing changed
# What was asked ran and failed, or did not finish in time: a training job, a rollout (rolled
# back), a pipeline or drift run, a baseline; a local deploy whose checks or re-plan failed.
EXIT_FAILED = 3


class UserError(Exception):
    """Bad input (config, CLI argument, plan file, catalog): one line, exit 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Blocked(Exception):
    """A guardrail refused the action before any cloud call: one line naming the rule, exit 1
    (the cost engine's exit code for a blocking guardrail)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"guardrail {rule}: {message}")
        self.rule = rule
