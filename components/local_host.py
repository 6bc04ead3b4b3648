"""A stack's host on this Linux machine (systemd-nspawn), for `pulumi up` with no cloud account.

Creates:
- `{name}-machine` (pulumi_command.local.Command): `launchpad local up` on create, which
  boots the web machine (and the PostgreSQL machine when the stack has a database) and
  returns only once /healthz answers through Nginx; `launchpad local down` on delete.

The machine is replaced whenever the rendered user-data changes, as a cloud host is.
Two machines of one stack cannot coexist (they share a name and address), so unlike
the cloud hosts the old one goes first (delete-before-replace).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from launchpad.local.stack import PASSWORD_ENV, SETTINGS_ENV
from launchpad.settings import PROJECT_ROOT


@dataclass
class LocalHostArgs:
    stack: str
    settings_json: str
    """The validated settings (Settings.model_dump_json), so the command boots exactly what the program validated."""
    user_data: str
    """Rendered #cloud-config (components/bootstrap.py); a change replaces the machine."""
    database_password: pulumi.Input[str] | None = None
    """From pulumi-random; reaches the machines as root-only files, never user-data."""


class LocalHost(pulumi.ComponentResource):
    """The stack's local machine(s), healthy when created."""

    public_ip: pulumi.Output[str]
    database_host: pulumi.Output[str | None]

    def __init__(self, name: str, args: LocalHostArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchpad:hosts:LocalHost", name, None, opts)
        cli = f"{sys.executable} -m launchpad.cli local"
        environment: dict[str, pulumi.Input[str]] = {SETTINGS_ENV: args.settings_json}
        if args.database_password is not None:
            environment[PASSWORD_ENV] = pulumi.Output.secret(args.database_password)
        self.machine = command.local.Command(
            f"{name}-machine",
            create=f"{cli} up --stack {args.stack} --json",
            delete=f"{cli} down --stack {args.stack}",
            dir=str(PROJECT_ROOT),
            environment=environment,
            triggers=[hashlib.sha256(args.user_data.encode()).hexdigest()],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True,
                                        additional_secret_outputs=["stderr"]),
        )
        status = self.machine.stdout.apply(json.loads)
        self.public_ip = status.apply(lambda s: str(s["address"]))
        self.database_host = status.apply(lambda s: s.get("database_address"))
        self.register_outputs({"public_ip": self.public_ip, "database_host": self.database_host})
