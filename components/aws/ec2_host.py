"""The app host on AWS: one Debian 12 EC2 instance.

Creates:
- aws.ec2.Instance from the newest official Debian 12 AMI (owner 136693071363; arm64
  for Graviton families such as t4g or m7g, else x86_64), with IMDSv2 required, an
  encrypted gp3 root volume, the cloud-config as gzip+base64 user-data, and
  `user_data_replace_on_change`: a new bootstrap builds a new host, which the stack
  health-checks before moving the Elastic IP to it.

Reads (invoke): aws.ec2.getAmi.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.host import HostArgs
from launchpad.providers import AWS

DEBIAN_OWNER = "136693071363"
"""Debian's own AWS account: https://wiki.debian.org/Cloud/AmazonEC2Image"""
ROOT_VOLUME_GB = 10
IMDS_V2: dict[str, Any] = {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}
"""Instance metadata options, for the instance and the fleet's launch template alike: only session-token
requests (IMDSv2), one hop, so containers and SSRF through the app can't reach the role."""

def encode_user_data(user_data: str) -> str:
    """EC2's `user_data_base64`: gzip+base64, as the AWS profile encodes it (launchpad/providers.py)."""
    assert AWS.user_data is not None
    return AWS.user_data.encode(user_data)


_FAMILY = re.compile(r"^([a-z]+)(\d+)([a-z-]*)$")


def architecture(instance_type: str) -> str:
    """`arm64` for Graviton families (t4g, m7g, c7gn, x2gd, a1...), else `x86_64`."""
    family = instance_type.split(".", 1)[0]
    if family == "a1":
        return "arm64"
    match = _FAMILY.match(family)
    # The letter g right after the generation marks Graviton (m7g, c6gn, im4gn, is4gen).
    return "arm64" if match and match.group(3).startswith("g") else "x86_64"


def ami_name_pattern(arch: str) -> str:
    return f"debian-12-{'arm64' if arch == 'arm64' else 'amd64'}-*"


def debian_ami(instance_type: str, parent: pulumi.Resource) -> pulumi.Output[aws.ec2.GetAmiResult]:
    """The newest official Debian 12 AMI for the instance type's architecture (single host and fleet alike)."""
    arch = architecture(instance_type)
    return aws.ec2.get_ami_output(
        most_recent=True, owners=[DEBIAN_OWNER],
        filters=[aws.ec2.GetAmiFilterArgs(name="name", values=[ami_name_pattern(arch)]),
                 aws.ec2.GetAmiFilterArgs(name="architecture", values=[arch]),
                 aws.ec2.GetAmiFilterArgs(name="virtualization-type", values=["hvm"]),
                 aws.ec2.GetAmiFilterArgs(name="root-device-type", values=["ebs"])],
        opts=pulumi.InvokeOptions(parent=parent))


@dataclass
class Ec2Placement:
    subnet_id: pulumi.Input[str]
    """A public subnet: the instance gets an address of its own there."""
    security_group_id: pulumi.Input[str]
    instance_profile: pulumi.Input[str] | None = None
    """IAM instance profile name (components/aws/host_role.py); None: the host has no AWS identity."""
    extra_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """More groups beside the web one, e.g. SSH from the Instance Connect Endpoint (components/aws/access.py)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class Ec2Host(pulumi.ComponentResource):
    """A Debian 12 EC2 instance: IMDSv2 only, encrypted root volume, replaced when its bootstrap changes."""

    id: pulumi.Output[str]
    public_ip: pulumi.Output[str]
    """The instance's own public IPv4 (not the Elastic IP)."""
    instance: aws.ec2.Instance

    def __init__(self, name: str, args: HostArgs[Ec2Placement], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:hosts:Ec2Host", name, None, opts)
        place = args.placement
        ami = debian_ami(args.size, self)

        self.instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami.id,
            instance_type=args.size,
            subnet_id=place.subnet_id,
            vpc_security_group_ids=[place.security_group_id, *place.extra_security_group_ids],
            associate_public_ip_address=True,
            iam_instance_profile=place.instance_profile,
            user_data_base64=pulumi.Output.from_input(args.user_data).apply(encode_user_data),
            user_data_replace_on_change=True,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(**IMDS_V2),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                encrypted=True, volume_type="gp3", volume_size=ROOT_VOLUME_GB, delete_on_termination=True),
            tags={**place.tags, "Name": name},
            volume_tags={**place.tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self))

        self.id = self.instance.id
        self.public_ip = self.instance.public_ip
        self.register_outputs({"id": self.id, "public_ip": self.public_ip})
