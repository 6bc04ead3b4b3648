"""The host's stable public address on DigitalOcean, moved to a droplet only once it is healthy.

Creates:
- digitalocean.ReservedIp in the host's region: the address DNS points at; it outlives droplets;
- digitalocean.ReservedIpAssignment binding it to the droplet, registered after
  `after` (the readiness check). A replaced droplet takes the address only when it
  answers its health check; the provider's delete of the old assignment leaves an
  address already moved to the new droplet alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean


@dataclass
class DoPublicAddressArgs:
    host_id: pulumi.Input[str]
    """The droplet id."""
    region: str
    after: Sequence[pulumi.Resource] = ()
    """What must succeed before the address moves (the host's Readiness)."""


class DoPublicAddress(pulumi.ComponentResource):
    """A reserved IP, assigned to the droplet after its readiness passed."""

    ip: pulumi.Output[str]
    association: digitalocean.ReservedIpAssignment

    def __init__(self, name: str, args: DoPublicAddressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:addresses:DoPublicAddress", name, None, opts)
        reserved = digitalocean.ReservedIp(f"{name}-ip", region=args.region, opts=pulumi.ResourceOptions(parent=self))
        self.association = digitalocean.ReservedIpAssignment(
            f"{name}-assignment", ip_address=reserved.ip_address,
            droplet_id=pulumi.Output.from_input(args.host_id).apply(int),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)))
        self.ip = reserved.ip_address
        self.register_outputs({"ip": self.ip})
