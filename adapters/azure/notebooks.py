"""Azure builder of the `notebooks` layer: one Azure ML compute instance per user.

Each instance is an azapi `workspaces/computes` resource (azurerm's compute instance has no
idle shutdown nor root-access setting) in the platform workspace: `cpu_machine(size)`, in the
platform subnet, no public IP, SSH and local auth off, personal (single-user) authorization,
stopped by Azure after `idle_shutdown_minutes` idle (Azure takes 15 to 4320), root (sudo) per
`notebooks.root_access` (default: on in dev only). Every compute instance has Azure's fixed
P10 OS disk (128 GiB premium SSD, billed also while stopped), so `notebooks.disk_gb` does not
apply on Azure; the cost report says so on each instance. No managed identity: data is read
and written as the signed-in user.

Name rule (Azure compute names: at most 24 characters, unique in the region): the user name
cut to 15 characters, `-n` and 7 hex digits of crc32("<subscription>/<prefix>/<user>") (its
low 28 bits; the `n` because Azure refuses a name ending in `-<digits only>`); the
`notebooks` output maps each user to it, and `status` / `stop-idle` list every compute instance
of the workspace.

Assignment: Azure ML assigns each instance to one person, by Microsoft Entra object id; the
deploying identity (often a CI service principal) would otherwise own it and nobody could open
it. So the Azure file names each user's object id in `entra_object_ids` (a cloud id, like
`subscription_id`), and a user without one is one line, exit 2. Instances are also tagged
`terraml-user: <user>`.
"""

from __future__ import annotations

import zlib

from cdktn_provider_azapi.resource import Resource as AzapiResource
from constructs import Construct

from adapters.azure import resources as az
from adapters.azure.adapter import AzureAdapter
from adapters.azure.refs import (
    AzureDataRefs,
    AzureIdentityRefs,
    AzureKeyRefs,
    AzureNetworkRefs,
    AzureNotebooksRefs,
)
from adapters.azure.settings import AzureIds
from core.errors import UserError
from core.props import NotebooksProps, Site

# A preview API: the stable versions lack `enableRootAccess`, and the published schema azapi
# validates against lacks `idleTimeBeforeShutdown` (Azure/azure-rest-api-specs#29222), which
# ARM accepts and returns.
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes@2024-10-01-preview"
IDLE_MINUTES = (15, 4320)  # what Azure ML accepts for idle shutdown
USER_TAG = "terraml-user"


def notebook_name(site: Site[AzureIds], user: str) -> str:
    """The compute instance name of `user` (see the module docstring for the rule)."""
    digest = zlib.crc32(f"{az.subscription(site)}/{site.prefix}/{user}".encode()) & 0xFFFFFFF
    return f"{user[:15]}-n{digest:07x}"


def _owners(site: Site[AzureIds], users: list[str]) -> dict[str, str]:
    """Each notebooks user's Entra object id; `UserError` naming `entra_object_ids` for a user
    without one or an entry for someone who is not a notebooks user."""
    owners = dict(site.ids.entra_object_ids)
    missing = [user for user in users if user not in owners]
    if missing:
        raise UserError(site.where("entra_object_ids", (
            f"expected each notebooks user's Microsoft Entra object id (Azure ML assigns a "
            f"compute instance to it; az ad user show --id <upn> --query id), missing "
            f"{', '.join(missing)}")))
    strangers = sorted(set(owners) - set(users))
    if strangers:
        raise UserError(site.where("entra_object_ids", (
            f"expected only notebooks.users, found {', '.join(strangers)}")))
    return owners


@AzureAdapter.implementation("notebooks")
def notebooks(adapter: AzureAdapter, scope: Construct, props: NotebooksProps, *,
              key: AzureKeyRefs, network: AzureNetworkRefs, data: AzureDataRefs,
              identity: AzureIdentityRefs) -> AzureNotebooksRefs:
    """One private compute instance per user, stopped when idle (see the module)."""
    del data  # no identity of their own: users reach data with their own Entra identity
    site, spec = props.site, props.notebooks
    owners = _owners(site, spec.users)
    low, high = IDLE_MINUTES
    if not low <= spec.idle_shutdown_minutes <= high:
        raise UserError(site.where("notebooks.idle_shutdown_minutes", (
            f"expected {low} to {high} on azure (Azure ML compute instance idle shutdown), "
            f"found {spec.idle_shutdown_minutes}")))
    size = adapter.cpu_machine(spec.size)
    root = site.is_dev if spec.root_access is None else spec.root_access
    instances = {}
    for user in spec.users:
        name = notebook_name(site, user)
        instances[user] = AzapiResource(
            scope, f"notebook-{user}", type=COMPUTE, name=name,
            parent_id=identity.workspace.id, location=site.region,
            schema_validation_enabled=False,  # idleTimeBeforeShutdown: see COMPUTE
            body={"properties": {
                "computeType": "ComputeInstance",
                "description": f"terraml {site.name}: notebook of {user}",
                "disableLocalAuth": True,
                "properties": {
                    "vmSize": size,
                    "subnet": {"id": network.subnet.id},
                    "enableNodePublicIp": False,
                    "sshSettings": {"sshPublicAccess": "Disabled"},
                    "applicationSharingPolicy": "Personal",
                    "computeInstanceAuthorizationType": "personal",
                    "idleTimeBeforeShutdown": f"PT{spec.idle_shutdown_minutes}M",
                    "enableRootAccess": root,
                    "enableSSO": True,
                    "personalComputeInstanceSettings": {"assignedUser": {
                        "objectId": owners[user], "tenantId": key.vault.tenant_id}},
                }}},
            tags={**site.tags, USER_TAG: user})
    return AzureNotebooksRefs(outputs={
        "notebooks": {user: notebook_name(site, user) for user in instances},
        # no managed identity: notebooks act as their signed-in user
        "notebook_role": "assigned-user-identity",
        "notebook_instance_type": size,
        "notebook_idle_shutdown": f"PT{spec.idle_shutdown_minutes}M",
        "notebook_root_access": root,
    }, notebooks=instances)
