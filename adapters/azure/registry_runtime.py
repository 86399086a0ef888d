"""The model-registry half of the Azure runtime (mixed into `AzureRuntime`): the versions
the pipeline registers in the workspace (model `<prefix>-model`) and their approval.

Azure ML models have no approval status: the neutral state is the version's tag
`APPROVAL_KEY` (pending | approved | rejected, written by the register step and by
`set_approval`), mirrored in the version's stage (Development | Production | Archived); the
reason of the last decision is the tag `terraml-reason`; every other numeric tag is a
metric the evaluate step reported. `model_uri` is the version's path (the train step's
output); `model_id` is `azureml:<model>:<version>`, what `deploy-model` deploys.

Uses from `AzureRuntime`: `env`, `outputs`, `ml`, `call`.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from adapters.azure import pipeline_steps as names
from adapters.runtime import (
    APPROVAL_KEY,
    APPROVED,
    PENDING_APPROVAL,
    REJECTED,
    ModelVersion,
    as_utc,
)

_OWN_TAGS = {APPROVAL_KEY, names.PIPELINE_TAG, names.RUN_TAG, names.REASON_TAG}


def versioned(model: str, model_id: str) -> str:
    """`azureml:<model>:<version>` for a version id or a bare version of `model`."""
    return model_id if model_id.startswith("azureml:") else f"azureml:{model}:{model_id}"


class RegistryRuntime:
    """`model_versions` and `set_approval` on the workspace's model store."""

    env: Any
    outputs: Any
    ml: Any
    call: Any

    @property
    def model_name(self) -> str:
        return self.outputs.get("pipeline_model") or names.model_name(self.env.prefix)

    def model_versions(self) -> list[ModelVersion]:
        """ListModelVersions of the pipeline's model, newest first (none before the first
        registration)."""
        name = self.model_name

        def listed() -> list[Any]:
            try:
                return list(self.ml.models.list(name=name))
            except ResourceNotFoundError:
                return []
        found = self.call("ListModelVersions", listed)
        versions = [_version(name, model) for model in found]
        versions.sort(key=lambda v: (v.created is not None, v.created), reverse=True)
        return versions

    def set_approval(self, version: str, approved: bool, reason: str) -> ModelVersion:
        """GetModelVersion, then CreateOrUpdateModelVersion with the approval tag, the stage
        (Production when approved, Archived when rejected) and the reason tag."""
        name = self.model_name
        model = self.call("GetModelVersion", lambda: self.ml.models.get(name, version=version))
        decision = APPROVED if approved else REJECTED
        tags = {**(model.tags or {}), APPROVAL_KEY: decision}
        tags.pop(names.REASON_TAG, None)  # the reason of an earlier decision goes
        if reason:
            tags[names.REASON_TAG] = reason
        model.tags = tags
        model.stage = names.STAGES[decision]
        updated = self.call("UpdateModelVersion", lambda: self.ml.models.create_or_update(model))
        return _version(name, updated)


def _version(name: str, model: Any) -> ModelVersion:
    tags = dict(model.tags or {})
    approval = tags.get(APPROVAL_KEY, PENDING_APPROVAL)
    if approval not in (PENDING_APPROVAL, APPROVED, REJECTED):
        approval = PENDING_APPROVAL
    context = getattr(model, "creation_context", None)
    return ModelVersion(version=str(model.version), approval=approval,
                        model_uri=str(model.path or ""),
                        model_id=versioned(name, str(model.version)),
                        created=as_utc(getattr(context, "created_at", None)),
                        metrics=_metrics(tags), detail=tags.get(names.REASON_TAG, ""))


def _metrics(tags: dict[str, str]) -> dict[str, float]:
    found = {}
    for key, value in tags.items():
        if key in _OWN_TAGS:
            continue
        try:
            found[key] = float(value)
        except (TypeError, ValueError):
            continue
    return found
