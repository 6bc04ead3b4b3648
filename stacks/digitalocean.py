"""The DigitalOcean stack: a VPC, a droplet behind a reserved IP, optionally Managed PostgreSQL.

Order of a deploy: network, SSH keys, release store -> (database) -> droplet -> release
delivery -> (database credentials, sealed) -> readiness -> reserved IP. The app ships as a release: the
artifact and manifest in the stack's private Spaces bucket, the droplet's agent pulls them with
a read-only key that, like `app.secrets`, is sealed to the droplet's own key once `pulumi up`
has enrolled it (components/digitalocean/release_store.py); user-data only says where to look.
An app change rolls a release on the running droplet; readiness waits for its id.
DigitalOcean has no instance role, so the database credentials are sealed to the droplet's own
key (components/digitalocean/database_delivery.py), with the cluster admin's URL: the agent
grants the app's user CREATE in its database (PostgreSQL 15+ withholds it from API-made users)
and refuses a release whose database the app's user cannot write. No SSH from the deployer, no
deploy key: `adminCidrs` only opens SSH for `launchpad ssh` and day-2 work.
"""

from __future__ import annotations

import pulumi

from launchpad.render import database_agent
from launchpad.render.bootstrap import ADMIN_USER, render_user_data
from components.digitalocean.access import DoAccess, DoAccessArgs, access_output_each
from components.digitalocean.database import DoDatabase, DoDatabaseArgs
from components.digitalocean.database_delivery import DoDatabaseDelivery, DoDatabaseDeliveryArgs
from components.digitalocean.network import DoNetwork, DoNetworkArgs
from components.digitalocean.public_address import DoPublicAddress, DoPublicAddressArgs
from components.digitalocean.ssh_keys import DoSshKeys, DoSshKeysArgs
from components.digitalocean.droplet_host import DropletHost, DropletPlacement
from components.host import HostArgs
from components.readiness import Readiness, ReadinessArgs
from components.digitalocean.release_store import DoReleaseDelivery, DoReleaseDeliveryArgs, DoReleaseStore, DoReleaseStoreArgs
from launchpad.settings import Settings
from stacks import common, host_tls, releases


