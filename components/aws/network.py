"""The host's own network on AWS, and the firewall in front of it.

Creates:
- aws.ec2.Vpc (10.0.0.0/16 and an Amazon IPv6 /56), aws.ec2.InternetGateway;
- one public subnet (IPv4 /24 + IPv6 /64, public addresses on launch) with a route
  table sending 0.0.0.0/0 and ::/0 to the gateway: the host lives here;
- two private subnets in two availability zones, without any route out, for the
  database (an RDS subnet group must span two zones);
- aws.ec2.SecurityGroup `web` for the host: 80/443 from anywhere (IPv4 and IPv6),
  22 only from the admin CIDRs (none: SSH closed), all egress (apt, pip, AWS APIs).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

VPC_CIDR = "10.0.0.0/16"
PUBLIC_CIDR = "10.0.0.0/24"
PRIVATE_CIDRS = ("10.0.10.0/24", "10.0.11.0/24")
WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"
WEB_PORTS = (80, 443)


def split_cidrs(cidrs: Sequence[str]) -> tuple[list[str], list[str]]:
    """(IPv4, IPv6): security groups take the two families in separate fields."""
    v4 = [c for c in cidrs if ipaddress.ip_network(c, strict=False).version == 4]
    v6 = [c for c in cidrs if ipaddress.ip_network(c, strict=False).version == 6]
    return v4, v6


def first_ipv6_subnet(vpc_block: str) -> str:
    """The first /64 of the VPC's /56 (the public subnet's block)."""
    return str(next(ipaddress.ip_network(vpc_block).subnets(new_prefix=64)))


@dataclass
class AwsNetworkArgs:
    admin_cidrs: Sequence[str] = ()
    """Sources allowed to reach SSH (22); empty closes it."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsNetwork(pulumi.ComponentResource):
    """A VPC with one public subnet for the host, two private ones for the database, and the host's security group."""

    vpc_id: pulumi.Output[str]
    public_subnet_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    web_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:networks:AwsNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOptions(parent=self))
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=VPC_CIDR, assign_generated_ipv6_cidr_block=True,
                          enable_dns_support=True, enable_dns_hostnames=True,
                          tags={**tags, "Name": f"{name}-vpc"}, opts=child)
        gateway = aws.ec2.InternetGateway(f"{name}-gateway", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-gateway"}, opts=child)

        public = aws.ec2.Subnet(
            f"{name}-public", vpc_id=vpc.id, cidr_block=PUBLIC_CIDR,
            ipv6_cidr_block=vpc.ipv6_cidr_block.apply(first_ipv6_subnet),
            availability_zone=zones.names[0],
            # The host needs an address of its own: readiness checks it before the Elastic IP moves.
            map_public_ip_on_launch=True, assign_ipv6_address_on_creation=True,
            tags={**tags, "Name": f"{name}-public"}, opts=child)
        routes = aws.ec2.RouteTable(
            f"{name}-public-routes", vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block=WORLD_V4, gateway_id=gateway.id),
                    aws.ec2.RouteTableRouteArgs(ipv6_cidr_block=WORLD_V6, gateway_id=gateway.id)],
            tags={**tags, "Name": f"{name}-public-routes"}, opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-public-routes", subnet_id=public.id, route_table_id=routes.id, opts=child)

        # No route out: the database only talks to the host, inside the VPC.
        private = [
            aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=zones.names[i],
                           tags={**tags, "Name": f"{name}-private-{i}"}, opts=child)
            for i, cidr in enumerate(PRIVATE_CIDRS)
        ]

        admin_v4, admin_v6 = split_cidrs(args.admin_cidrs)
        ingress = [
            aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=port, to_port=port, cidr_blocks=[WORLD_V4],
                                             ipv6_cidr_blocks=[WORLD_V6], description=f"web {port} from anywhere")
            for port in WEB_PORTS
        ]
        if args.admin_cidrs:
            ingress.append(aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=22, to_port=22, cidr_blocks=admin_v4 or None,
                ipv6_cidr_blocks=admin_v6 or None, description="SSH from admin CIDRs"))
        web = aws.ec2.SecurityGroup(
            f"{name}-web", vpc_id=vpc.id, description="Launchpad host: HTTP(S) from anywhere, SSH from admin CIDRs",
            ingress=ingress,
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=[WORLD_V4],
                                                    ipv6_cidr_blocks=[WORLD_V6], description="all outbound")],
            tags={**tags, "Name": f"{name}-web"}, opts=child)

        self.vpc_id = vpc.id
        self.public_subnet_id = public.id
        self.private_subnet_ids = [s.id for s in private]
        self.web_security_group_id = web.id
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "public_subnet_id": self.public_subnet_id,
            "private_subnet_ids": self.private_subnet_ids,
            "web_security_group_id": self.web_security_group_id,
        })
