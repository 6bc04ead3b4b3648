"""The host's stable public address on AWS, moved to a host only once it is healthy.

Creates:
- aws.ec2.Eip (VPC): the address DNS points at; it outlives hosts;
- aws.ec2.EipAssociation binding it to the host, registered after `after` (the
  readiness check). A replaced host thus takes the address only when it answers its
  health check; the old host keeps serving until then (Pulumi creates the new
  association before deleting the old one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass
class AwsPublicAddressArgs:
    host_id: pulumi.Input[str]
    """The EC2 instance id."""
    after: Sequence[pulumi.Resource] = ()
    """What must succeed before the address moves (the host's Readiness)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsPublicAddress(pulumi.ComponentResource):
    """An Elastic IP, associated with the host after its readiness passed."""

    ip: pulumi.Output[str]
    association: aws.ec2.EipAssociation

    def __init__(self, name: str, args: AwsPublicAddressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:addresses:AwsPublicAddress", name, None, opts)
        eip = aws.ec2.Eip(f"{name}-eip", domain="vpc", tags={**args.tags, "Name": name},
                          opts=pulumi.ResourceOptions(parent=self))
        self.association = aws.ec2.EipAssociation(
            f"{name}-association", allocation_id=eip.allocation_id, instance_id=args.host_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)))
        self.ip = eip.public_ip
        self.register_outputs({"ip": self.ip})
