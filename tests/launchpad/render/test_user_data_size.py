"""User-data stays well under each provider's limit, counted as the provider counts it (EC2:
after gzip). No provider's user-data carries the release agent (~44 KB as base64) or the app:
the bootstrap fetches the agent from the stack's store, pinned by its sha256.

The margins: every committed stack and every variant (TLS, several hosts behind a balancer,
SSH keys and admin ranges) leaves at least a third of the limit free; on local and DigitalOcean,
which count raw bytes, every stack without TLS leaves at least half. The table is printed
(`pytest -s`), so a change that eats into the margin shows by how much.
"""

from __future__ import annotations

from typing import Any

import pytest

from launchpad.render import bootstrap, release_host
from launchpad.settings import Settings, load_from_file, validate

KEYS = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7f0b1b2b3b4b5b6b7b8b9c0c1c2c3c4c5c6c7c8c9d0 ops@laptop",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7f0b1b2b3b4b5b6b7b8b9c0c1c2c3c4c5c6c7c8c9d1 dev@laptop"]
SSH = {"launchpad:adminCidrs": ["203.0.113.7/32", "198.51.100.0/24"], "launchpad:sshKeys": KEYS}
TLS = {"launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com"}
BALANCER_CIDRS = {"digitalocean": ("10.110.0.0/20",)}
"""DigitalOcean's balancer range comes from the stack's VPC; the others have a default."""

ANY = 2 / 3
"""Every stack: at least a third of the limit free."""
PLAIN = 1 / 2
"""On local and DigitalOcean (raw bytes), a stack without TLS: at least half free."""


def variants() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for provider in ("local", "digitalocean", "aws"):
        base: dict[str, Any] = {"launchpad:provider": provider}
        tls = {**TLS, **({"launchpad:acmeServer": "https://pebble.test:14000/dir"} if provider == "local" else {})}
        out += [(f"{provider}-plain", base), (f"{provider}-tls", {**base, **tls}), (f"{provider}-ssh", {**base, **SSH}),
                (f"{provider}-tls-ssh", {**base, **tls, **SSH}),
                (f"{provider}-balanced-ssh", {**base, "launchpad:hosts": 3, **SSH})]
        if provider != "local":  # the local balancer serves plain HTTP only
            out.append((f"{provider}-balanced-tls-ssh", {**base, "launchpad:hosts": 3, **TLS, **SSH,
                                                         "launchpad:dnsZone": "example.com"}))
    out.append(("aws-tls-db", {"launchpad:provider": "aws", **TLS, "launchpad:database": {"enabled": True, "version": "16"}}))
    return out


def committed(stack: str) -> Settings:
    return load_from_file(stack)


def measure(settings: Settings) -> tuple[int, int]:
    rule = settings.profile.user_data
    assert rule is not None
    text = bootstrap.render_user_data(settings, balancer_cidrs=BALANCER_CIDRS.get(settings.provider, ()))
    return rule.size(text), rule.limit


def ceiling(settings: Settings) -> float:
    rule = settings.profile.user_data
    assert rule is not None
    return PLAIN if not settings.tls and not rule.gzip else ANY


CASES = [(f"stack {s}", lambda s=s: committed(s)) for s in ("dev", "staging", "prod")] + \
        [(name, lambda raw=raw: validate(raw, "test")) for name, raw in variants()]


@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_user_data_leaves_the_margin(name: str, make) -> None:
    settings = make()
    size, limit = measure(settings)
    share = size / limit
    print(f"{name:32} {size:6} of {limit:6} bytes ({share:.0%}; ceiling {ceiling(settings):.0%})")
    assert share <= ceiling(settings), (
        f"{name}: user-data is {size} bytes, {share:.0%} of {limit}; the margin allows {ceiling(settings):.0%}")


@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_no_user_data_carries_the_agent(name: str, make) -> None:
    settings = make()
    files = bootstrap.host_files(settings, balancer_cidrs=BALANCER_CIDRS.get(settings.provider, ()))
    assert release_host.AGENT not in {f.path for f in files}
    assert not any(f.b64 for f in files)
    script = next(f.content for f in files if f.path == release_host.BOOTSTRAP)
    assert release_host.agent_sha256() in script  # fetched, then run only with this hash


def test_the_local_bootstrap_copies_the_agent_from_the_store_folder() -> None:
    files = {f.path: f.content for f in bootstrap.host_files(validate({}, "test"))}
    script = files[release_host.BOOTSTRAP]
    assert f"cp /var/lib/launchpad/store/agent/{release_host.agent_sha256()}.pyz " in script
    assert "boto3" not in script and "urllib" not in script
