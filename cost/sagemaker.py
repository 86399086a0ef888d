"""SageMaker plan lookups shared by the endpoint pricer and the guardrails."""

from __future__ import annotations

from cost.inputs import Project, Resource
from cost.pricers import literal_int


def endpoint_config(project: Project, endpoint: Resource) -> Resource | None:
    """The endpoint's configuration: a `${...}` reference (synth JSON) or a name (plan)."""
    target = endpoint.values.get("endpoint_config_name")
    return project.resolve(target) or \
        project.find("aws_sagemaker_endpoint_configuration", "name", target)


def scaling_bounds(project: Project, endpoint: Resource, variant: str) -> tuple[int, int] | None:
    """(min, max) instances of the variant's Application Auto Scaling target, if any."""
    rid = f"endpoint/{endpoint.values.get('name')}/variant/{variant}"
    target = project.find("aws_appautoscaling_target", "resource_id", rid)
    if target is None:
        return None
    return (literal_int(target.values.get("min_capacity"), 1),
            literal_int(target.values.get("max_capacity"), 1))
