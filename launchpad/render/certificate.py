"""Renders the host's certificate step (issue 12): what a host runs so that it holds a valid
certificate for the domain before it takes the address, and shares it with the stack's other hosts.

Pure functions of plain values, like every renderer here. The files:
- /usr/local/sbin/launchpad-certificate (files/certificate.sh.j2): the stack's stored certificate
  (`launchpad-agent certificate sync`, files/agent/launchpad_agent/certificate.py) or, failing
  that, certbot (DNS-01 through the stack's zone when `dnsZone` is set, else HTTP-01), then the
  HTTPS site; run by the bootstrap before the first release, retried by a timer, and daily;
- /etc/launchpad/certificate.json: the names, where nginx reads the certificate, and the store
  (no secrets: a file path, a secret's ARN, an object's URL);
- the DNS-01 helpers: the DigitalOcean credentials file's place, or (tests) the hook that sets
  TXT records through pebble-challtestsrv;
- certbot's deploy hook: a renewal on this host is installed, stored and served.

Stores, as the stacks fill them in (`store_spec` for the previews and the local target):
file (local: /var/lib/launchpad/stacks/<stack>/certificates/ on the host, bind-mounted read-write),
aws-secretsmanager (a secret the stack owns), s3 (an object in a private Spaces bucket).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from launchpad.render.host_file import HostFile
from launchpad.render.templates import render_template
from launchpad.settings import Settings
from launchpad.settings.tls import DNS01_METHOD

STORE_IN_MACHINE = "/var/lib/launchpad/certificates"
"""The local target's certificate store folder, as the machine sees it."""
CONFIG = "/etc/launchpad/certificate.json"
MIN_DAYS = 30
"""A stored certificate with fewer days left is renewed (certbot's own threshold)."""
DO_CREDENTIALS = "/run/launchpad-agent/digitalocean-dns.ini"
"""certbot-dns-digitalocean's credentials file: written from the sealed token just before certbot runs
(`launchpad-agent certificate dns-credentials`), removed right after; tmpfs, root 0600."""


def live_dir(domain: str) -> str:
    """Where nginx reads the host's certificate (the stored one, or certbot's copy)."""
    return f"/etc/launchpad/tls/{domain}"


def lineage_dir(domain: str) -> str:
    """certbot's own copy of what it obtained on this host."""
    return f"/etc/letsencrypt/live/{domain}"


def challenge(settings: Settings) -> str:
    """How certbot proves control of the names: http (webroot), route53, digitalocean or hook (tests)."""
    if not settings.dns01:
        return "http"
    return DNS01_METHOD.get(settings.provider, "digitalocean")


def packages(settings: Settings) -> list[str]:
    extra = {"route53": ["python3-certbot-dns-route53"], "digitalocean": ["python3-certbot-dns-digitalocean"]}
    # openssl: the agent reads a stored certificate's names and expiry with it.
    return ["certbot", "openssl", *extra.get(challenge(settings), [])] if settings.tls else []


def store_spec(settings: Settings) -> dict[str, Any]:
    """The store a stack without its own (the local target, `launchpad render` previews) gets."""
    assert settings.domain
    stack = settings.stack
    if settings.provider == "aws":
        return {"kind": "aws-secretsmanager", "arn": f"<{stack} certificate secret>", "region": settings.resolved_region}
    if settings.provider == "digitalocean":
        region = settings.resolved_region
        return {"kind": "s3", "url": f"s3://{stack}-certificates/{stack}/{settings.domain}.json", "region": region,
                "endpoint": f"https://{region}.digitaloceanspaces.com",
                "sealed": {"credentials": f"https://{stack}-releases.{region}.digitaloceanspaces.com/{stack}/hosts/", "stack": stack}}
    return {"kind": "file", "path": f"{STORE_IN_MACHINE}/{settings.domain}.json"}


def config(settings: Settings, store: Mapping[str, Any] | None) -> str:
    assert settings.domain
    return json.dumps({"domain": settings.domain, "names": [settings.domain, f"www.{settings.domain}"],
                       "live": live_dir(settings.domain), "lineage": lineage_dir(settings.domain),
                       "min_days": MIN_DAYS, "store": dict(store) if store else None}, sort_keys=True) + "\n"


DEPLOY_HOOK = """#!/bin/sh
# certbot renewed: install, store and serve it (Launchpad).
/usr/bin/python3 /usr/local/sbin/launchpad-agent certificate sync --config /etc/launchpad/certificate.json || true
systemctl reload nginx.service
"""


def host_files(settings: Settings, store: Mapping[str, Any] | None) -> list[HostFile]:
    """The certificate step's files, for a host that terminates TLS (`settings.tls`)."""
    assert settings.tls and settings.domain
    app, kind = settings.app.unix_name, challenge(settings)
    files = [
        HostFile(CONFIG, config(settings, store), "0600"),
        HostFile("/usr/local/sbin/launchpad-certificate", render_template(
            "certificate.sh.j2", app=app, domain=settings.domain, email=settings.email, acme_server=settings.acme_server,
            challenge=kind, do_credentials=DO_CREDENTIALS), "0755"),
        HostFile("/etc/systemd/system/launchpad-certificate.service", render_template("certificate.service.j2")),
        HostFile("/etc/systemd/system/launchpad-certificate.timer", render_template("certificate.timer.j2")),
        HostFile("/etc/systemd/system/launchpad-certificate-renew.timer", render_template("certificate-renew.timer.j2")),
        HostFile("/etc/letsencrypt/renewal-hooks/deploy/launchpad", DEPLOY_HOOK, "0755"),
    ]
    if kind == "hook":
        files.append(HostFile("/usr/local/sbin/launchpad-dns-challenge",
                              render_template("dns-challenge.py.j2", server=settings.dns_challenge_server), "0755"))
    return files
