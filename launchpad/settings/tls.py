"""Checks for a single host's certificate: `dnsZone` and `dnsChallengeServer` (issue 12).

With one host, `dnsZone` names where the domain's DNS lives: the stack then manages the apex
and `www` records there and the host obtains its certificate by DNS-01 (certbot's Route 53 /
DigitalOcean plugin), which needs no traffic, so a new host holds its certificate before it
takes the address. On the local target the zone is a DNS challenge test server's
(`dnsChallengeServer`, Pebble's pebble-challtestsrv): tests only, like `acmeServer` there.
The balanced case (`hosts` > 1) is checked in scaling.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from launchpad.settings.errors import Problem

if TYPE_CHECKING:
    from launchpad.settings.model import Settings

DNS01_METHOD = {"aws": "route53", "local": "hook"}
"""How a host of each provider proves the names by DNS-01 (certbot's Route 53 plugin through the
instance role; the test server's hook locally). DigitalOcean has no instance identity: its
certbot plugin needs an API token, `dnsToken`, sealed to the droplet; without one a droplet
keeps HTTP-01 (its zone still gets the managed records)."""

# Full match (no ^/$): http, an IPv4 address and a port, nothing else: the value reaches a
# root script (the certbot DNS hook) and is only ever a test server's management API.
CHALLENGE_SERVER = re.compile(r"http://[0-9]{1,3}(?:\.[0-9]{1,3}){3}:[0-9]{1,5}")


def zone_holds(zone: str, domain: str) -> bool:
    zone = zone.lower().rstrip(".")
    return domain == zone or domain.endswith("." + zone)


def check_host_tls(s: Settings) -> list[Problem]:
    """`dnsZone` with one host, and `dnsChallengeServer`; every problem names key, value and what is valid."""
    p: list[Problem] = []
    server = s.dns_challenge_server
    if server is not None:
        if s.provider != "local":
            p.append(Problem("dnsChallengeServer", f"{server!r}: a DNS challenge test server is for the local target only; on "
                                                   f"{s.provider} certbot sets the TXT records in dnsZone itself: remove the key"))
        elif not CHALLENGE_SERVER.fullmatch(server):
            p.append(Problem("dnsChallengeServer", f"{server!r} is not a challenge test server's management URL; expected "
                                                   "http://<ipv4>:<port> like http://10.213.0.1:8055 (no path, name or credentials)"))
        if s.dns_zone is None:
            p.append(Problem("dnsChallengeServer", f"{server!r} is set but 'dnsZone' is not; the test server answers for the "
                                                   "zone holding 'domain': set dnsZone too"))
    if s.dns_token is not None:
        if s.provider != "digitalocean":
            p.append(Problem("dnsToken", f"is for DigitalOcean droplets only (certbot's DigitalOcean DNS plugin); on {s.provider} "
                                         "the host needs no token: remove the key"))
        elif s.dns_zone is None or s.balanced or not s.tls:
            p.append(Problem("dnsToken", "is set but unused: it serves DNS-01 for one droplet with domain, email and dnsZone; "
                                         "set those (hosts: 1), or remove the key"))
    zone = s.dns_zone
    if zone is None or s.balanced or s.profile.platform is not None:
        return p
    if not s.domain:
        return p + [Problem("dnsZone", f"{zone!r} is set but 'domain' is not; the zone holds the domain's records and "
                                       "validates its certificate: set domain to a name inside it")]
    if not zone_holds(zone, s.domain):
        p.append(Problem("dnsZone", f"{zone!r} does not hold the domain {s.domain!r}; give the zone the domain is in, "
                                    f"like {'.'.join(s.domain.split('.')[-2:])!r}"))
    if s.provider == "local" and server is None:
        p.append(Problem("dnsZone", f"{zone!r}: the local target has no DNS of its own; DNS-01 here goes through a test "
                                    "server: set dnsChallengeServer (pebble-challtestsrv's management URL), or remove dnsZone"))
    if s.provider == "local" and s.acme_server is None:
        p.append(Problem("dnsZone", f"{zone!r} on the local target needs acmeServer (a private ACME server such as Pebble) "
                                    "to issue the certificate"))
    return p
