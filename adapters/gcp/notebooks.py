"""Per-user notebooks on GCP: one Vertex AI Workbench instance per user.

Each instance is `<prefix>-<user>` (the name `terraml status` / `stop-idle` find through the
Workbench API: adapters/gcp/runtime.py lists instances by the `env` label or that prefix), in
zone `<region>-b` (every GCP region has a `b` zone), on the CPU machine of `notebooks.size`,
without a public IP on the stack's private subnet (users reach JupyterLab through the
IAM-authenticated Workbench proxy), with shielded VM (secure boot, vTPM, integrity
monitoring), a 150 GB boot disk and a `notebooks.disk_gb` data disk (home directories), both
encrypted with the stack key. Idle shutdown is the `idle-timeout-seconds` metadata; root is
off outside dev (`notebook-disable-root`) unless `notebooks.root_access` says otherwise;
deletion protection follows the tier.

Every instance runs as one notebook service account (`notebook_role`) that may read the data
buckets, write the features and artifacts buckets, read the catalog dataset and run BigQuery
jobs, and write logs and metrics: nothing project-wide beyond that. Who may open a notebook is
who may act as that account (`roles/iam.serviceAccountUser` on it) and use Workbench
instances: granted to people outside Terraform, since the file names users, not identities.
The Compute Engine service agent gets the right to use the key (CMEK disks need it).

Outputs: `notebooks` (user -> instance name), `notebook_role` (the account's email), and the
extras `notebook_zone` and `notebook_urls` (user -> the proxy's JupyterLab URL).
"""

from __future__ import annotations

import re

from cdktn_provider_google.bigquery_dataset_iam_member import BigqueryDatasetIamMember
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.project_service import ProjectService
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from cdktn_provider_google.workbench_instance import (
    WorkbenchInstance,
    WorkbenchInstanceGceSetup,
    WorkbenchInstanceGceSetupBootDisk,
    WorkbenchInstanceGceSetupDataDisks,
    WorkbenchInstanceGceSetupNetworkInterfaces,
    WorkbenchInstanceGceSetupServiceAccounts,
    WorkbenchInstanceGceSetupShieldedInstanceConfig,
    WorkbenchInstanceGceSetupVmImage,
)
from constructs import Construct

from adapters.gcp.adapter import GcpAdapter
from adapters.gcp.foundation import ENCRYPTER
from adapters.gcp.labels import clean, labels
from adapters.gcp.machines import CPU_MACHINES
from adapters.gcp.platform import PROJECT_ROLES, READ, WRITE
from adapters.gcp.refs import (
    GcpDataRefs,
    GcpIdentityRefs,
    GcpKeyRefs,
    GcpNetworkRefs,
    GcpNotebookRefs,
)
from adapters.gcp.settings import GcpIds
from core.errors import UserError
from core.notebooks import Notebooks
from core.props import NotebooksProps, Site

INSTANCE_ID = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")  # Workbench instance ids
ZONE = "b"
BOOT_DISK_GB = 150  # Workbench's recommended (and default) boot disk
# Disks are billed while a notebook is stopped: dev takes standard (HDD) disks, the cheapest;
# other tiers balanced (SSD) disks, which start and load noticeably faster.
DISK_TYPES = {True: "PD_STANDARD", False: "PD_BALANCED"}
WRITABLE = ("features", "artifacts")  # buckets notebook users write; the others they read
IMAGE = WorkbenchInstanceGceSetupVmImage(project="cloud-notebooks-managed",
                                         family="workbench-instances")


def instance_name(site: Site[GcpIds], user: str) -> str:
    """The Workbench instance id of `user`'s notebook."""
    return f"{site.prefix}-{user}"


