"""VPC with private subnets in 2-3 zones, S3 gateway endpoint, job security group, flow logs;
public subnets and a NAT gateway only when the config asks for one."""

from __future__ import annotations

import ipaddress

from cdktn import Fn
from cdktn_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktn_provider_aws.default_security_group import DefaultSecurityGroup
from cdktn_provider_aws.eip import Eip
from cdktn_provider_aws.flow_log import FlowLog
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.internet_gateway import InternetGateway
from cdktn_provider_aws.nat_gateway import NatGateway
from cdktn_provider_aws.route import Route
from cdktn_provider_aws.route_table import RouteTable
from cdktn_provider_aws.route_table_association import RouteTableAssociation
from cdktn_provider_aws.security_group import (
    SecurityGroup,
    SecurityGroupEgress,
    SecurityGroupIngress,
)
from cdktn_provider_aws.subnet import Subnet
from cdktn_provider_aws.vpc import Vpc
from cdktn_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from adapters.aws import policy
from adapters.aws.logs import log_group
from adapters.aws.refs import AwsKeyRefs, AwsNetworkRefs
from core.props import NetworkProps, Site


def network(scope: Construct, props: NetworkProps, key: AwsKeyRefs) -> AwsNetworkRefs:
    site, spec = props.site, props.network
    # Pin zone identity (zones a, b, c of the region) so subnets never move when AWS adds a zone.
    zones = DataAwsAvailabilityZones(scope, "zones", state="available", filter=[
        DataAwsAvailabilityZonesFilter(name="zone-name",
                                       values=[f"{site.region}{letter}" for letter in "abc"])])
    vpc = Vpc(scope, "vpc", cidr_block=spec.cidr, enable_dns_hostnames=True,
              enable_dns_support=True, tags={"Name": site.prefix})
    DefaultSecurityGroup(scope, "default-sg-closed", vpc_id=vpc.id,
                         tags={"Name": f"{site.prefix}-default-closed"})
    _flow_logs(scope, props, vpc, key)
    private_rt = RouteTable(scope, "private-routes", vpc_id=vpc.id,
                            tags={"Name": f"{site.prefix}-private"})
    blocks = list(ipaddress.ip_network(spec.cidr).subnets(prefixlen_diff=3))
    private = []
    for i in range(spec.zones):
        subnet = Subnet(scope, f"private-{i}", vpc_id=vpc.id, cidr_block=str(blocks[i]),
                        availability_zone=Fn.element(zones.names, i),
                        map_public_ip_on_launch=False,
                        tags={"Name": f"{site.prefix}-private-{i}"})
        RouteTableAssociation(scope, f"private-{i}-routes", subnet_id=subnet.id,
                              route_table_id=private_rt.id)
        private.append(subnet)
    VpcEndpoint(scope, "s3-endpoint", vpc_id=vpc.id,
                              service_name=f"com.amazonaws.{site.region}.s3",
                              vpc_endpoint_type="Gateway", route_table_ids=[private_rt.id])
    if spec.nat_gateway:
        _nat(scope, site, vpc, private_rt, blocks[4])
    jobs = SecurityGroup(
        scope, "jobs-sg", name=f"{site.prefix}-jobs", vpc_id=vpc.id,
        description="terraml training jobs, batch jobs and endpoints",
        ingress=[SecurityGroupIngress(description="distributed training between job nodes",
                                      from_port=0, to_port=0, protocol="-1", self_attribute=True)],
        egress=[
            SecurityGroupEgress(description="between job nodes", from_port=0, to_port=0,
                                protocol="-1", self_attribute=True),
            SecurityGroupEgress(description="HTTPS to AWS APIs (S3 endpoint, NAT)",
                                from_port=443, to_port=443, protocol="tcp",
                                cidr_blocks=["0.0.0.0/0"]),
        ],
    )
    return AwsNetworkRefs(
        outputs={"network_id": vpc.id, "subnet_ids": [s.id for s in private],
                 "security_group_id": jobs.id},
        vpc=vpc, subnets=private, security_group=jobs,
    )


def _flow_logs(scope: Construct, props: NetworkProps, vpc: Vpc, key: AwsKeyRefs) -> None:
    site = props.site
    group = log_group(scope, "flow-logs", props.monitoring,
                      f"/terraml/{site.prefix}/vpc-flow-logs", key)
    role = IamRole(scope, "flow-logs-role", name=f"{site.prefix}-flow-logs",
                   assume_role_policy=policy.assume_role("vpc-flow-logs.amazonaws.com"))
    IamRolePolicy(scope, "flow-logs-role-policy", role=role.id, name="write-flow-logs",
                  policy=policy.document(policy.allow(
                      "WriteFlowLogs",
                      ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                      [group.arn, f"{group.arn}:*"])))
    FlowLog(scope, "flow-log", vpc_id=vpc.id, traffic_type="ALL",
            log_destination=group.arn, iam_role_arn=role.arn)


def _nat(scope: Construct, site: Site, vpc: Vpc, private_rt: RouteTable,
         public_block: ipaddress.IPv4Network) -> None:
    gateway = InternetGateway(scope, "internet-gateway", vpc_id=vpc.id)
    public = Subnet(scope, "public-0", vpc_id=vpc.id, cidr_block=str(public_block),
                    map_public_ip_on_launch=False, tags={"Name": f"{site.prefix}-public-0"})
    public_rt = RouteTable(scope, "public-routes", vpc_id=vpc.id,
                           tags={"Name": f"{site.prefix}-public"})
    Route(scope, "public-default", route_table_id=public_rt.id,
          destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id)
    RouteTableAssociation(scope, "public-0-routes", subnet_id=public.id,
                          route_table_id=public_rt.id)
    address = Eip(scope, "nat-address", domain="vpc")
    nat = NatGateway(scope, "nat", allocation_id=address.id, subnet_id=public.id,
                     depends_on=[gateway])
    Route(scope, "private-default", route_table_id=private_rt.id,
          destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
