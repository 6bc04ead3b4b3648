"""The `local` provider: the stack's machines on this Linux machine (systemd-nspawn).

Order of a deploy: (database password) -> host -> release -> readiness, then the same
outputs as the clouds (stacks/common.py). The password comes from pulumi-random and reaches
the database machine as a root-only file; the host boots the user-data rendered here, once,
exactly what a cloud host of the stack would get. The app ships as a release
(components/local/release.py: `launchpad deploy` into the stack's store folder), so an app
change rolls a release on the running machine and never replaces it; readiness waits for
the release id. There is no stable public address to move: the machine's own address is the
stack's address.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from components.host import HostArgs
from components.local.host import LocalHost, LocalPlacement
from components.local.release import LocalRelease, LocalReleaseArgs
from components.readiness import Readiness, ReadinessArgs
from launchpad import local_plan
from launchpad.release.publish import settings_json
from launchpad.render.bootstrap import render_user_data
from launchpad.settings import Settings
from stacks import common, releases

NAME = "web"
"""The host's resource name (kept from before the hosts shared one shape, so existing stacks keep their machine)."""


def build(settings: Settings) -> None:
    password = None
    if settings.database.enabled:
        password = random.RandomPassword(
            "database-password", length=32, special=False,
            opts=pulumi.ResourceOptions(protect=settings.production),
        ).result

    host = LocalHost(NAME, HostArgs(
        size=settings.resolved_size, user_data=render_user_data(settings),
        placement=LocalPlacement(plan=local_plan.plan_for(settings), database_password=password)))

    release = releases.build(settings)
    rolled = LocalRelease(NAME, LocalReleaseArgs(
        stack=settings.stack, settings_json=settings_json(settings), release_id=release.manifest.id, host_id=host.id,
        secrets={name: pulumi.Output.secret(value) for name, value in release.secrets.items()}, after=[host]))

    console = f"sudo launchpad local logs --stack {settings.stack}"
    Readiness(NAME, ReadinessArgs(
        address=host.public_ip, host_id=host.id, domain=settings.domain,
        release_id=release.manifest.id, health_path=settings.app.health_path,
        logs=host.public_ip.apply(lambda ip: common.logs_hint(settings, ip, console)), after=[host, rolled]))

    # More than one host: web machines behind the local balancer; public_ip is the balancer's address.
    common.export_outputs(settings, host.public_ip, host.database_host if settings.database.enabled else None,
                          hosts=host.hosts if settings.balanced else None)
