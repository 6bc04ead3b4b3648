"""A single droplet's DNS on DigitalOcean (`launchpad:dnsZone` with one host): the apex and `www`.

Creates:
- digitalocean.DnsRecord (A) for the domain and for www.<domain> in the DigitalOcean domain
  `zone` (names relative to it: `@` for the zone's apex), pointing at the stack's stable
  address (the reserved IP), so they never follow a replaced droplet: the address does, once
  the new droplet passed its readiness (components/readiness.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean

TTL = 300


def relative(name: str, zone: str) -> str:
    """`name` as DigitalOcean writes it inside `zone`: `@` for the apex, else the labels before it."""
    return "@" if name == zone else name[: -len(zone) - 1]


@dataclass
class DoHostDnsArgs:
    zone: str
    """The DigitalOcean domain (its DNS hosted by DigitalOcean) holding `domain`."""
    domain: str
    address: pulumi.Input[str]
    """The stable public address (the reserved IP), not the droplet's own."""


class DoHostDns(pulumi.ComponentResource):
    """A records for the domain and www.<domain> in the stack's DigitalOcean domain."""

    records: list[digitalocean.DnsRecord]

    def __init__(self, name: str, args: DoHostDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:dns:DoHostDns", name, None, opts)
        zone = args.zone.lower().rstrip(".")
        if args.domain != zone and not args.domain.endswith("." + zone):
            raise ValueError(f"{name}: the zone {zone!r} does not hold the domain {args.domain!r}")
        self.records = [
            digitalocean.DnsRecord(f"{name}-{label}", domain=zone, type="A", name=relative(record, zone), value=args.address,
                                   ttl=TTL, opts=pulumi.ResourceOptions(parent=self))
            for label, record in (("apex", args.domain), ("www", f"www.{args.domain}"))
        ]
        self.register_outputs({})
