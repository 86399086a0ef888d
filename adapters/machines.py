"""Neutral machine choice: accelerator / CPU size -> a cloud's machine type.

`MachineChooser` is the part of a cloud adapter that both the stacks (infra) and
the runtime commands use; it imports no provider bindings or SDKs, so the runtime
can resolve a machine without loading CDK code. Each cloud ships its own tables
and a subclass in `adapters/<cloud>/machines.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from core.errors import UserError

if TYPE_CHECKING:
    from core.pipeline import Pipeline, TrainStep
    from core.spec import Serving, Training

T = TypeVar("T")


@dataclass(frozen=True)
class AcceleratorChoice:
    """A neutral accelerator request resolved to this cloud's machine."""

    instance_type: str
    accelerator: str | None
    count: int
    accelerator_type: str | None = None  # e.g. GCP's NVIDIA_TESLA_T4


def pick(table: dict[tuple[str, int], T], accelerator: str, count: int, cloud: str,
         not_offered: dict[str, str] | None = None) -> T:
    """The table entry for `accelerator` x `count`; a one-line `UserError` naming valid counts
    (or the suggestion in `not_offered`) otherwise."""
    if not_offered and accelerator in not_offered:
        raise UserError(f"accelerator {accelerator} is not offered on {cloud}: "
                        f"{not_offered[accelerator]}")
    found = table.get((accelerator, count))
    if found is None:
        counts = sorted(c for (a, c) in table if a == accelerator)
        if not counts:
            raise UserError(f"accelerator {accelerator!r} is not offered on {cloud}")
        raise UserError(f"accelerator {accelerator} x{count} has no single {cloud} machine; "
                        f"valid counts: {', '.join(map(str, counts))}")
    return found


class MachineChooser(ABC):
    """Resolve neutral sizes to machines; subclasses supply the per-cloud tables."""

    @abstractmethod
    def gpu_machine(self, accelerator: str, count: int) -> AcceleratorChoice:
        """The machine with exactly `count` x `accelerator`; `UserError` when there is none."""

    @abstractmethod
    def cpu_machine(self, size: str) -> str:
        """The machine type for a neutral CPU size (small, medium, large, xlarge)."""

    def notebook_machine(self, size: str) -> str:
        """The notebook machine for a neutral CPU size (default: the CPU machine; a cloud with
        its own notebook instance types overrides it)."""
        return self.cpu_machine(size)

    def drift_machine(self, size: str) -> str:
        """The machine a drift-monitoring run uses for a neutral CPU size (default: the CPU
        machine; a cloud whose monitor runs on other machines overrides it)."""
        return self.cpu_machine(size)

    def neutral_accelerator(self, accelerator_type: str) -> str | None:
        """The neutral name (T4, L4, ...) of this cloud's own accelerator type, if any."""
        return None

    def training_machine(self, accelerator: str | None, count: int,
                         instance_type: str | None) -> AcceleratorChoice:
        """An explicit type wins; else the GPU machine; else a medium CPU machine."""
        if instance_type:
            return AcceleratorChoice(instance_type, None, 0)
        if accelerator is None:
            return AcceleratorChoice(self.cpu_machine("medium"), None, 0)
        return self.gpu_machine(accelerator, count)

    def serving_machine(self, accelerator: str | None, size: str,
                        instance_type: str | None) -> AcceleratorChoice:
        """An explicit type wins; else a single-GPU machine; else the CPU size."""
        if instance_type:
            return AcceleratorChoice(instance_type, None, 0)
        if accelerator:
            return self.gpu_machine(accelerator, 1)
        return AcceleratorChoice(self.cpu_machine(size), None, 0)

    def train_step_machine(self, step: TrainStep, training: Training) -> AcceleratorChoice:
        """A pipeline's train step machine: the step's own accelerator or instance type, else
        the training section's."""
        if step.accelerator or step.instance_type:
            return self.training_machine(step.accelerator, step.count or training.count,
                                         step.instance_type)
        return self.training_machine(training.accelerator, step.count or training.count,
                                     training.instance_type)

    def pipeline_machines(self, pipeline: Pipeline,
                          training: Training) -> dict[str, AcceleratorChoice]:
        """Each pipeline step's machine, in run order: the train step's from
        `train_step_machine`, every other step's CPU size."""
        return {name: self.train_step_machine(step, training) if name == "train"
                else AcceleratorChoice(self.cpu_machine(step.size), None, 0)
                for name, step in pipeline.steps.named().items()}

    def endpoint_machine(self, spec: Serving) -> AcceleratorChoice | None:
        """The real-time serving machine, or None when serving is serverless."""
        if spec.mode == "serverless":
            return None
        return self.serving_machine(spec.accelerator, spec.size, spec.instance_type)
