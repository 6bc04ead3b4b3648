"""The DigitalOcean stack: a VPC, a droplet behind a reserved IP, optionally Managed PostgreSQL.

Order of a deploy: network, SSH keys -> (database) -> droplet -> (credentials over SSH)
-> readiness -> reserved IP. DigitalOcean has no instance role, so the database
credentials travel over SSH from where `pulumi up` runs, with a per-stack deploy key:
that needs `adminCidrs` to include the deployer's address (settings enforce it).
"""

from __future__ import annotations

import pulumi

from launchpad.render.bootstrap import render_user_data
from components.digitalocean.database import DoDatabase, DoDatabaseArgs
from components.digitalocean.network import DoNetwork, DoNetworkArgs
from components.digitalocean.public_address import DoPublicAddress, DoPublicAddressArgs
from components.digitalocean.ssh_keys import DoSshKeys, DoSshKeysArgs
from components.digitalocean.droplet_host import DropletHost, DropletPlacement
from components.host import HostArgs
from components.readiness import Readiness, ReadinessArgs
from components.digitalocean.remote_env import RemoteEnv, RemoteEnvArgs
from launchpad.database_url import database_url
from launchpad.settings import Settings
from stacks import common


def build(settings: Settings) -> None:
    name = settings.stack
    region = settings.resolved_region
    with_db = settings.database.enabled
    host_tag = common.do_host_tag(settings)

    network = DoNetwork(name, DoNetworkArgs(region=region, host_tag=host_tag, admin_cidrs=settings.admin_cidrs))
    keys = DoSshKeys(name, DoSshKeysArgs(public_keys=settings.ssh_keys, deploy_key=with_db))

    database: DoDatabase | None = None
    if with_db:
        db = settings.database
        database = DoDatabase(name, DoDatabaseArgs(
            region=region, vpc_id=network.vpc_id, client_tag=network.host_tag, version=db.version,
            size=settings.database_size, name=db.name, production=settings.production,
            tags=[t for t in common.do_tags(settings) if t != host_tag]))

    # No DatabaseLink here: the DO host learns its database only over SSH (below), so
    # user-data carries nothing of it and the droplet neither waits for nor is
    # replaced by the cluster. The deploy key joins the admin's keys for that login.
    if keys.deploy_public_key is not None:
        user_data = keys.deploy_public_key.apply(
            lambda key: render_user_data(settings.model_copy(update={"ssh_keys": [*settings.ssh_keys, key]}), None))
    else:
        user_data = pulumi.Output.from_input(render_user_data(settings, None))

    host = DropletHost(name, HostArgs(
        size=settings.resolved_size, user_data=user_data,
        placement=DropletPlacement(region=region, vpc_id=network.vpc_id,
                                   tags=[network.host_tag, *(t for t in common.do_tags(settings) if t != host_tag)],
                                   ssh_key_fingerprints=keys.fingerprints)))

    gate: list[pulumi.Resource] = [host]
    if database is not None:
        assert keys.deploy_private_key is not None
        env = RemoteEnv(name, RemoteEnvArgs(
            host=host.public_ip, private_key=keys.deploy_private_key,
            values=pulumi.Output.all(database.user, database.password, database.private_host, database.port,
                                     database.database).apply(lambda v: {"DATABASE_URL": database_url(v[0], v[1], v[2], v[3], v[4], sslmode="require")}),
            app_unit=f"{settings.app.unix_name}.service", triggers=[host.id], after=[database]))
        gate.append(env)

    console = "open the droplet's Recovery Console in the DigitalOcean control panel"
    readiness = Readiness(name, ReadinessArgs(
        address=host.public_ip, host_id=host.id, domain=settings.domain, database=with_db,
        logs=host.public_ip.apply(lambda ip: common.logs_hint(settings, ip, console)), after=gate))

    address = DoPublicAddress(name, DoPublicAddressArgs(host_id=host.id, region=region, after=[readiness]))
    common.export_outputs(settings, address.ip, database.private_host if database is not None else None)
