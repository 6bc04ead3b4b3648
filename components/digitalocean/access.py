"""Day-2 access to the droplet: SSH from `adminCidrs` with the host key pinned, not trusted on first use.

Creates:
- command.local.Command `{name}-host-key`, run where `pulumi up` runs, once per droplet:
  `python -m launchpad.ops.host_key` fetches the SSH host key the droplet recorded at its
  first boot and announced with an HMAC keyed by the stack's enrollment value (the same
  announcement the release delivery enrolls), and checks that MAC. No private key travels:
  sshd keeps the key it made on the droplet.

`host_public_key` goes into the `access` output, from which `launchpad ssh/run/logs/...`
writes the only known_hosts line it trusts (launchpad/ops/targets.py, SshTarget). The
firewall rule admitting port 22 from `adminCidrs` only is DoNetwork's.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.readiness import python_command
from launchpad.ops import access as access_record
from launchpad.release.enroll import ENROLL_ENV
from launchpad.settings import PROJECT_ROOT


def host_key_command(address: str, domain: str | None, timeout: int = 900) -> str:
    argv = [python_command(), "-m", "launchpad.ops.host_key", f"http://{address}", "--timeout", str(timeout)]
    if domain:
        argv += ["--host", domain]
    return shlex.join(argv)


@dataclass
class DoAccessArgs:
    address: pulumi.Input[str]
    """The droplet's own public address (it answers there before the reserved IP moves)."""
    host_id: pulumi.Input[str]
    """A new droplet records a new key: the check runs again."""
    enroll_hex: pulumi.Input[str]
    """The stack's enrollment value (components/digitalocean/release_store.py), a secret."""
    domain: str | None = None


class DoAccess(pulumi.ComponentResource):
    """The droplet's SSH host key, as recorded at boot and verified with the enrollment value."""

    host_public_key: pulumi.Output[str]
    """`ssh-ed25519 AAAA...`: public, exported in the `access` output."""

    def __init__(self, name: str, args: DoAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:DoAccess", name, None, opts)
        check = command.local.Command(
            f"{name}-host-key",
            create=pulumi.Output.from_input(args.address).apply(lambda a: host_key_command(a, args.domain)),
            dir=str(PROJECT_ROOT), environment={ENROLL_ENV: pulumi.Output.secret(args.enroll_hex)},
            triggers=[args.host_id], opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stderr"]))
        self.host_public_key = check.stdout.apply(lambda out: (out or "").strip())
        self.register_outputs({"host_public_key": self.host_public_key})

    def access_output(self, admin_user: str, hosts: list[tuple[str, pulumi.Input[str]]]) -> pulumi.Output[dict]:
        """The stack's `access` output (launchpad/ops/access.py): hosts as (name, address sshd answers on)."""
        names = [name for name, _ in hosts]
        return pulumi.Output.all(self.host_public_key, *(address for _, address in hosts)).apply(lambda v: access_record.ssh(
            admin_user, str(v[0]), [(n, str(v[1 + i])) for i, n in enumerate(names)]))


def access_output_each(admin_user: str, hosts: list[tuple[str, pulumi.Input[str], DoAccess]]) -> pulumi.Output[dict]:
    """The `access` output for several droplets, each pinned to its own recorded key:
    hosts as (name, address sshd answers on, that droplet's DoAccess)."""
    names = [name for name, _, _ in hosts]
    flat = [value for _, address, access in hosts for value in (address, access.host_public_key)]
    return pulumi.Output.all(*flat).apply(lambda v: access_record.ssh_each(
        admin_user, [(n, str(v[2 * i]), str(v[2 * i + 1])) for i, n in enumerate(names)]))
