"""The app's hosts on AWS when there are several: a launch template and an Auto Scaling group.

Creates:
- aws.ec2.LaunchTemplate: the newest official Debian 12 AMI (as components/aws/ec2_host.py
  picks it), IMDSv2 required (one hop), an encrypted gp3 root volume, the instance profile,
  a public address for outbound (inbound 80/443 only from the balancer's group), and the
  same cloud-config as a single host, gzip+base64;
- aws.autoscaling.Group across the host subnets (two zones), registered in the balancer's
  target group, health = the balancer's health check (ELB), waiting on create for `desired`
  hosts healthy in it. A new launch template version (a bootstrap change) starts an
  instance refresh with minimum healthy 100 % (a new host is launched and healthy before an
  old one goes; max 200 %), rolled back automatically if it fails;
- with autoscaling: aws.autoscaling.Policy, target tracking on the group's average CPU;
  the policy owns the group's size afterwards (desired capacity is not reset by `pulumi up`);
- command.local.Command `{name}-refresh`: `python -m components.aws.refresh_wait` where
  `pulumi up` runs, so the update returns only once the refresh completed healthy (the
  provider does not wait for it); it prints the group's hosts (the `hosts` output).

Reads (invoke): aws.ec2.getAmi.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from components.aws.ec2_host import IMDS_V2, ROOT_VOLUME_GB, debian_ami, encode_user_data
from components.host import HostArgs
from components.readiness import python_command
from launchpad.settings import PROJECT_ROOT

HEALTH_GRACE_S = 600
"""A new host has this long to pass the balancer's health check: cloud-init, apt and the first release."""
REFRESH_TIMEOUT_S = 3600
MIN_HEALTHY_PERCENT = 100
MAX_HEALTHY_PERCENT = 200


@dataclass
class AwsFleetPlacement:
    subnet_ids: Sequence[pulumi.Input[str]]
    """Host subnets, in at least two zones."""
    security_group_id: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    region: str
    desired: int
    minimum: int
    maximum: int
    target_cpu: int | None = None
    """Average CPU % a target-tracking policy holds; None: a fixed number of hosts."""
    instance_profile: pulumi.Input[str] | None = None
    extra_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """E.g. the day-2 access group (SSH from the EC2 Instance Connect Endpoint only)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    after: Sequence[pulumi.Resource] = ()
    """What the group's first hosts need before they boot (the release roll, which writes the pointer they follow)."""


def refresh_wait_command(python: str, group: str, region: str, profile: str | None, timeout: int = REFRESH_TIMEOUT_S) -> str:
    args = [python, "-m", "components.aws.refresh_wait", "--group", group, "--region", region, "--timeout", str(timeout)]
    if profile:
        args += ["--profile", profile]
    return " ".join(shlex.quote(a) for a in args)


def parse_hosts(stdout: str) -> list[dict[str, Any]]:
    """The waiter's report: [{"id": instance id, "address": private IPv4, "zone": ...}, ...]."""
    try:
        data = json.loads(stdout or "[]")
    except ValueError:
        return []
    return data if isinstance(data, list) else []


class AwsFleet(pulumi.ComponentResource):
    """Debian 12 hosts from one launch template in an Auto Scaling group behind the balancer."""

    group_name: pulumi.Output[str]
    template_version: pulumi.Output[int]
    hosts: pulumi.Output[list[dict[str, Any]]]
    launch_template: aws.ec2.LaunchTemplate
    group: aws.autoscaling.Group
    refresh: command.local.Command

    def __init__(self, name: str, args: HostArgs[AwsFleetPlacement], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:hosts:AwsFleet", name, None, opts)
        place = args.placement
        if len(place.subnet_ids) < 2:
            raise ValueError(f"{name}: {len(place.subnet_ids)} host subnet(s); the group spreads over at least two zones")
        if not place.minimum <= place.desired <= place.maximum:
            raise ValueError(f"{name}: desired {place.desired} is outside {place.minimum}..{place.maximum}")
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(place.tags)
        ami = debian_ami(args.size, self)

        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            image_id=ami.id,
            instance_type=args.size,
            user_data=pulumi.Output.from_input(args.user_data).apply(encode_user_data),
            iam_instance_profile=(aws.ec2.LaunchTemplateIamInstanceProfileArgs(name=place.instance_profile)
                                  if place.instance_profile is not None else None),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(**IMDS_V2),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda", ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true", volume_type="gp3", volume_size=ROOT_VOLUME_GB, delete_on_termination="true"))],
            network_interfaces=[aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                associate_public_ip_address="true", security_groups=[place.security_group_id, *place.extra_security_group_ids],
                delete_on_termination="true")],
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags={**tags, "Name": name})
                                for kind in ("instance", "volume")],
            update_default_version=True,
            tags=tags, opts=child)

        autoscaled = place.target_cpu is not None
        self.group = aws.autoscaling.Group(
            f"{name}-group",
            vpc_zone_identifiers=list(place.subnet_ids),
            min_size=place.minimum, max_size=place.maximum, desired_capacity=place.desired,
            # A pinned version (not $Latest): a new one is what starts the instance refresh.
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=self.launch_template.id,
                                                                    version=self.launch_template.latest_version.apply(str)),
            target_group_arns=[place.target_group_arn],
            health_check_type="ELB", health_check_grace_period=HEALTH_GRACE_S,
            # On create, `pulumi up` waits until this many hosts pass the balancer's health check.
            wait_for_elb_capacity=place.minimum, wait_for_capacity_timeout=f"{HEALTH_GRACE_S + 300}s",
            default_instance_warmup=60,
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=MIN_HEALTHY_PERCENT, max_healthy_percentage=MAX_HEALTHY_PERCENT,
                    instance_warmup="60", skip_matching=True, auto_rollback=True)),
            termination_policies=["OldestLaunchTemplate", "OldestInstance"],
            tags=[aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=False) for k, v in sorted(tags.items())],
            # With a policy, the group's size is the policy's to change, not the program's to reset.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"] if autoscaled else None,
                                        depends_on=list(place.after)))
        if autoscaled:
            aws.autoscaling.Policy(
                f"{name}-cpu", autoscaling_group_name=self.group.name, policy_type="TargetTrackingScaling",
                estimated_instance_warmup=120,
                target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                    predefined_metric_specification=aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type="ASGAverageCPUUtilization"),
                    target_value=float(place.target_cpu or 50)),
                opts=child)

        aws_profile = pulumi.Config("aws").get("profile")
        self.refresh = command.local.Command(
            f"{name}-refresh",
            create=self.group.name.apply(lambda group: refresh_wait_command(python_command(), group, place.region, aws_profile)),
            dir=str(PROJECT_ROOT),
            # Again for each new template version: that is what starts a refresh.
            triggers=[self.launch_template.latest_version],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.group]))
        self.group_name = self.group.name
        self.template_version = self.launch_template.latest_version
        self.hosts = self.refresh.stdout.apply(parse_hosts)
        self.register_outputs({"group_name": self.group_name, "hosts": self.hosts})
