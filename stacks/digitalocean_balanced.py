"""The DigitalOcean stack's serving part when `launchpad:hosts` > 1: N droplets behind a DO Load Balancer.

stacks/digitalocean.py builds the network (with `balanced`), the SSH keys and the database as for
one droplet, renders the cloud-config with the VPC's range as the balancer's, and hands over
here. Order: droplets (by tag) -> balancer + its firewall -> per droplet the database URL over
SSH -> readiness through the balancer. No reserved IP: the balancer's address is the stack's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi

from components.digitalocean.balancer import DoBalancer, DoBalancerArgs
from components.digitalocean.droplet_host import DropletHost, DropletPlacement
from components.digitalocean.network import DoNetwork
from components.host import HostArgs
from components.readiness import Readiness, ReadinessArgs
from launchpad.render.balanced import health_path
from launchpad.settings import Settings
from stacks import common


def host_name(settings: Settings, index: int) -> str:
    return f"{settings.stack}-{index}"


def serve(settings: Settings, network: DoNetwork, user_data: pulumi.Input[str], tags: Sequence[pulumi.Input[str]],
          ssh_key_fingerprints: Sequence[pulumi.Input[str]],
          deliver: Callable[[str, DropletHost], list[pulumi.Resource]] | None = None) -> tuple[pulumi.Output[str], pulumi.Output[list]]:
    """Builds the droplets and the balancer; returns (the balancer's address, the hosts).

    `deliver(name, droplet)`: what each droplet needs before it may be checked (the database URL
    over SSH); its resources gate the readiness check."""
    region = settings.resolved_region
    hosts = [DropletHost(host_name(settings, i), HostArgs(
        size=settings.resolved_size, user_data=user_data,
        placement=DropletPlacement(region=region, vpc_id=network.vpc_id, tags=tags, ssh_key_fingerprints=ssh_key_fingerprints)))
        for i in range(settings.hosts)]
    balancer = DoBalancer(settings.stack, DoBalancerArgs(
        region=region, vpc_id=network.vpc_id, host_tag=network.host_tag, health_path=health_path(settings),
        domain=settings.domain, dns_zone=settings.dns_zone if settings.balancer_tls else None),
        opts=pulumi.ResourceOptions(depends_on=list(hosts)))
    gate: list[pulumi.Resource] = [balancer, *hosts]
    for host in hosts:
        gate += deliver(host_name(settings, hosts.index(host)), host) if deliver else []

    console = "open a droplet's Recovery Console in the DigitalOcean control panel"
    Readiness(settings.stack, ReadinessArgs(
        address=balancer.ip, host_id=pulumi.Output.all(*(h.id for h in hosts)).apply(lambda ids: ",".join(map(str, ids))),
        domain=settings.domain, database=settings.database.enabled, health_path=getattr(settings.app, "health_path", None),
        logs=balancer.ip.apply(lambda ip: common.logs_hint(settings, ip, console)), after=gate))
    listed = pulumi.Output.all(*(pulumi.Output.all(h.id, h.public_ip) for h in hosts)).apply(
        lambda pairs: [{"id": str(i), "address": str(ip)} for i, ip in pairs])
    return balancer.ip, listed
