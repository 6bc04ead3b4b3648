"""The SSH keys a droplet is created with (the admin's: `launchpad ssh` and day-2 work only).

Creates:
- digitalocean.SshKey for each of the admin's public keys (`sshKeys`) that the account does
  not hold yet: a droplet created with keys gets no emailed root password (CKV_DIO_2); the
  cloud-config installs the same keys for the admin user, the only one sshd admits.
  DigitalOcean refuses a second copy of a key (422), so the account's keys are looked up
  first (`get_ssh_keys`, an invoke, also at preview) and a key already there, added by hand
  or by another stack, is used by its fingerprint as it is. A key this stack registered
  (named `<project>-<stack>-admin-<fingerprint>`, or Pulumi's older auto-name) stays declared,
  so it is neither deleted nor registered twice on the next update.
No deploy key: nothing in a deploy logs in to the droplet (the database credentials are sealed
to its own key: components/digitalocean/database_delivery.py), so no private key is kept in state.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_digitalocean as digitalocean


def fingerprint(public_key: str) -> str | None:
    """DigitalOcean's fingerprint of an OpenSSH public key: MD5 of the key blob, as colon-separated hex."""
    parts = public_key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (IndexError, binascii.Error):
        return None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _blob(public_key: str) -> str:
    parts = public_key.split()
    return parts[1] if len(parts) > 1 else public_key.strip()


def registered_name(project: str, stack: str, public_key: str) -> str:
    """The name this stack registers a key under; how it knows the key as its own on the next run."""
    fp = fingerprint(public_key) or hashlib.sha256(_blob(public_key).encode()).hexdigest()
    return f"{project}-{stack}-admin-{fp.replace(':', '')[:12]}"


def _ours(found_name: str, logical: str, own_name: str) -> bool:
    # Pulumi's auto-name (before keys had a set name) is the logical name plus 7 hex digits.
    return found_name == own_name or re.fullmatch(re.escape(logical) + r"-[0-9a-f]{7}", found_name) is not None


@dataclass
class DoSshKeysArgs:
    public_keys: Sequence[str] = ()
    """OpenSSH public keys ('ssh-ed25519 AAAA... comment')."""


class DoSshKeys(pulumi.ComponentResource):
    """Registered SSH keys: fingerprints for the droplet."""

    fingerprints: list[pulumi.Output[str]]
    reused: list[str]
    """Names of the account's keys used as they are (registered by hand or by another stack)."""

    def __init__(self, name: str, args: DoSshKeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:DoSshKeys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = digitalocean.get_ssh_keys(opts=pulumi.InvokeOptions(parent=self)).ssh_keys if args.public_keys else []
        self.fingerprints = []
        self.reused = []
        seen: set[str] = set()
        for i, key in enumerate(args.public_keys):
            key = key.strip()
            if _blob(key) in seen:  # listed twice: one registration (a second would be a 422)
                continue
            seen.add(_blob(key))
            logical, own_name = f"{name}-admin-{i}", registered_name(pulumi.get_project(), name, key)
            found = _find(account, key)
            if found is not None and not _ours(found.name, logical, own_name):
                pulumi.log.info(f"SSH key {found.fingerprint} is already in the account as {found.name!r}: used as it is",
                                resource=self)
                self.fingerprints.append(pulumi.Output.from_input(found.fingerprint))
                self.reused.append(found.name)
                continue
            registered = digitalocean.SshKey(logical, name=own_name, public_key=key, opts=child)
            self.fingerprints.append(registered.fingerprint)
        self.register_outputs({"fingerprints": self.fingerprints})


def _find(account: Sequence[Any], public_key: str) -> Any | None:
    """The account's key with this key's fingerprint (or, if it cannot be computed, the same key blob)."""
    fp, blob = fingerprint(public_key), _blob(public_key)
    return next((k for k in account if (fp is not None and k.fingerprint == fp) or _blob(k.public_key) == blob), None)
