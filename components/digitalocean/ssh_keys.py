"""The SSH keys a droplet is created with, and the stack's deploy key.

Creates:
- digitalocean.SshKey for each of the admin's public keys (`sshKeys`): a droplet created
  with keys gets no emailed root password (CKV_DIO_2); the cloud-config installs the
  same keys for the admin user, the only one sshd admits;
- with `deploy_key`: tls.PrivateKey (ED25519), the per-stack key `pulumi up` uses to
  deliver the database credentials over SSH (kept, encrypted, in the stack's state),
  registered as a digitalocean.SshKey too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_tls as tls


@dataclass
class DoSshKeysArgs:
    public_keys: Sequence[str] = ()
    """OpenSSH public keys ('ssh-ed25519 AAAA... comment')."""
    deploy_key: bool = False
    """Also create the stack's own deploy key."""


class DoSshKeys(pulumi.ComponentResource):
    """Registered SSH keys (fingerprints for the droplet) and, if asked, a deploy key pair."""

    fingerprints: list[pulumi.Output[str]]
    deploy_public_key: pulumi.Output[str] | None
    """OpenSSH public key line; None without a deploy key."""
    deploy_private_key: pulumi.Output[str] | None
    """OpenSSH private key (a Pulumi secret); None without a deploy key."""

    def __init__(self, name: str, args: DoSshKeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:DoSshKeys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keys = [digitalocean.SshKey(f"{name}-admin-{i}", public_key=key.strip(), opts=child)
                for i, key in enumerate(args.public_keys)]
        self.deploy_public_key = None
        self.deploy_private_key = None
        if args.deploy_key:
            pair = tls.PrivateKey(f"{name}-deploy", algorithm="ED25519", opts=child)
            keys.append(digitalocean.SshKey(f"{name}-deploy", public_key=pair.public_key_openssh, opts=child))
            self.deploy_public_key = pair.public_key_openssh.apply(str.strip)
            self.deploy_private_key = pulumi.Output.secret(pair.private_key_openssh)
        self.fingerprints = [k.fingerprint for k in keys]
        self.register_outputs({"fingerprints": self.fingerprints, "deploy_public_key": self.deploy_public_key})
