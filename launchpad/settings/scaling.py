"""Checks for more than one host: `hosts`, `autoscale` and `dnsZone` (issue 14).

Each rule is a lookup in the provider's BalancerProfile (launchpad/providers.py), not a
branch on its name. The state rule, stated once here and in every message it gives:
N hosts share the database, the secrets and the release artifact, and nothing else. So an
app that keeps state on its host is refused with `hosts` > 1, because each host would keep
its own copy and they would diverge:
- `app.writable` folders (written on each host's disk);
- without `database.enabled`, an app whose code uses SQLite (its file lives in the host's
  state directory). The first use found is named, file and line, so the user sees why.
With a database the app gets DATABASE_URL on every host; a SQLite fallback in its code for
tests is then never used, so it is not refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from launchpad.release.ignore import Ignore
from launchpad.settings.errors import Problem

if TYPE_CHECKING:
    from launchpad.settings.model import Settings

SQLITE = re.compile(r"^\s*(import|from)\s+(sqlite3|aiosqlite)\b|\bsqlite3\.connect\(|[\"']sqlite(\+\w+)?:///")
"""Code that opens SQLite: the module imported, or a SQLAlchemy URL; prose naming SQLite does not count."""
SCAN_LIMIT = 2_000
"""Python files looked at, at most (an app of 200 MB is mostly assets, not code)."""
NOT_THE_APP = re.compile(r"(^|/)(tests?|testing)(/|$)|(^|/)(conftest|test_[^/]*|[^/]*_test)\.py$")
"""The app's own test suite may use SQLite; the host never runs it."""


def sqlite_use(app_path: Path) -> tuple[str, int, str] | None:
    """The first place the app's shipped code names SQLite: (file relative to the app, line, text)."""
    if not app_path.is_dir():
        return None
    ignore = Ignore.for_app(app_path)
    seen = 0
    for path in sorted(app_path.rglob("*.py")):
        rel = path.relative_to(app_path).as_posix()
        parts = rel.split("/")
        if NOT_THE_APP.search(rel) or any(ignore.excluded("/".join(parts[: i + 1]), True) for i in range(len(parts) - 1)):
            continue
        if ignore.excluded(rel, False):
            continue
        seen += 1
        if seen > SCAN_LIMIT:
            break
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if SQLITE.search(line):
                return rel, number, line.strip()[:80]
    return None


def check_hosts(s: Settings) -> list[Problem]:
    p: list[Problem] = []
    if s.profile.platform is not None:
        # `hosts` instances behind the platform's own router (Heroku: web dynos); no balancer, zone or
        # certificate of Launchpad's. Its ephemeral-disk rule is launchpad/settings/platform.py's.
        return _check_autoscale(s) + _check_zone(s)
    balancer = s.profile.balancer
    if s.balanced and balancer is None:
        key = "hosts" if s.hosts > 1 else "autoscale"
        p.append(Problem(key, f"{s.hosts if key == 'hosts' else 'set'}: the {s.provider} provider runs no hosts of its own "
                              "behind a balancer; remove the key (hosts: 1)"))
        return p
    p += _check_autoscale(s)
    p += _check_zone(s)
    if s.balanced:
        p += _check_tls(s)
        p += _check_state(s)
    return p


def _check_autoscale(s: Settings) -> list[Problem]:
    a = s.autoscale
    if a is None:
        return []
    balancer = s.profile.balancer
    if balancer is None or not balancer.autoscale:
        return [Problem("autoscale", f"{{min: {a.min}, max: {a.max}}}: autoscaling is offered on aws only (an Auto Scaling group); "
                                     f"on {s.provider} set a fixed number with `hosts` and remove autoscale")]
    p = []
    if a.min > a.max:
        p.append(Problem("autoscale.min", f"{a.min} is above autoscale.max ({a.max}); expected min <= max"))
    elif a.max < 2:
        p.append(Problem("autoscale.max", f"{a.max}: a group that never grows past one host needs no autoscaling; "
                                          "set max to 2 or more, or remove autoscale"))
    if a.min <= a.max and "hosts" in s.model_fields_set and not a.min <= s.hosts <= a.max:
        p.append(Problem("hosts", f"{s.hosts} is outside autoscale min..max ({a.min}..{a.max}); with autoscale, hosts is the "
                                  "starting size: give a number in that range, or leave it out to start at min"))
    return p


def _check_zone(s: Settings) -> list[Problem]:
    zone = s.dns_zone
    if zone is None:
        return []
    balancer = s.profile.balancer
    if not s.balanced and s.profile.platform is None:
        return []  # one host: the host's records and DNS-01 (settings/tls.py)
    if balancer is None or balancer.zone is None:
        return [Problem("dnsZone", f"{zone!r}: the {s.provider} provider has no DNS zone to validate a certificate through; remove the key")]
    if not s.domain:
        return [Problem("dnsZone", f"{zone!r} is set but 'domain' is not; the zone validates the balancer's certificate for the domain")]
    zone = zone.lower().rstrip(".")
    if s.domain != zone and not s.domain.endswith("." + zone):
        return [Problem("dnsZone", f"{zone!r} does not hold the domain {s.domain!r}; give {balancer.zone} the domain is in, "
                                   f"like {'.'.join(s.domain.split('.')[-2:])!r}")]
    return []


def _check_tls(s: Settings) -> list[Problem]:
    """Behind a balancer the certificate is the balancer's: certbot on N hosts cannot all
    answer one HTTP-01 challenge, and an uploaded certificate would put a private key in the
    stack's config. So HTTPS asked for (`email`) without a zone to validate through is refused."""
    balancer = s.profile.balancer
    assert balancer is not None
    if s.email is None or s.dns_zone is not None:
        return []
    if balancer.zone is None:
        return [Problem("email", f"{s.email!r}: with hosts > 1 on {s.provider}, {balancer.title} serves plain HTTP; "
                                 "remove email (HTTPS needs hosts: 1 and acmeServer here)")]
    return [Problem("dnsZone", f"unset, while email asks for HTTPS with hosts > 1: the certificate is the balancer's "
                               f"({balancer.certificate}), so set dnsZone to {balancer.zone} holding {s.domain!r}; "
                               "or remove email to serve plain HTTP")]


def _check_state(s: Settings) -> list[Problem]:
    p = []
    hosts = f"hosts: {s.hosts}" if s.autoscale is None else f"autoscale up to {s.autoscale.max} hosts"
    # app.writable arrives with releases (issue 10); settings without it have nothing to refuse.
    writable = list(getattr(s.app, "writable", None) or [])
    if writable:
        p.append(Problem("app.writable", f"{writable!r} with {hosts}: each host would write its own copy of these folders and they "
                                         "would diverge; keep shared state in the database (database.enabled) or object storage, "
                                         "or keep hosts: 1"))
    if not s.database.enabled and (use := sqlite_use(s.app_path)) is not None:
        rel, line, text = use
        key, size = ("hosts", str(s.hosts)) if s.autoscale is None else ("autoscale", f"up to {s.autoscale.max} hosts")
        p.append(Problem(key, f"{size} without a shared database, and the app uses SQLite ({rel}:{line}: {text!r}): each host "
                                  "would keep its own database file and they would diverge; set database.enabled: true "
                                  "(PostgreSQL, shared by every host) or keep hosts: 1"))
    return p
