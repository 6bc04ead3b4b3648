"""The app host on DigitalOcean: one Debian 12 droplet.

Creates:
- digitalocean.Droplet (`debian-12-x64`) in the stack's VPC, tagged with the project
  and the stack's host tag (which the cloud firewall and the database firewall
  select), created with the registered SSH keys, the cloud-config as user-data, IPv6
  and the monitoring agent. DigitalOcean replaces a droplet whose user-data changes:
  the stack health-checks the new one before moving the reserved IP to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_digitalocean as digitalocean

from components.host import HostArgs

IMAGE = "debian-12-x64"


@dataclass
class DropletPlacement:
    region: str
    vpc_id: pulumi.Input[str]
    tags: Sequence[pulumi.Input[str]]
    """Must include the tag the firewall selects, or the droplet stands unguarded."""
    ssh_key_fingerprints: Sequence[pulumi.Input[str]] = field(default_factory=list)


class DropletHost(pulumi.ComponentResource):
    """A Debian 12 droplet in a VPC, guarded by the firewall its tag selects."""

    id: pulumi.Output[str]
    public_ip: pulumi.Output[str]
    """The droplet's own public IPv4 (not the reserved IP)."""
    droplet: digitalocean.Droplet

    def __init__(self, name: str, args: HostArgs[DropletPlacement], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:hosts:DropletHost", name, None, opts)
        place = args.placement
        if not place.tags:
            raise ValueError(f"{name}: DropletPlacement.tags is empty; the firewall selects the droplet by tag")
        self.droplet = digitalocean.Droplet(
            f"{name}-droplet",
            image=IMAGE,
            region=place.region,
            size=args.size,
            vpc_uuid=place.vpc_id,
            tags=list(place.tags),
            ssh_keys=list(place.ssh_key_fingerprints),
            user_data=args.user_data,
            ipv6=True,
            monitoring=True,
            opts=pulumi.ResourceOptions(parent=self))
        self.id = self.droplet.id
        self.public_ip = self.droplet.ipv4_address
        self.register_outputs({"id": self.id, "public_ip": self.public_ip})
