"""A single host's DNS on AWS (`launchpad:dnsZone` with one host): the apex and `www` in Route 53.

Creates:
- aws.route53.Record (A) for the domain and for www.<domain>, in the hosted zone named by
  `zone`, pointing at the stack's stable address (the Elastic IP). The records never follow a
  replaced host: the address does, once the new host passed its readiness (components/readiness.py).

Reads (invoke): aws.route53.getZone (the public hosted zone named `zone`).
The zone's id also scopes the host's DNS-01 permission (components/aws/certificate_store.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

TTL = 300


@dataclass
class AwsHostDnsArgs:
    zone: str
    """The public hosted zone holding the domain, e.g. example.com."""
    domain: str
    """The apex served by the host, inside `zone`."""
    address: pulumi.Input[str]
    """The stable public address (the Elastic IP), not the host's own."""


class AwsHostDns(pulumi.ComponentResource):
    """A records for the domain and www.<domain> in the stack's Route 53 zone."""

    zone_id: pulumi.Output[str]
    records: list[aws.route53.Record]

    def __init__(self, name: str, args: AwsHostDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:dns:AwsHostDns", name, None, opts)
        zone = args.zone.lower().rstrip(".")
        if args.domain != zone and not args.domain.endswith("." + zone):
            raise ValueError(f"{name}: the zone {zone!r} does not hold the domain {args.domain!r}")
        found = aws.route53.get_zone_output(name=zone, private_zone=False, opts=pulumi.InvokeOptions(parent=self))
        self.zone_id = found.zone_id
        self.records = [
            aws.route53.Record(f"{name}-{label}", zone_id=self.zone_id, name=record, type="A", ttl=TTL, records=[args.address],
                               allow_overwrite=True, opts=pulumi.ResourceOptions(parent=self))
            for label, record in (("apex", args.domain), ("www", f"www.{args.domain}"))
        ]
        self.register_outputs({"zone_id": self.zone_id})
