"""Delivers the app's secret environment to a host over SSH, from where `pulumi up` runs.

For clouds without an instance role (DigitalOcean): the secrets never enter user-data.

Creates:
- command.remote.Command that connects as the admin user with the stack's deploy key,
  waits for cloud-init to finish, writes the env file (root, 0600) from stdin, so the
  values never appear on a command line, and restarts the app unit. It runs again when
  the host is replaced or the values change. Its output is not logged.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command

from launchpad.render.bootstrap import ADMIN_USER, SECRETS_ENV

DIAL_ERROR_LIMIT = 60
"""Tries to reach sshd while the host boots (about 15 s apart at most)."""


def env_file_text(values: Mapping[str, str]) -> str:
    for key, value in values.items():
        if "\n" in value or "\n" in key:
            raise ValueError(f"environment value for {key} holds a newline; systemd env files take one line per key")
    return "".join(f"{key}={value}\n" for key, value in sorted(values.items()))


def install_script(app_unit: str, path: str = SECRETS_ENV) -> str:
    """The remote shell command: stdin becomes `path`, then the app restarts with it."""
    folder = path.rsplit("/", 1)[0]
    return " && ".join([
        # 2 = finished with recoverable errors (newer cloud-init); the health check judges the result.
        "{ cloud-init status --wait >/dev/null || [ $? -eq 2 ]; }",
        f"sudo install -d -o root -g root -m 0700 {shlex.quote(folder)}",
        f"sudo sh -c {shlex.quote(f'umask 077 && cat > {shlex.quote(path)}.new && mv {shlex.quote(path)}.new {shlex.quote(path)}')}",
        f"sudo systemctl restart {shlex.quote(app_unit)}",
    ])


@dataclass
class RemoteEnvArgs:
    host: pulumi.Input[str]
    """Address to reach the host's sshd on (its own public IP)."""
    private_key: pulumi.Input[str]
    """The deploy key (OpenSSH private key), authorized for the admin user by the cloud-config."""
    values: pulumi.Input[Mapping[str, str]]
    """The environment, e.g. {"DATABASE_URL": ...}; treated as secret."""
    app_unit: str
    """The systemd service to restart, e.g. `rocket.service`."""
    triggers: Sequence[pulumi.Input[str]] = field(default_factory=list)
    """Values whose change re-delivers (the host id)."""
    after: Sequence[pulumi.Resource] = field(default_factory=list)
    """What must exist first (the database's firewall); the command itself waits on these."""


class RemoteEnv(pulumi.ComponentResource):
    """Writes SECRETS_ENV on the host over SSH and restarts the app."""

    command: command.remote.Command

    def __init__(self, name: str, args: RemoteEnvArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:RemoteEnv", name, None, opts)
        self.command = command.remote.Command(
            f"{name}-install",
            connection=command.remote.ConnectionArgs(
                host=args.host, user=ADMIN_USER, private_key=pulumi.Output.secret(args.private_key),
                dial_error_limit=DIAL_ERROR_LIMIT),
            create=install_script(args.app_unit),
            stdin=pulumi.Output.from_input(args.values).apply(env_file_text).apply(pulumi.Output.secret),
            triggers=list(args.triggers),
            logging=command.remote.Logging.NONE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after),
                                        additional_secret_outputs=["stdout", "stderr"]))
        self.register_outputs({})
