"""Provider, required APIs, the CMEK key ring/key and the service agents that use the key."""

from __future__ import annotations

from cdktn import TerraformStack
from cdktn_provider_google.data_google_bigquery_default_service_account import (
    DataGoogleBigqueryDefaultServiceAccount,
)
from cdktn_provider_google.data_google_project import DataGoogleProject
from cdktn_provider_google.data_google_storage_project_service_account import (
    DataGoogleStorageProjectServiceAccount,
)
from cdktn_provider_google.kms_crypto_key import KmsCryptoKey
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.kms_key_ring import KmsKeyRing
from cdktn_provider_google.project_service import ProjectService
from cdktn_provider_google.provider import GoogleProvider
from constructs import Construct

from adapters.gcp.labels import labels
from adapters.gcp.refs import GcpKeyRefs
from adapters.gcp.settings import GcpIds
from adapters.lifecycle import protect
from adapters.suppress import skip_checks
from core.errors import UserError
from core.props import Site
from core.spec import Environment

APIS = ("aiplatform", "storage", "cloudkms", "artifactregistry", "compute", "bigquery",
        "monitoring", "logging", "iam", "billingbudgets", "cloudresourcemanager",
        "servicenetworking")
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def configure(stack: TerraformStack,
              env: Environment) -> tuple[DataGoogleProject, list[ProjectService]]:
    """The provider (default labels), the project lookup and the APIs every layer needs."""
    if not env.project_id:
        raise UserError(env.where("project_id", "gcp needs the project id: expected a value"))
    provider = GoogleProvider(stack, "google", project=env.project_id, region=env.region)
    # Set through an override: the binding rewrites map keys of provider blocks to
    # snake_case (cost-center -> cost_center), which would break cost-allocation labels.
    provider.add_override("default_labels", labels(env.all_tags()))
    project = DataGoogleProject(stack, "project", project_id=env.project_id)
    services = [ProjectService(stack, f"api-{api}", service=f"{api}.googleapis.com",
                               disable_on_destroy=False) for api in APIS]
    return project, services


def encryption_key(scope: Construct, site: Site[GcpIds], project: DataGoogleProject,
                   services: list[ProjectService]) -> GcpKeyRefs:
    """The key ring and CMEK key, and the service agents' grants to use the key."""
    ring = KmsKeyRing(scope, "key-ring", name=site.prefix, location=site.region,
                      depends_on=services)
    key = KmsCryptoKey(scope, "key", name=f"{site.prefix}-data", key_ring=ring.id,
                       rotation_period="7776000s", purpose="ENCRYPT_DECRYPT",
                       lifecycle=protect(site))
    if not site.deletion_protection:
        skip_checks(key, {"CKV_GCP_82": "dev keys are disposable; staging and prod set "
                                        "prevent_destroy (deletion_protection)"})
    number = project.number
    project_id = site.ids.project_id
    storage = DataGoogleStorageProjectServiceAccount(scope, "gcs-agent", project=project_id)
    bigquery = DataGoogleBigqueryDefaultServiceAccount(scope, "bq-agent", project=project_id)
    agents = {
        "gcs": f"serviceAccount:{storage.email_address}",
        "bigquery": f"serviceAccount:{bigquery.email}",
        "artifactregistry": f"serviceAccount:service-{number}@gcp-sa-artifactregistry"
                            ".iam.gserviceaccount.com",
        "aiplatform": f"serviceAccount:service-{number}@gcp-sa-aiplatform.iam.gserviceaccount.com",
        "logging": f"serviceAccount:service-{number}@gcp-sa-logging.iam.gserviceaccount.com",
    }
    grants = [KmsCryptoKeyIamMember(scope, f"key-user-{name}", crypto_key_id=key.id,
                                    role=ENCRYPTER, member=member)
              for name, member in agents.items()]
    return GcpKeyRefs(outputs={"kms_key": key.id}, key=key, key_grants=grants, project=project)
