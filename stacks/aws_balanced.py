"""The AWS stack's serving part when `launchpad:hosts` > 1 (or `autoscale`): hosts behind an ALB.

stacks/aws.py builds the network (with `balanced`), the database and the host role as for one
host, renders the same cloud-config, and hands over here. Order: balancer (ALB, target group,
listeners, certificate) -> Auto Scaling group from a launch template (waits for the first
hosts to pass the target group's health check) -> instance refresh waiter -> readiness through
the balancer. No Elastic IP: the balancer's DNS name is the stack's address.
The release rolls host by host (components/aws/rollout.py) between the store's objects and the
group: each instance leaves the target group, takes the release, reports it live, rejoins.
"""

from __future__ import annotations

import pulumi

from components.aws.access import AwsAccess
from components.aws.balancer import AwsBalancer, AwsBalancerArgs
from components.aws.fleet import AwsFleet, AwsFleetPlacement
from components.aws.network import AwsNetwork
from components.aws.release_store import AwsReleaseStore
from components.aws.rollout import AwsRollout, AwsRolloutArgs
from components.host import HostArgs
from components.readiness import Readiness, ReadinessArgs
from launchpad.render.balanced import health_path, healthy_codes
from launchpad.settings import Settings
from stacks import common


def serve(settings: Settings, network: AwsNetwork, access: AwsAccess, user_data: pulumi.Input[str],
          instance_profile: pulumi.Input[str] | None, tags: dict[str, str],
          opts: pulumi.ResourceOptions, store: AwsReleaseStore) -> tuple[pulumi.Output[str], pulumi.Output[list], pulumi.Output[dict]]:
    """Builds the balancer and the group; returns (the balancer's DNS name, the hosts, the access output)."""
    name = settings.stack
    assert network.balancer_security_group_id is not None, "AwsNetwork(balanced=True) makes the balancer's group"
    balancer = AwsBalancer(name, AwsBalancerArgs(
        vpc_id=network.vpc_id, subnet_ids=network.balancer_subnet_ids, security_group_id=network.balancer_security_group_id,
        health_path=health_path(settings), healthy_codes=healthy_codes(settings), domain=settings.domain,
        dns_zone=settings.dns_zone if settings.balancer_tls else None, production=settings.production, tags=tags), opts=opts)

    # Host by host through the target group; on the first `pulumi up` (no host yet) it only writes the pointer.
    store_url = pulumi.Output.concat("s3://", store.bucket_name, f"/{settings.stack}")
    rollout = AwsRollout(name, AwsRolloutArgs(store=store_url, region=settings.resolved_region,
                                              target_group_arn=balancer.target_group_arn, release_id=store.release_id,
                                              after=store.objects), opts=opts)
    pulumi.export("rollout", {"provider": "aws", "store": store_url, "region": settings.resolved_region,
                              "target_group": balancer.target_group_arn})

    scale = settings.autoscale
    minimum, maximum = (scale.min, scale.max) if scale else (settings.hosts, settings.hosts)
    desired = settings.hosts if scale is None or "hosts" in settings.model_fields_set else scale.min
    fleet = AwsFleet(name, HostArgs(size=settings.resolved_size, user_data=user_data, placement=AwsFleetPlacement(
        subnet_ids=network.host_subnet_ids, security_group_id=network.web_security_group_id,
        target_group_arn=balancer.target_group_arn, region=settings.resolved_region, desired=desired,
        minimum=minimum, maximum=maximum, target_cpu=scale.target_cpu if scale else None,
        instance_profile=instance_profile, extra_security_group_ids=[access.host_security_group_id], tags=tags,
        after=[rollout])), opts=opts)

    console = (f"aws autoscaling describe-instance-refreshes --region {settings.resolved_region} --auto-scaling-group-name "
               f"<group>; aws elbv2 describe-target-health --target-group-arn <target group>")
    Readiness(name, ReadinessArgs(
        address=balancer.dns_name, host_id=fleet.template_version.apply(str), domain=settings.domain,
        release_id=store.release_id,
        database=settings.database.enabled, health_path=getattr(settings.app, "health_path", None),
        logs=balancer.dns_name.apply(lambda dns: common.logs_hint(settings, dns, console)), after=[fleet.refresh, rollout]))
    region = settings.resolved_region
    # Day-2 access to each host of the group as the refresh left it (launchpad ssh/run/logs --host N).
    record: pulumi.Output[dict] = fleet.hosts.apply(lambda hosts: access.access_output(
        region, [(f"web-{i}", str(h.get("id")), str(h.get("address"))) for i, h in enumerate(hosts)]))
    return balancer.dns_name, fleet.hosts, record
