"""The droplet's SSH host key, recorded at boot and checked with the stack's enrollment value.

DigitalOcean has no instance identity and user-data is no place for a private key. So the
droplet keeps the host key sshd made at first boot, and its release agent announces the
public half in `/.well-known/launchpad/host-key` (the document the release enrollment
already serves) with `ssh_mac`, an HMAC keyed by the stack's enrollment value, which only
the stack and that droplet know. `pulumi up` runs this module against the droplet's own
address (components/digitalocean/access.py), so the `access` output carries a key that a
machine on the path could not have swapped; `launchpad ssh/run/logs` then trust only it.

    LAUNCHPAD_ENROLL=<hex> python -m launchpad.ops.host_key http://203.0.113.7 [--host example.com]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Sequence

from launchpad.release.enroll import command, poll

SSH_LABEL = b"launchpad-ssh-host-key:"
"""Keeps this MAC apart from the sealing key's (same enrollment value, another message)."""


class HostKeyError(ValueError):
    """A host key announcement that does not check out."""


class HostKeyMismatch(HostKeyError):
    """The MAC is wrong: another machine, or a swapped key. Never retried."""


def ssh_host_key_mac(enroll_hex: str, line: str) -> str:
    return hmac.new(bytes.fromhex(enroll_hex), SSH_LABEL + line.encode(), hashlib.sha256).hexdigest()


def verify_ssh_host_key(document: str | bytes, enroll_hex: str) -> str:
    """`ssh-ed25519 AAAA...` from the droplet's announcement, once its MAC checks out."""
    try:
        data = json.loads(document)
        line, mac = str(data["ssh_host_key"]), str(data["ssh_mac"])
    except (ValueError, KeyError, TypeError) as err:
        raise HostKeyError(f"host key document has no ssh_host_key/ssh_mac (yet): {err}") from None
    parts = line.split()
    if len(parts) != 2 or parts[0] != "ssh-ed25519":
        raise HostKeyError(f"ssh_host_key {line[:40]!r} is not an ssh-ed25519 public key line")
    if not hmac.compare_digest(mac, ssh_host_key_mac(enroll_hex, line)):
        raise HostKeyMismatch("ssh_mac does not match this stack's enrollment value: not our droplet, "
                           "or something on the path replaced the key")
    return line


def wait_for_ssh_host_key(base_url: str, host: str | None, enroll_hex: str, timeout: float, interval: float = 5.0) -> str:
    # announced before sshd had a key: wait for the next one; a wrong MAC is refused at once
    return poll(base_url, host, lambda body: verify_ssh_host_key(body, enroll_hex), timeout, interval,
                what="SSH host key", retry_on=(HostKeyError,), refuse=(HostKeyMismatch,))


def main(argv: Sequence[str] | None = None) -> int:
    return command(argv, prog="python -m launchpad.ops.host_key", doc=__doc__ or "", label="host key",
                   wait=wait_for_ssh_host_key, errors=(HostKeyError,))


if __name__ == "__main__":
    sys.exit(main())
