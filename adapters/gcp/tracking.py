"""Experiment tracking on GCP: a CMEK Vertex AI TensorBoard that Vertex AI Experiments back
onto, and the training identity's right to report to it.

Contract: `tracking(...)` returns `GcpTrackingRefs` whose outputs are `tracking_uri` (the
TensorBoard's resource name: jobs pass it as `experiment_tensorboard` to
`aiplatform.init(experiment=..., experiment_tensorboard=...)`, and custom jobs stream
`AIP_TENSORBOARD_LOG_DIR` to it) and `tracking_experiment` (`tracking.experiment`, else the
environment name). The key layer already lets the Vertex AI service agent use the key.
"""

from __future__ import annotations

import re

from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.vertex_ai_tensorboard import (
    VertexAiTensorboard,
    VertexAiTensorboardEncryptionSpec,
)
from constructs import Construct

from adapters.gcp.labels import labels
from adapters.gcp.refs import GcpIdentityRefs, GcpKeyRefs, GcpTrackingRefs
from adapters.gcp.settings import GcpIds
from core.errors import UserError
from core.pipeline import Tracking
from core.props import Site

# Writing experiment runs and TensorBoard time series needs Vertex ML Metadata and
# TensorBoard permissions on the project; Vertex AI has no resource-level IAM for them, and
# Google documents this role for the TensorBoard integration of custom training.
REPORTER_ROLE = "roles/aiplatform.user"
EXPERIMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")  # Vertex AI experiment names


def tracking(scope: Construct, site: Site[GcpIds], spec: Tracking, key: GcpKeyRefs,
             identity: GcpIdentityRefs) -> GcpTrackingRefs:
    """The TensorBoard (CMEK, labels) and the training service account's reporter role;
    `UserError` naming `tracking.experiment` when Vertex AI would refuse the name."""
    experiment = spec.experiment or site.name
    if not EXPERIMENT.match(experiment):
        setting = "tracking.experiment" if spec.experiment else "name"
        raise UserError(site.where(setting, "Vertex AI experiment names are lowercase "
                                            f"letters, digits and hyphens, found {experiment!r}"))
    board = VertexAiTensorboard(
        scope, "tensorboard", display_name=f"{site.prefix}-tracking", region=site.region,
        description=f"terraml {site.name} experiment tracking (Vertex AI Experiments)",
        encryption_spec=VertexAiTensorboardEncryptionSpec(kms_key_name=key.key.id),
        labels=labels(site.tags), depends_on=key.key_grants)
    ProjectIamMember(scope, "training-reporter", project=site.ids.project_id,
                     role=REPORTER_ROLE, member=f"serviceAccount:{identity.training.email}")
    return GcpTrackingRefs(outputs={"tracking_uri": board.id,
                                    "tracking_experiment": experiment},
                           tensorboard=board)
