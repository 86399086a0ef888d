"""One cloud-neutral rollout: register, canary, wait healthy, shift, retire; or roll back.

`roll_out(steps, progress)` is the only implementation of `terraml deploy-model`'s
rollout; each cloud supplies a `RolloutSteps` (one object per rollout, made by its
runtime's `CloudRuntime.rollout_steps`) with the primitives below. The template, in order:

1. `register()` the model version, or `adopt()` one already in the registry (an approved
   version: then nothing is released or unregistered);
2. read `current_deployments()` (name -> traffic percent); those with a share are *live*;
3. `create_candidate(others)` next to them, where `others` is the canary split of the
   live deployments (they keep 100 - `CANARY_PERCENT`, in proportion to their shares;
   empty on a first deployment, which has nothing to canary against);
4. `set_traffic` the canary split if creating the candidate did not already route it;
5. `wait_healthy(candidate)`;
6. `set_traffic({candidate: 100})` unless it already has all traffic;
7. `release()` the model version, then `retire(old, candidate)` every other deployment.

Any failure in steps 2-6 rolls back: `remove_candidate(restore)` gives the deployments
their previous shares back (`restore` is None when traffic never moved) and removes what
`create_candidate` made, even half-made; `unregister()` undoes `register`. A health failure
ends as `Rollout(healthy=False, detail="rolled back: ...")` (the CLI exits 1); a cloud error
(a `UserError`: quota, permission, exhausted retries) is re-raised after the rollback (one
line, exit 2); so is anything else (an interrupt). A failure while retiring (step 7)
is not rolled back: the healthy candidate already serves all traffic; the error is raised
and the old deployment is left at 0%.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from adapters.runtime import CANARY_PERCENT, Progress, Rollout, split_traffic


class Unhealthy(Exception):
    """A rollout step found the candidate unhealthy; the message is the reason shown to the
    user after "rolled back: ". `candidate` names it when `create_candidate` raises."""

    def __init__(self, reason: str, candidate: str = "") -> None:
        super().__init__(reason)
        self.candidate = candidate


@dataclass(frozen=True)
class Candidate:
    """The new deployment as `create_candidate` left it."""

    name: str  # what `current_deployments` and `set_traffic` call it
    traffic: dict[str, int]  # the endpoint's split right after creation, candidate included


class RolloutSteps(ABC):
    """One rollout's cloud primitives. The object keeps what it created (so `remove_candidate`
    and `unregister` can undo it) and is used for one `roll_out` only.

    Every primitive makes its cloud calls through `CloudRuntime.call` (errors become one-line
    `UserError`s, transient ones are retried) and reports nothing itself: `roll_out` reports
    progress.
    """

    endpoint: str  # the endpoint as `deploy-model` prints it

    @abstractmethod
    def register(self) -> str:
        """Register the request's model as a new version in the cloud's registry; returns its
        id (what `deploy-model` prints as the model)."""

    @abstractmethod
    def current_deployments(self) -> dict[str, int]:
        """Every deployment behind the endpoint, by name, with its traffic percent (0 for one
        that serves none); empty when nothing is deployed or the endpoint does not exist."""

    @abstractmethod
    def create_candidate(self, others: dict[str, int]) -> Candidate:
        """Create the new deployment of the registered model next to the current ones and
        return once it is provisioned. `others` is the canary split for the live deployments
        (the candidate's share is 100 minus their sum; all of it when `others` is empty): a
        service whose create call takes a traffic split routes it there, one that creates
        with no traffic leaves the split alone, and the returned `Candidate.traffic` says
        which. Raises `Unhealthy` when the service reports the deployment failed; whatever
        was made before a raise is still removed by `remove_candidate`."""

    @abstractmethod
    def set_traffic(self, split: dict[str, int]) -> None:
        """Route `split` (deployment name -> percent, summing to 100) on the endpoint."""

    @abstractmethod
    def wait_healthy(self, candidate: str) -> None:
        """Return once `candidate` serves healthily; raise `Unhealthy` with the reason when it
        does not (within the runtime's timeout)."""

    @abstractmethod
    def retire(self, old: list[str], candidate: str) -> None:
        """Remove the `old` deployments; `candidate` already serves 100% of the traffic."""

    @abstractmethod
    def remove_candidate(self, restore: dict[str, int] | None) -> None:
        """Roll back: give the deployments the `restore` split again (None: traffic never
        moved) and remove what `create_candidate` made, if anything. A failure to restore
        the traffic is raised (the user must know); the removal is best effort."""

    def adopt(self, model_id: str) -> str:
        """Use `model_id`, a version already in the registry, instead of registering one;
        returns what `deploy-model` prints as the model (default: `model_id`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot deploy registry versions")

    def release(self) -> None:
        """Mark the registered version as serving (default: the registry has no such state)."""

    def unregister(self) -> None:
        """Undo `register` after a rollback (default: the version is kept, e.g. Azure ML
        model versions, which cost nothing and record what was tried). Best effort."""


def canary_split(current: dict[str, int]) -> dict[str, int]:
    """The shares the live deployments in `current` keep while a candidate gets
    `CANARY_PERCENT`: 100 - `CANARY_PERCENT` in proportion to their current shares;
    empty when nothing is live (the candidate then gets everything at once)."""
    live = [name for name, share in current.items() if share]
    return split_traffic(100 - CANARY_PERCENT, live, current) if live else {}


def roll_out(steps: RolloutSteps, progress: Progress, registered: str | None = None) -> Rollout:
    """Run the rollout described in the module docstring with `steps`; `progress` gets one
    line per step. `registered`: a registry version's id to deploy instead of registering."""
    if registered:
        model_id = steps.adopt(registered)
        progress(f"deploying registry version {model_id}")
    else:
        model_id = steps.register()
        progress(f"registered {model_id}")
    before: dict[str, int] = {}
    routed: dict[str, int] = {}  # the split as this rollout last left it
    candidate = ""
    try:
        before = steps.current_deployments()
        routed = dict(before)
        others = canary_split(before)
        progress(f"creating the new deployment next to {', '.join(before) or 'none'}")
        created = steps.create_candidate(others)
        candidate, routed = created.name, dict(created.traffic)
        canary = {candidate: 100 - sum(others.values()), **others}
        if others:
            progress(f"{CANARY_PERCENT}% of traffic to {candidate}")
            if _shares(routed) != _shares(canary):
                routed = canary
                steps.set_traffic(canary)
        steps.wait_healthy(candidate)
        if _shares(routed) != {candidate: 100}:
            progress(f"all traffic to {candidate}")
            routed = {candidate: 100}
            steps.set_traffic(routed)
    except Unhealthy as exc:
        _roll_back(steps, before, routed, unregister=not registered)
        return Rollout(model_id, steps.endpoint, candidate or exc.candidate, False,
                       f"rolled back: {exc}")
    except BaseException:
        _roll_back(steps, before, routed, unregister=not registered)
        raise
    if not registered:
        steps.release()
    old = [name for name in before if name != candidate]
    if old:
        progress(f"retiring {', '.join(old)}")
        steps.retire(old, candidate)
    return Rollout(model_id, steps.endpoint, candidate, True, "serving 100% of traffic")


def _shares(split: dict[str, int]) -> dict[str, int]:
    return {name: share for name, share in split.items() if share}


def _roll_back(steps: RolloutSteps, before: dict[str, int], routed: dict[str, int],
               unregister: bool) -> None:
    try:
        steps.remove_candidate(before if _shares(routed) != _shares(before) else None)
    finally:
        if unregister:
            steps.unregister()
