"""The host's own network on DigitalOcean, and the firewall in front of it.

Creates:
- digitalocean.Vpc in the region: the droplet's and the database's private network;
- digitalocean.Tag for the stack's host (`launchpad-<stack>`): firewalls select by it;
- digitalocean.Firewall on that tag: 80/443 from anywhere (IPv4 and IPv6), 22 only
  from the admin CIDRs (none: SSH closed), ICMP (path-MTU discovery), all outbound.

The firewall follows the tag, not droplet ids, so a replacement droplet is covered
from its first boot, before the old one is gone.

With `balanced` (launchpad:hosts > 1) this firewall admits no web traffic: the load balancer's
own firewall (components/digitalocean/balancer.py) admits 80/443 from the balancer alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean

WORLD = ["0.0.0.0/0", "::/0"]
WEB_PORTS = (80, 443)


@dataclass
class DoNetworkArgs:
    region: str
    host_tag: str
    """The tag every droplet of this stack carries (and nothing else does)."""
    admin_cidrs: Sequence[str] = ()
    """Sources allowed to reach SSH (22); empty closes it."""
    balanced: bool = False
    """Web traffic comes only through the load balancer (which brings its own firewall rule)."""


class DoNetwork(pulumi.ComponentResource):
    """A VPC, the stack's host tag, and a cloud firewall admitting only web traffic (and SSH from admins)."""

    vpc_id: pulumi.Output[str]
    host_tag: pulumi.Output[str]
    """The tag's name, known once the tag AND its firewall exist: a droplet created with it is
    guarded from its first boot."""
    firewall: digitalocean.Firewall
    ip_range: pulumi.Output[str]
    """The VPC's private range. Behind a balancer the droplets' Nginx trusts X-Forwarded-For from
    it: the balancer reaches them over the VPC, and no other member may open 80/443 to them."""

    def __init__(self, name: str, args: DoNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:networks:DoNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc = digitalocean.Vpc(f"{name}-vpc", region=args.region, description="Launchpad host and database", opts=child)
        tag = digitalocean.Tag(f"{name}-host-tag", name=args.host_tag, opts=child)

        inbound = [digitalocean.FirewallInboundRuleArgs(protocol="tcp", port_range=str(port), source_addresses=WORLD)
                   for port in WEB_PORTS] if not args.balanced else []
        if args.admin_cidrs:
            inbound.append(digitalocean.FirewallInboundRuleArgs(protocol="tcp", port_range="22",
                                                                source_addresses=list(args.admin_cidrs)))
        inbound.append(digitalocean.FirewallInboundRuleArgs(protocol="icmp", source_addresses=WORLD))
        outbound = [digitalocean.FirewallOutboundRuleArgs(protocol=p, port_range="1-65535", destination_addresses=WORLD)
                    for p in ("tcp", "udp")]
        outbound.append(digitalocean.FirewallOutboundRuleArgs(protocol="icmp", destination_addresses=WORLD))
        self.firewall = digitalocean.Firewall(f"{name}-firewall", tags=[tag.name], inbound_rules=inbound,
                                              outbound_rules=outbound, opts=child)

        self.vpc_id = vpc.id
        self.ip_range = vpc.ip_range
        self.host_tag = pulumi.Output.all(tag.name, self.firewall.id).apply(lambda v: str(v[0]))
        self.register_outputs({"vpc_id": self.vpc_id, "host_tag": self.host_tag})
