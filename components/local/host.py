"""The app host on this Linux machine (systemd-nspawn), for `pulumi up` with no cloud account.

Creates:
- `{name}-machine` (pulumi_command.local.Command): on create, `launchpad local up --plan -`
  with the rendered user-data and the stack's LocalPlan on standard input
  (launchpad/local_plan.py) and the database password, a secret, in its environment. It
  boots the web machine (and the PostgreSQL machine when the plan has a database) and
  returns once cloud-init is done (the bootstrap only: the app arrives as a release,
  components/local/release.py). On delete, `launchpad local down`.

The machine is replaced whenever the user-data changes, as a cloud host is. Two
machines of one stack cannot coexist (they share a name and address), so unlike the
cloud hosts the old one goes first (delete-before-replace).

Nothing of the nspawn runtime is imported here: the command runs it in a process of
its own, so `pulumi up` loads no more than for a cloud host.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.host import HostArgs
from components.readiness import python_command
from launchpad import local_plan
from launchpad.providers import LOCAL
from launchpad.settings import PROJECT_ROOT


@dataclass
class LocalPlacement:
    plan: local_plan.LocalPlan
    """The stack's machines besides the web machine's user-data: names, app unit, domain, database."""
    database_password: pulumi.Input[str] | None = None
    """From pulumi-random; reaches the database machine as a root-only file, never user-data.
    Required when the plan has a database."""


def _digest(user_data: str) -> str:
    return hashlib.sha256(user_data.encode()).hexdigest()


class LocalHost(pulumi.ComponentResource):
    """The stack's local machine(s), healthy when created."""

    id: pulumi.Output[str]
    public_ip: pulumi.Output[str]
    """The web machine's address on its host-local link."""
    database_host: pulumi.Output[str | None]
    """The database machine's address, when the plan has a database."""
    hosts: pulumi.Output[list]
    """With more than one host: each web machine's name and address (public_ip is then the balancer's)."""
    machine: command.local.Command

    def __init__(self, name: str, args: HostArgs[LocalPlacement], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:hosts:LocalHost", name, None, opts)
        place = args.placement
        if args.size != LOCAL.size.default:
            raise ValueError(f"{name}: size is {args.size!r}; the local provider has one size, {LOCAL.size.default!r}")
        if place.plan.database is not None and place.database_password is None:
            raise ValueError(f"{name}: the plan has a database but LocalPlacement.database_password is None; "
                             "pass the pulumi-random password")
        user_data = pulumi.Output.from_input(args.user_data)
        environment: dict[str, pulumi.Input[str]] = {}
        if place.database_password is not None:
            environment[local_plan.PASSWORD_ENV] = pulumi.Output.secret(place.database_password)
        python = python_command()
        self.machine = command.local.Command(
            f"{name}-machine",
            create=local_plan.up_command(python, place.plan.stack),
            delete=local_plan.down_command(python, place.plan.stack),
            stdin=user_data.apply(lambda text: local_plan.encode(text, place.plan)),
            dir=str(PROJECT_ROOT),
            environment=environment or None,
            # A new user-data is a new machine, as on a cloud.
            triggers=[user_data.apply(_digest)],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True,
                                        additional_secret_outputs=["stderr"]),
        )
        status = self.machine.stdout.apply(json.loads)
        self.id = self.machine.id
        self.public_ip = status.apply(lambda s: str(s["address"]))
        self.database_host = status.apply(lambda s: s.get("database_address"))
        self.hosts = status.apply(lambda s: [{"name": h["name"], "address": h["address"]} for h in s.get("hosts") or []])
        self.register_outputs({"id": self.id, "public_ip": self.public_ip, "database_host": self.database_host})
