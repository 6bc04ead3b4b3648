"""The `local` provider: the stack's machines on this Linux machine (systemd-nspawn).

Composes: a database password (pulumi-random) when the stack has a database, and
a LocalHost that boots the same rendered user-data a cloud host would get.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from launchpad.render.bootstrap import render_user_data
from components.local_host import LocalHost, LocalHostArgs
from launchpad.settings import Settings
from stacks import common


def build(settings: Settings) -> None:
    password = None
    if settings.database.enabled:
        password = random.RandomPassword(
            "database-password", length=32, special=False,
            opts=pulumi.ResourceOptions(protect=settings.production),
        ).result
    host = LocalHost("web", LocalHostArgs(
        stack=settings.stack,
        settings_json=settings.model_dump_json(by_alias=True, exclude={"stack"}),
        user_data=render_user_data(settings),
        database_password=password,
    ))
    common.export_outputs(settings, host.public_ip, host.database_host if settings.database.enabled else None)
