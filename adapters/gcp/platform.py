"""VPC + subnet (Private Google Access, flow logs), Cloud NAT on request; service accounts
for training and serving with roles scoped to this environment's buckets, key and repo."""

from __future__ import annotations

from cdktn_provider_google.artifact_registry_repository_iam_member import (
    ArtifactRegistryRepositoryIamMember,
)
from cdktn_provider_google.compute_firewall import ComputeFirewall, ComputeFirewallAllow
from cdktn_provider_google.compute_global_address import ComputeGlobalAddress
from cdktn_provider_google.compute_network import ComputeNetwork
from cdktn_provider_google.compute_router import ComputeRouter
from cdktn_provider_google.compute_router_nat import ComputeRouterNat
from cdktn_provider_google.compute_subnetwork import ComputeSubnetwork, ComputeSubnetworkLogConfig
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_networking_connection import ServiceNetworkingConnection
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

from adapters.gcp.foundation import ENCRYPTER
from adapters.gcp.refs import (
    GcpDataRefs,
    GcpIdentityRefs,
    GcpKeyRefs,
    GcpNetworkRefs,
    GcpRegistryRefs,
)
from adapters.gcp.settings import GcpIds
from core.props import Site
from core.spec import Network


def network(scope: Construct, site: Site[GcpIds], spec: Network,
            key: GcpKeyRefs) -> GcpNetworkRefs:
    """The VPC, its private subnet and firewall, Vertex AI peering, and NAT on request."""
    vpc = ComputeNetwork(scope, "vpc", name=site.prefix, auto_create_subnetworks=False,
                         routing_mode="REGIONAL")
    subnet = ComputeSubnetwork(
        scope, "subnet", name=f"{site.prefix}-private", network=vpc.id, region=site.region,
        ip_cidr_range=spec.cidr, private_ip_google_access=True,
        log_config=ComputeSubnetworkLogConfig(aggregation_interval="INTERVAL_5_SEC",
                                              flow_sampling=0.5,
                                              metadata="INCLUDE_ALL_METADATA"))
    ComputeFirewall(scope, "allow-internal", name=f"{site.prefix}-allow-internal", network=vpc.id,
                    description="distributed training between job nodes",
                    direction="INGRESS", source_ranges=[spec.cidr],
                    allow=[ComputeFirewallAllow(protocol="tcp"),
                           ComputeFirewallAllow(protocol="udp")])
    # Private services access: Vertex AI training jobs and the private endpoint peer with the VPC.
    peering_range = ComputeGlobalAddress(
        scope, "vertex-peering-range", name=f"{site.prefix}-vertex-peering", purpose="VPC_PEERING",
        address_type="INTERNAL", prefix_length=16, network=vpc.id)
    peering = ServiceNetworkingConnection(
        scope, "vertex-peering", network=vpc.id, service="servicenetworking.googleapis.com",
        reserved_peering_ranges=[peering_range.name])
    if spec.nat_gateway:
        router = ComputeRouter(scope, "router", name=f"{site.prefix}-router", network=vpc.id,
                               region=site.region)
        ComputeRouterNat(scope, "nat", name=f"{site.prefix}-nat", router=router.name,
                         region=site.region, nat_ip_allocate_option="AUTO_ONLY",
                         source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES")
    return GcpNetworkRefs(outputs={"network_id": vpc.id, "subnet_ids": [subnet.id],
                                   "security_group_id": ""},
                          vpc=vpc, subnet=subnet, peering=peering)


READ = "roles/storage.objectViewer"
WRITE = "roles/storage.objectAdmin"
CREATE = "roles/storage.objectCreator"
PROJECT_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")


def identity(scope: Construct, site: Site[GcpIds], key: GcpKeyRefs, data: GcpDataRefs,
             registry: GcpRegistryRefs) -> GcpIdentityRefs:
    """Training and serving service accounts with roles on this environment's buckets, key,
    repository and project logs/metrics."""
    buckets = data.buckets
    accounts = {}
    grants = {
        "training": [(n, READ) for n in buckets if n not in ("models", "artifacts")] +
                    [("models", WRITE), ("artifacts", WRITE)],
        "serving": [("models", READ), ("artifacts", CREATE)],
    }
    for role_name, bucket_roles in grants.items():
        account = ServiceAccount(scope, f"{role_name}-sa",
                                 account_id=f"{site.prefix}-{role_name}"[:30],
                                 display_name=f"terraml {site.name} {role_name}")
        member = f"serviceAccount:{account.email}"
        for bucket, role in bucket_roles:
            StorageBucketIamMember(scope, f"{role_name}-{bucket}-{role.rsplit('.', 1)[-1]}",
                                   bucket=buckets[bucket].name, role=role, member=member)
        KmsCryptoKeyIamMember(scope, f"{role_name}-key", crypto_key_id=key.key.id,
                              role=ENCRYPTER, member=member)
        ArtifactRegistryRepositoryIamMember(
            scope, f"{role_name}-images", repository=registry.repository.name,
            location=site.region, role="roles/artifactregistry.reader", member=member)
        for project_role in PROJECT_ROLES:
            ProjectIamMember(scope, f"{role_name}-{project_role.split('/')[1]}",
                             project=site.ids.project_id, role=project_role, member=member)
        accounts[role_name] = account
    return GcpIdentityRefs(outputs={"training_role": accounts["training"].email,
                                    "serving_role": accounts["serving"].email},
                           training=accounts["training"], serving=accounts["serving"])
