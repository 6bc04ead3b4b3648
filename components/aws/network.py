"""The host's own network on AWS, and the firewall in front of it.

Creates:
- aws.ec2.Vpc (10.0.0.0/16 and an Amazon IPv6 /56), aws.ec2.InternetGateway;
- one public subnet (IPv4 /24 + IPv6 /64, public addresses on launch) with a route
  table sending 0.0.0.0/0 and ::/0 to the gateway: the host lives here;
- two private subnets in two availability zones, without any route out, for the
  database (an RDS subnet group must span two zones);
- aws.ec2.SecurityGroup `web` for the host: 80/443 from anywhere (IPv4 and IPv6),
  22 only from the admin CIDRs (none: SSH closed), all egress (apt, pip, AWS APIs).

With `balanced` (launchpad:hosts > 1), beside that:
- a second public subnet for hosts in the second availability zone (an Auto Scaling group
  spreads over both);
- two subnets of the load balancer's own, one per zone (BALANCER_CIDRS): nothing else lives
  there, so the hosts' Nginx trusts X-Forwarded-For from exactly these ranges;
- aws.ec2.SecurityGroup `balancer`: 80/443 from anywhere, out only to the hosts on 80;
- and `web` admits 80/443 only from the `balancer` group (SSH as above).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

VPC_CIDR = "10.0.0.0/16"
PUBLIC_CIDR = "10.0.0.0/24"
PRIVATE_CIDRS = ("10.0.10.0/24", "10.0.11.0/24")
SECOND_PUBLIC_CIDR = "10.0.1.0/24"
BALANCER_CIDRS = ("10.0.20.0/24", "10.0.21.0/24")
"""launchpad/render/balanced.py's AWS_BALANCER_CIDRS: the hosts' Nginx trusts exactly these."""
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


def second_ipv6_subnet(vpc_block: str) -> str:
    """The second /64 of the VPC's /56 (the second hosts' subnet, with `balanced`)."""
    return str(list(itertools.islice(ipaddress.ip_network(vpc_block).subnets(new_prefix=64), 2))[1])


@dataclass
class AwsNetworkArgs:
    admin_cidrs: Sequence[str] = ()
    """Sources allowed to reach SSH (22); empty closes it."""
    tags: Mapping[str, str] = field(default_factory=dict)
    balanced: bool = False
    """Hosts in two zones behind a load balancer that alone may reach them on 80/443."""


class AwsNetwork(pulumi.ComponentResource):
    """A VPC with one public subnet for the host, two private ones for the database, and the host's security group."""

    vpc_id: pulumi.Output[str]
    public_subnet_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    web_security_group_id: pulumi.Output[str]
    host_subnet_ids: list[pulumi.Output[str]]
    """Where hosts go: the public subnet, and with `balanced` the second zone's too."""
    balancer_subnet_ids: list[pulumi.Output[str]]
    """With `balanced`: the load balancer's own subnets, one per zone (else empty)."""
    balancer_security_group_id: pulumi.Output[str] | None

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

        host_subnets = [public]
        balancer_subnets: list[aws.ec2.Subnet] = []
        balancer_sg: aws.ec2.SecurityGroup | None = None
        if args.balanced:
            second = aws.ec2.Subnet(
                f"{name}-public-1", vpc_id=vpc.id, cidr_block=SECOND_PUBLIC_CIDR,
                ipv6_cidr_block=vpc.ipv6_cidr_block.apply(second_ipv6_subnet), availability_zone=zones.names[1],
                # Outbound (apt, pip, the release store) through the gateway; inbound only from the balancer.
                map_public_ip_on_launch=True, assign_ipv6_address_on_creation=True,
                tags={**tags, "Name": f"{name}-public-1"}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-1-routes", subnet_id=second.id, route_table_id=routes.id, opts=child)
            host_subnets.append(second)
            for i, cidr in enumerate(BALANCER_CIDRS):
                subnet = aws.ec2.Subnet(f"{name}-balancer-{i}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=zones.names[i],
                                        tags={**tags, "Name": f"{name}-balancer-{i}"}, opts=child)
                aws.ec2.RouteTableAssociation(f"{name}-balancer-{i}-routes", subnet_id=subnet.id, route_table_id=routes.id, opts=child)
                balancer_subnets.append(subnet)
            balancer_sg = aws.ec2.SecurityGroup(
                f"{name}-balancer", vpc_id=vpc.id, description="Launchpad load balancer: HTTP(S) from anywhere, to the hosts on 80",
                ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=port, to_port=port, cidr_blocks=[WORLD_V4],
                                                          ipv6_cidr_blocks=[WORLD_V6], description=f"web {port} from anywhere")
                         for port in WEB_PORTS],
                # To the hosts' subnets by address: naming the web group here and this group there would be a cycle.
                egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=80, to_port=80,
                                                        cidr_blocks=[PUBLIC_CIDR, SECOND_PUBLIC_CIDR], description="to the hosts' nginx")],
                tags={**tags, "Name": f"{name}-balancer"}, opts=child)

        admin_v4, admin_v6 = split_cidrs(args.admin_cidrs)
        if balancer_sg is not None:
            ingress = [
                aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=port, to_port=port, security_groups=[balancer_sg.id],
                                                 description=f"web {port} from the load balancer only")
                for port in WEB_PORTS
            ]
        else:
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
            f"{name}-web", vpc_id=vpc.id,
            description=("Launchpad host: HTTP(S) from the load balancer, SSH from admin CIDRs" if args.balanced
                         else "Launchpad host: HTTP(S) from anywhere, SSH from admin CIDRs"),
            ingress=ingress,
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=[WORLD_V4],
                                                    ipv6_cidr_blocks=[WORLD_V6], description="all outbound")],
            tags={**tags, "Name": f"{name}-web"}, opts=child)

        self.vpc_id = vpc.id
        self.public_subnet_id = public.id
        self.private_subnet_ids = [s.id for s in private]
        self.web_security_group_id = web.id
        self.host_subnet_ids = [s.id for s in host_subnets]
        self.balancer_subnet_ids = [s.id for s in balancer_subnets]
        self.balancer_security_group_id = balancer_sg.id if balancer_sg is not None else None
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "public_subnet_id": self.public_subnet_id,
            "private_subnet_ids": self.private_subnet_ids,
            "web_security_group_id": self.web_security_group_id,
        })