@GcpAdapter.implementation("notebooks")
def notebooks(adapter: GcpAdapter, scope: Construct, props: NotebooksProps, *,
              key: GcpKeyRefs, network: GcpNetworkRefs, data: GcpDataRefs,
              identity: GcpIdentityRefs) -> GcpNotebookRefs:
    """The notebook account and its grants, and one Workbench instance per user; `UserError`
    naming `notebooks.users` when Workbench would refuse an instance name."""
    site, spec = props.site, props.notebooks
    for user in spec.users:
        if not INSTANCE_ID.match(instance_name(site, user)):
            raise UserError(site.where("notebooks.users", f"Workbench instance names end with "
                                       f"a letter or digit, found user {user!r}"))
    api = ProjectService(scope, "api-notebooks", service="notebooks.googleapis.com",
                         disable_on_destroy=False)
    compute_agent = KmsCryptoKeyIamMember(
        scope, "key-user-compute", crypto_key_id=key.key.id, role=ENCRYPTER,
        member=f"serviceAccount:service-{key.project.number}@compute-system"
               ".iam.gserviceaccount.com")
    account = _account(scope, site, data)
    zone = f"{site.region}-{ZONE}"
    instances = {user: _instance(scope, site, spec, user, zone, account, key, network,
                                 after=[api, compute_agent, *key.key_grants])
                 for user in spec.users}
    return GcpNotebookRefs(outputs={
        "notebooks": {user: instance_name(site, user) for user in spec.users},
        "notebook_role": account.email,
        "notebook_zone": zone,
        "notebook_urls": {user: f"https://{item.proxy_uri}" for user, item in instances.items()},
    }, instances=instances, account=account)


def _account(scope: Construct, site: Site[GcpIds], data: GcpDataRefs) -> ServiceAccount:
    account = ServiceAccount(scope, "notebook-sa",
                             account_id=f"{site.prefix}-notebook"[:30].rstrip("-"),
                             display_name=f"terraml {site.name} notebooks")
    member = f"serviceAccount:{account.email}"
    for bucket, item in data.buckets.items():
        role = WRITE if bucket in WRITABLE else READ
        StorageBucketIamMember(scope, f"notebook-{bucket}-{role.rsplit('.', 1)[-1]}",
                               bucket=item.name, role=role, member=member)
    BigqueryDatasetIamMember(scope, "notebook-catalog", dataset_id=data.dataset.dataset_id,
                             role="roles/bigquery.dataViewer", member=member)
    for role in (*PROJECT_ROLES, "roles/bigquery.jobUser"):
        ProjectIamMember(scope, f"notebook-{role.split('/')[1]}", project=site.ids.project_id,
                         role=role, member=member)
    return account


def _instance(scope: Construct, site: Site[GcpIds], spec: Notebooks, user: str, zone: str,
              account: ServiceAccount, key: GcpKeyRefs, network: GcpNetworkRefs,
              after: list) -> WorkbenchInstance:
    root = spec.root_access if spec.root_access is not None else site.is_dev
    disk_type = DISK_TYPES[site.is_dev]
    return WorkbenchInstance(
        scope, f"notebook-{user}", name=instance_name(site, user), location=zone,
        labels={**labels(site.tags), "user": clean(user)},
        disable_proxy_access=False, enable_deletion_protection=site.deletion_protection,
        gce_setup=WorkbenchInstanceGceSetup(
            machine_type=CPU_MACHINES[spec.size], vm_image=IMAGE, disable_public_ip=True,
            network_interfaces=[WorkbenchInstanceGceSetupNetworkInterfaces(
                network=network.vpc.id, subnet=network.subnet.id)],
            service_accounts=[WorkbenchInstanceGceSetupServiceAccounts(email=account.email)],
            boot_disk=WorkbenchInstanceGceSetupBootDisk(
                disk_size_gb=str(BOOT_DISK_GB), disk_type=disk_type,
                disk_encryption="CMEK", kms_key=key.key.id),
            data_disks=WorkbenchInstanceGceSetupDataDisks(
                disk_size_gb=str(spec.disk_gb), disk_type=disk_type,
                disk_encryption="CMEK", kms_key=key.key.id),
            shielded_instance_config=WorkbenchInstanceGceSetupShieldedInstanceConfig(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True),
            metadata={
                "idle-timeout-seconds": str(spec.idle_shutdown_minutes * 60),
                "enable-guest-attributes": "true",  # idle shutdown reads them
                "notebook-disable-root": "false" if root else "true",
                "serial-port-logging-enable": "false",
            }),
        depends_on=after)
