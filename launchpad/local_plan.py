"""What a stack's local machines are, decided before any of them boots: the contract
between `pulumi up` (components/local/host.py) and the local runtime (`launchpad local up`).

The web machine boots the user-data rendered once, by whoever drives: the Pulumi
program with the settings it validated, or the CLI from `Pulumi.<stack>.yaml`.
Beside it the runtime needs a few facts (`LocalPlan`): which unit to restart once
the database URL is in place, the Host header the site answers to, and the
database machine to boot; with more than one host, how many web machines and what the
balancer's health check asks. The database machine's own cloud-config admits the web
machines' addresses, and the balancer's config lists them, known only once they run, so
the runtime renders those two.

`pulumi up` hands both over on the command's standard input (`encode`/`decode`),
and the database password in the environment variable PASSWORD_ENV (a Pulumi
secret); neither travels on the command line.

Ground floor: no Pulumi, no provider SDK, nothing of the nspawn runtime.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass
from typing import Any

from launchpad.providers import LOCAL
from launchpad.render.bootstrap import render_user_data
from launchpad.render.haproxy import health_check
from launchpad.settings import Settings

PASSWORD_ENV = "LAUNCHPAD_DB_PASSWORD"
"""The database password, from pulumi-random via the Pulumi program."""


@dataclass(frozen=True)
class DatabasePlan:
    version: str
    name: str
    """Database and user name."""


@dataclass(frozen=True)
class BalancerPlan:
    health_path: str
    health_host: str
    strict: bool
    """Only 200 is healthy (the app has a health path); else any answer below 500."""


@dataclass(frozen=True)
class LocalPlan:
    """What `launchpad local up` boots besides the web machine's user-data."""

    stack: str
    """Names the machines: lp-<stack> (web) and lp-<stack>-db."""
    app_unit: str
    """The app's systemd unit name, restarted once the database URL is in place."""
    domain: str | None = None
    """The Host header the site answers to (nginx drops other names)."""
    database: DatabasePlan | None = None
    hosts: int = 1
    """Web machines behind the balancer (one, without a balancer, is lp-<stack>)."""
    balancer: BalancerPlan | None = None
    """A balanced stack (hosts > 1, or autoscaled): web machines lp-<stack>-web-<i>, all booted on
    the same user-data (as from a cloud's launch template), behind the balancer machine lp-<stack>-lb
    (launchpad/local/fleet.py); this is what its health check asks each web machine."""


def rehearsal(settings: Settings) -> Settings:
    """Any stack's settings as the local target runs them: same app, site and database
    engine wiring, minus what only a cloud has (region, size, certificates)."""
    if settings.provider == "local":
        return settings
    # The local database machine runs Debian 12's PostgreSQL, whatever a cloud stack asks for.
    database = settings.database.model_copy(update={"size": None, "version": LOCAL.database.versions[0]})
    return settings.model_copy(update={"provider": "local", "region": None, "size": None, "database": database})


def plan_for(settings: Settings) -> LocalPlan:
    local = rehearsal(settings)
    database = DatabasePlan(local.database.version, local.database.name) if local.database.enabled else None
    hosts, balancer = 1, None
    if local.balanced:
        # An autoscaled cloud stack rehearses at its starting size (hosts, else autoscale.min).
        hosts = local.hosts if local.autoscale is None or "hosts" in local.model_fields_set else local.autoscale.min
        check = health_check(local)
        balancer = BalancerPlan(check.path, check.host, check.strict)
    return LocalPlan(stack=local.stack, app_unit=local.app.unix_name, domain=local.domain, database=database,
                     hosts=hosts, balancer=balancer)


def user_data_for(settings: Settings) -> str:
    """The web machine's user-data: exactly what a cloud host of the stack gets (the local
    database's credentials arrive as root-only files the agent reads, not in user-data)."""
    return render_user_data(rehearsal(settings))


def encode(user_data: str, plan: LocalPlan) -> str:
    """The standard input of `launchpad local up --plan -`."""
    return json.dumps({"user_data": user_data, "plan": asdict(plan)}, sort_keys=True)


def decode(text: str) -> tuple[str, LocalPlan]:
    """Reads what `encode` wrote; ValueError names the key and what was expected."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"plan: not JSON ({exc}); expected the output of launchpad.local_plan.encode") from None
    user_data = _field(data, "user_data", str)
    if not user_data.startswith("#cloud-config"):
        raise ValueError(f"plan: user_data starts {user_data[:20]!r}; expected a rendered '#cloud-config'")
    raw = _field(data, "plan", dict)
    db = raw.get("database")
    database = None
    if db is not None:
        database = DatabasePlan(_field(db, "version", str, "plan.database"), _field(db, "name", str, "plan.database"))
    domain = raw.get("domain")
    if domain is not None and not isinstance(domain, str):
        raise ValueError(f"plan.domain: {domain!r} is not a string or null")
    hosts = raw.get("hosts", 1)
    if not isinstance(hosts, int) or isinstance(hosts, bool) or not 1 <= hosts <= 20:
        raise ValueError(f"plan.hosts: {hosts!r}; expected a whole number from 1 to 20")
    lb = raw.get("balancer")
    balancer = None
    if lb is not None:
        balancer = BalancerPlan(_field(lb, "health_path", str, "plan.balancer"), _field(lb, "health_host", str, "plan.balancer"),
                                _field(lb, "strict", bool, "plan.balancer"))
    if hosts > 1 and balancer is None:
        raise ValueError(f"plan: hosts {hosts} without a balancer; expected plan.balancer when hosts > 1")
    plan = LocalPlan(stack=_field(raw, "stack", str, "plan"), app_unit=_field(raw, "app_unit", str, "plan"),
                     domain=domain, database=database, hosts=hosts, balancer=balancer)
    return user_data, plan


def _field(data: Any, key: str, kind: type, where: str = "") -> Any:
    path = f"{where}.{key}" if where else key
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"plan: {path} is missing")
    if not isinstance(data[key], kind):
        raise ValueError(f"plan: {path} is {data[key]!r}; expected a {kind.__name__}")
    return data[key]


def cli(python: str, *args: str) -> str:
    """`python -m launchpad.cli <args>` as a shell command line."""
    return " ".join(shlex.quote(a) for a in (python, "-m", "launchpad.cli", *args))


def up_command(python: str, stack: str) -> str:
    """Boots what `encode` wrote on standard input; prints the stack's status as JSON when healthy."""
    return cli(python, "local", "up", "--stack", stack, "--plan", "-", "--json")


def down_command(python: str, stack: str) -> str:
    return cli(python, "local", "down", "--stack", stack)
