"""Day-2 access to the droplet: SSH from `adminCidrs` with the host key pinned by the stack.

Creates:
- tls.PrivateKey (ED25519), the droplet's SSH host key, kept (encrypted) in the stack's
  state: it outlives droplet replacements, so the pin stays valid through them.

`user_data()` hands the key to cloud-init (`ssh_keys`, launchpad/render/access.py) and
marks the user-data secret; `host_public_key` goes into the `access` output, from which
`launchpad ssh/run/logs/...` writes the only known_hosts line it trusts
(launchpad/ops/targets.py, SshTarget). The firewall rule admitting port 22 from
`adminCidrs` only is DoNetwork's.
"""

from __future__ import annotations

import pulumi
import pulumi_tls as tls

from launchpad.ops import access as access_record
from launchpad.render.access import with_host_key


class DoAccess(pulumi.ComponentResource):
    """The droplet's pinned SSH host key."""

    host_public_key: pulumi.Output[str]
    """`ssh-ed25519 AAAA...`: public, exported in the `access` output."""
    host_private_key: pulumi.Output[str]
    """OpenSSH private key, a Pulumi secret."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:DoAccess", name, None, opts)
        key = tls.PrivateKey(f"{name}-host-key", algorithm="ED25519", opts=pulumi.ResourceOptions(parent=self))
        self.host_public_key = key.public_key_openssh.apply(lambda text: " ".join(text.split()[:2]))
        self.host_private_key = pulumi.Output.secret(key.private_key_openssh)
        self.register_outputs({"host_public_key": self.host_public_key})

    def user_data(self, user_data: pulumi.Input[str]) -> pulumi.Output[str]:
        """The cloud-config with the host key in cloud-init's `ssh_keys` (a secret: it holds the private key)."""
        return pulumi.Output.secret(pulumi.Output.all(user_data, self.host_private_key, self.host_public_key).apply(
            lambda v: with_host_key(v[0], v[1], v[2])))

    def access_output(self, admin_user: str, hosts: list[tuple[str, pulumi.Input[str]]]) -> pulumi.Output[dict]:
        """The stack's `access` output (launchpad/ops/access.py): hosts as (name, address sshd answers on)."""
        names = [name for name, _ in hosts]
        return pulumi.Output.all(self.host_public_key, *(address for _, address in hosts)).apply(lambda v: access_record.ssh(
            admin_user, str(v[0]), [(n, str(v[1 + i])) for i, n in enumerate(names)]))
