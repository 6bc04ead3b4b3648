"""Day-2 access to the droplet: SSH from `adminCidrs` with the host key pinned, not trusted on first use.

Creates:
- command.local.Command `{name}-host-key`, run where `pulumi up` runs, once per droplet:
  `python -m launchpad.ops.host_key` reads the SSH host key the droplet recorded at its
  first boot and announced, in the stack's enrollment bucket, under an HMAC keyed by the
  stack's enrollment value that also binds the droplet id (the same announcement the release
  delivery enrolls, components/digitalocean/enroll_bucket.py), and checks it. No private key
  travels (sshd keeps the key it made on the droplet), and no connection goes into the droplet.

`host_public_key` goes into the `access` output, from which `launchpad ssh/run/logs/...`
writes the only known_hosts line it trusts (launchpad/ops/targets.py, SshTarget). The
firewall rule admitting port 22 from `adminCidrs` only is DoNetwork's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.digitalocean.enroll_bucket import DoEnrollBucket
from launchpad.ops import access as access_record


@dataclass
class DoAccessArgs:
    enrollment: DoEnrollBucket
    """The stack's enrollment bucket (DoReleaseStore.enrollment), where the droplet announces its keys."""
    host_id: pulumi.Input[str]
    """The droplet's id; a new droplet records a new key: the check runs again."""


class DoAccess(pulumi.ComponentResource):
    """The droplet's SSH host key, as recorded at boot and verified with the enrollment value."""

    host_public_key: pulumi.Output[str]
    """`ssh-ed25519 AAAA...`: public, exported in the `access` output."""

    def __init__(self, name: str, args: DoAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:DoAccess", name, None, opts)
        self.host_public_key = args.enrollment.enroll(f"{name}-host-key", args.host_id, self, module="launchpad.ops.host_key")
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