def build(settings: Settings) -> None:
    name = settings.stack
    region = settings.resolved_region
    with_db = settings.database.enabled
    host_tag = common.do_host_tag(settings)

    network = DoNetwork(name, DoNetworkArgs(region=region, host_tag=host_tag, admin_cidrs=settings.admin_cidrs,
                                            balanced=settings.balanced))
    # Behind a balancer, the droplets' Nginx trusts X-Forwarded-For from the VPC's range (render/balanced.py).
    cidrs: pulumi.Input[str] = network.ip_range if settings.balanced else ""
    keys = DoSshKeys(name, DoSshKeysArgs(public_keys=settings.ssh_keys))

    database: DoDatabase | None = None
    if with_db:
        db = settings.database
        database = DoDatabase(name, DoDatabaseArgs(
            region=region, vpc_id=network.vpc_id, client_tag=network.host_tag, version=db.version,
            size=settings.database_size, name=db.name, production=settings.production,
            tags=[t for t in common.do_tags(settings) if t != host_tag]))

    release = releases.build(settings)
    store = DoReleaseStore(name, DoReleaseStoreArgs(
        stack=settings.stack, artifact=release.artifact, manifest=release.manifest,
        secrets=pulumi.Output.secret(dict(release.secrets)), region=region))
    releases.export_store(pulumi.Output.concat("s3://", store.bucket_name, f"/{settings.stack}"), region, store.endpoint)
    # Reading the agent's key makes the droplet wait for the agent object its bootstrap fetches.
    # The droplet announces its own key in the enrollment bucket (components/digitalocean/enroll_bucket.py).
    agent = pulumi.Output.all(store.bucket_name, store.enroll_hex, store.agent_key, store.enrollment.agent_spec()).apply(
        lambda v: {**releases.do_agent(settings, v[0], store.endpoint, v[1], v[3]),
                   # The agent expects DATABASE_URL and the sealed grants (database_delivery.py).
                   **({"database": database_agent.digitalocean()} if with_db else {})})

    # HTTPS across droplet replacements: the stack's certificate bucket (stacks/host_tls.py).
    agent, certificates = host_tls.do_store(settings, agent, store.bucket_name, region)
    # User-data carries nothing of the database (it arrives sealed, below), so the droplet
    # neither waits for nor is replaced by the cluster.
    user_data = pulumi.Output.all(agent, cidrs).apply(lambda v: render_user_data(settings, v[0], balancer_cidrs=(v[1],) if v[1] else ()))

    if settings.balanced:
        from stacks import digitalocean_balanced

        pinned: list[tuple[str, pulumi.Input[str], DoAccess]] = []

        def deliver(host_name: str, droplet: DropletHost) -> list[pulumi.Resource]:
            """The database credentials sealed to each droplet's own key, as for one (no SSH); with SSH
            open, each droplet's host key as recorded at its boot (day-2 access, --host N)."""
            if settings.ssh_open:
                pinned.append((host_name, droplet.public_ip, DoAccess(host_name, DoAccessArgs(
                    enrollment=store.enrollment, host_id=droplet.id))))
            if database is None:
                return []
            return [DoDatabaseDelivery(host_name, DoDatabaseDeliveryArgs(
                store=store, payload=database.sealed_payload, host_id=droplet.id))]

        tags: list[pulumi.Input[str]] = [network.host_tag, *(t for t in common.do_tags(settings) if t != host_tag)]
        front, hosts = digitalocean_balanced.serve(settings, network, user_data, tags, keys.fingerprints, deliver, store)
        common.export_outputs(settings, front, database.private_host if database is not None else None, hosts=hosts,
                              access=access_output_each(ADMIN_USER, pinned) if pinned else None)
        return

    host = DropletHost(name, HostArgs(
        size=settings.resolved_size, user_data=user_data,
        placement=DropletPlacement(region=region, vpc_id=network.vpc_id,
                                   tags=[network.host_tag, *(t for t in common.do_tags(settings) if t != host_tag)],
                                   ssh_key_fingerprints=keys.fingerprints)))

    gate: list[pulumi.Resource] = [host]
    delivery = DoReleaseDelivery(name, DoReleaseDeliveryArgs(store=store, host_id=host.id))
    gate.append(delivery)
    host_tls.do_delivery(certificates, store, delivery.host_key, name, settings)
    if database is not None:
        # The agent waits for this object (retrying, stage fetch) before the first release with a
        # database, so no release ever starts without its DATABASE_URL.
        gate.append(DoDatabaseDelivery(name, DoDatabaseDeliveryArgs(
            store=store, host_key=delivery.host_key, payload=database.sealed_payload)))

    console = "open the droplet's Recovery Console in the DigitalOcean control panel"
    readiness = Readiness(name, ReadinessArgs(
        address=host.public_ip, host_id=host.id, domain=settings.domain,
        release_id=release.manifest.id, health_path=settings.app.health_path, **host_tls.readiness(settings),
        logs=host.public_ip.apply(lambda ip: common.logs_hint(settings, ip, console)), after=gate))

    address = DoPublicAddress(name, DoPublicAddressArgs(host_id=host.id, region=region, after=[readiness]))
    host_tls.do_dns(settings, address.ip)
    # Day-2 access (launchpad ssh/run/logs) when adminCidrs opens SSH: the host key the droplet
    # recorded at boot, checked under the enrollment MAC, pinned by the command.
    access = DoAccess(name, DoAccessArgs(enrollment=store.enrollment, host_id=host.id)) if settings.ssh_open else None
    common.export_outputs(settings, address.ip, database.private_host if database is not None else None,
                          access=access.access_output(ADMIN_USER, [("web", address.ip)]) if access is not None else None)
