"""The `access` stack output: how the `launchpad` command reaches a stack's hosts.

One shape for every cloud, written by the stacks (stacks/aws.py, stacks/digitalocean.py
through components/*/access.py) and read by the command, so both sides share this
one definition. Plain values only: no secrets, it is printed by `pulumi stack output`.

    {"transport": "eice", "user": "ops", "region": "eu-west-1",
     "hosts": [{"name": "web", "instance_id": "i-0abc...", "address": "10.0.0.10"}]}
    {"transport": "ssh", "user": "ops", "host_key": "ssh-ed25519 AAAA...",
     "hosts": [{"name": "web", "address": "198.51.100.20"}]}
    (several droplets: each host carries its own "host_key")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from launchpad.ops.remote import OpsError

TRANSPORTS = ("eice", "ssh", "nsenter")
OUTPUT = "access"


@dataclass(frozen=True)
class HostRef:
    name: str
    address: str
    """Where the host answers: the public address (DigitalOcean), the private one (AWS), the machine's (local)."""
    instance_id: str | None = None
    host_key: str | None = None
    """This host's own pinned key, when hosts differ (several droplets); else Access.host_key."""


@dataclass(frozen=True)
class Access:
    transport: str
    user: str
    hosts: tuple[HostRef, ...]
    region: str | None = None
    host_key: str | None = None
    """The pinned host key's public line (`ssh-ed25519 AAAA...`), for transports that pin it from the stack."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_output(self) -> dict[str, Any]:
        out: dict[str, Any] = {"transport": self.transport, "user": self.user,
                               "hosts": [{k: v for k, v in vars(h).items() if v is not None} for h in self.hosts]}
        if self.region is not None:
            out["region"] = self.region
        if self.host_key is not None:
            out["host_key"] = self.host_key
        return out


def eice(user: str, region: str, hosts: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """The AWS record: hosts as (name, instance id, private address)."""
    return Access("eice", user, tuple(HostRef(n, a, i) for n, i, a in hosts), region=region).to_output()


def ssh(user: str, host_key: str, hosts: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The DigitalOcean record: hosts as (name, address sshd listens on), the host key pinned."""
    return Access("ssh", user, tuple(HostRef(n, a) for n, a in hosts), host_key=host_key.strip()).to_output()


def ssh_each(user: str, hosts: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """Several droplets, each with its own pinned key: hosts as (name, address, host key)."""
    return Access("ssh", user, tuple(HostRef(n, a, host_key=k.strip()) for n, a, k in hosts)).to_output()


def parse(stack: str, outputs: Mapping[str, Any]) -> Access:
    """The record from `pulumi stack output --json`; errors say what is missing and how to get it."""
    raw = outputs.get(OUTPUT)
    if raw is None:
        have = ", ".join(sorted(outputs)) or "none"
        raise OpsError(f"stack {stack} has no '{OUTPUT}' output (it has: {have}): run `pulumi up --stack {stack}` "
                       "with this version of Launchpad, which exports it")
    if not isinstance(raw, Mapping):
        raise OpsError(f"stack {stack}: output '{OUTPUT}' is {raw!r}, expected an object")
    transport = str(raw.get("transport", ""))
    if transport not in TRANSPORTS:
        raise OpsError(f"stack {stack}: {OUTPUT}.transport {transport!r} is not known; valid: {', '.join(TRANSPORTS)}")
    hosts = []
    for i, h in enumerate(raw.get("hosts") or []):
        if not isinstance(h, Mapping) or not h.get("address"):
            raise OpsError(f"stack {stack}: {OUTPUT}.hosts[{i}] is {h!r}, expected {{name, address[, instance_id]}}")
        hosts.append(HostRef(str(h.get("name", f"host-{i}")), str(h["address"]),
                             str(h["instance_id"]) if h.get("instance_id") else None,
                             str(h["host_key"]) if h.get("host_key") else None))
    if not hosts:
        raise OpsError(f"stack {stack}: {OUTPUT}.hosts is empty: the stack has no host (was it destroyed?)")
    if transport == "eice":
        if not raw.get("region"):
            raise OpsError(f"stack {stack}: {OUTPUT}.region is missing; EC2 Instance Connect needs the region")
        missing = [h.name for h in hosts if not h.instance_id]
        if missing:
            raise OpsError(f"stack {stack}: {OUTPUT}.hosts {missing} have no instance_id; EC2 Instance Connect needs it")
    unpinned = [h.name for h in hosts if not str(h.host_key or raw.get("host_key") or "").startswith("ssh-")]
    if transport == "ssh" and unpinned:
        raise OpsError(f"stack {stack}: {OUTPUT}.host_key is missing for {', '.join(unpinned)}, so the host cannot be verified; "
                       f"run `pulumi up --stack {stack}`, which records it from the droplet")
    return Access(transport, str(raw.get("user") or "ops"), tuple(hosts), region=raw.get("region"),
                  host_key=raw.get("host_key"))
