"""The DigitalOcean stack's serving part when `launchpad:hosts` > 1: N droplets behind a DO Load Balancer.

stacks/digitalocean.py builds the network (with `balanced`), the SSH keys and the database as for
one droplet, renders the cloud-config with the VPC's range as the balancer's, and hands over
here. Order: droplets (by tag) -> balancer + its firewall -> per droplet what `deliver` adds
(the database) and, given the release store, the sealed store credentials (read key + the status
bucket's write key) -> the release rolled droplet by droplet (components/digitalocean/rollout.py)
-> readiness through the balancer. No reserved IP: the balancer's address is the stack's.
The balancer sends to the droplets with the rotation tag (`<host tag>-lb`), which the roll takes
off a droplet while it switches; the host tag (firewalls, database) always stays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi

from components.digitalocean.balancer import DoBalancer, DoBalancerArgs
from components.digitalocean.droplet_host import DropletHost, DropletPlacement
from components.digitalocean.release_store import DoReleaseDelivery, DoReleaseDeliveryArgs, DoReleaseStore
from components.digitalocean.rollout import DoRollout, DoRolloutArgs
from components.digitalocean.status_bucket import DoStatusBucket, DoStatusBucketArgs
from components.digitalocean.network import DoNetwork
from components.host import HostArgs
from components.readiness import Readiness, ReadinessArgs
from launchpad.render.balanced import health_path
from launchpad.settings import Settings
from stacks import common


def host_name(settings: Settings, index: int) -> str:
    return f"{settings.stack}-{index}"


def rotation_tag(settings: Settings) -> str:
    """The tag the balancer selects droplets by; a roll removes it from one droplet at a time."""
    return f"{common.do_host_tag(settings)}-lb"


def serve(settings: Settings, network: DoNetwork, user_data: pulumi.Input[str], tags: Sequence[pulumi.Input[str]],
          ssh_key_fingerprints: Sequence[pulumi.Input[str]],
          deliver: Callable[[str, DropletHost], list[pulumi.Resource]] | None = None,
          store: DoReleaseStore | None = None) -> tuple[pulumi.Output[str], pulumi.Output[list]]:
    """Builds the droplets and the balancer; returns (the balancer's address, the hosts).

    `deliver(name, droplet)`: what each droplet needs before it may take a release (the database);
    its resources gate the roll. `store`: the release store, whose credentials are sealed to each
    droplet and whose release is rolled droplet by droplet (None: no release step)."""
    region = settings.resolved_region
    rotation = rotation_tag(settings)
    hosts = [DropletHost(host_name(settings, i), HostArgs(
        size=settings.resolved_size, user_data=user_data,
        placement=DropletPlacement(region=region, vpc_id=network.vpc_id, tags=[*tags, rotation],
                                   ssh_key_fingerprints=ssh_key_fingerprints)))
        for i in range(settings.hosts)]
    balancer = DoBalancer(settings.stack, DoBalancerArgs(
        region=region, vpc_id=network.vpc_id, host_tag=network.host_tag, health_path=health_path(settings),
        domain=settings.domain, dns_zone=settings.dns_zone if settings.balancer_tls else None, rotation_tag=rotation),
        opts=pulumi.ResourceOptions(depends_on=list(hosts)))
    gate: list[pulumi.Resource] = [balancer, *hosts]
    for host in hosts:
        gate += deliver(host_name(settings, hosts.index(host)), host) if deliver else []
    release_id: str | None = None
    if store is not None:
        status = DoStatusBucket(settings.stack, DoStatusBucketArgs(region=region, release_bucket=store.bucket_name))
        sealed: list[pulumi.Resource] = []
        for i, host in enumerate(hosts):
            # Enrolled through the enrollment bucket: the droplet's own address admits the web from the balancer only.
            delivery = DoReleaseDelivery(host_name(settings, i), DoReleaseDeliveryArgs(
                store=store, host_id=host.id, status_key=status.write_key, pointer=False))
            sealed += delivery.objects
        release_id = store.args.manifest.id
        store_url = pulumi.Output.concat("s3://", store.bucket_name, f"/{settings.stack}")
        rollout = DoRollout(settings.stack, DoRolloutArgs(
            store=store_url, region=region, status_bucket=status.bucket_name, balancer_id=balancer.load_balancer.id,
            host_tag=network.host_tag, rotation_tag=rotation, release_id=release_id, after=[*gate, *store.objects, *sealed]))
        gate.append(rollout)
        pulumi.export("rollout", {"provider": "digitalocean", "store": store_url, "region": region,
                                  "status_bucket": status.bucket_name, "balancer": balancer.load_balancer.id,
                                  "host_tag": network.host_tag, "rotation_tag": rotation})

    console = "open a droplet's Recovery Console in the DigitalOcean control panel"
    Readiness(settings.stack, ReadinessArgs(
        address=balancer.ip, host_id=pulumi.Output.all(*(h.id for h in hosts)).apply(lambda ids: ",".join(map(str, ids))),
        domain=settings.domain, release_id=release_id, database=settings.database.enabled, health_path=getattr(settings.app, "health_path", None),
        logs=balancer.ip.apply(lambda ip: common.logs_hint(settings, ip, console)), after=gate))
    listed = pulumi.Output.all(*(pulumi.Output.all(h.id, h.public_ip) for h in hosts)).apply(
        lambda pairs: [{"id": str(i), "address": str(ip)} for i, ip in pairs])
    return balancer.ip, listed
