"""Azure ML job states -> the neutral ones (adapters/runtime.py), shared by the runtime's
training, pipeline and registry halves."""

from __future__ import annotations

from typing import Any

from adapters.runtime import FAILED, PENDING, RUNNING, STOPPED, SUCCEEDED

JOB_STATES = {"NotStarted": PENDING, "Queued": PENDING, "Preparing": PENDING,
              "Provisioning": PENDING, "Starting": PENDING, "Running": RUNNING,
              "Finalizing": RUNNING, "CancelRequested": STOPPED, "Completed": SUCCEEDED,
              "Failed": FAILED, "Canceled": STOPPED, "NotResponding": FAILED, "Paused": STOPPED}


def word(value: Any) -> str:
    """An SDK enum or string as the service's word (`Succeeded`, `Running`)."""
    value = getattr(value, "value", value)
    return str(value or "")


def state(status: Any) -> str:
    """The neutral state of an Azure ML job status (pending when unknown)."""
    return JOB_STATES.get(word(status), PENDING)
