"""One stack on the local target: its web machine and, with a database, its PostgreSQL machine.

Shared by `launchpad local ...` and the Pulumi program's `local` provider (which
runs that command), so both boot exactly the same thing. The web machine gets
the very user-data a cloud host would (components/bootstrap.py); secrets reach
the machines as root-only files written into their disks, never through user-data.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from launchpad.database_url import database_url
from launchpad.render.bootstrap import SECRETS_ENV, render_user_data
from launchpad.render.postgres import PASSWORD_FILE, render_postgres_user_data
from launchpad.local import machine
from launchpad.settings import Settings

STACKS_DIR = machine.STATE_ROOT / "stacks"
PASSWORD_ENV = "LAUNCHPAD_DB_PASSWORD"
SETTINGS_ENV = "LAUNCHPAD_SETTINGS"
"""Validated settings as JSON, from the Pulumi program to `launchpad local up`."""
DB_USER = "app"

Progress = Callable[[str], None]


@dataclass
class StackStatus:
    stack: str
    state: str
    """running | stopped | absent"""
    url: str | None
    address: str | None
    host_header: str | None
    database_address: str | None
    machines: list[str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def web_name(stack: str) -> str:
    return f"lp-{stack}"


def db_name(stack: str) -> str:
    return f"lp-{stack}-db"


def rehearsal(settings: Settings) -> Settings:
    """Any stack's settings as the local target runs them: same app, site and database
    engine wiring, minus what only a cloud has (region, size, certificates)."""
    if settings.provider == "local":
        return settings
    database = settings.database.model_copy(update={"size": None, "version": "15"})
    return settings.model_copy(update={"provider": "local", "region": None, "size": None, "database": database})


def _instance_id(*parts: str) -> str:
    # A new user-data means a new instance, exactly like a replaced cloud host.
    return "lp-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _password(stack: str) -> str:
    """The database password: from the environment (pulumi-random, via the Pulumi
    program), else generated once and kept root-only for this stack."""
    given = os.environ.get(PASSWORD_ENV)
    path = STACKS_DIR / stack / "db-password"
    if given:
        return given
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def url_for(settings: Settings, address: str) -> tuple[str, str | None]:
    """The URL to open and the Host header the site answers to (the catch-all drops other names)."""
    return f"http://{address}/", settings.domain


def _packages(user_data: str) -> list[str]:
    return [str(p) for p in (yaml.safe_load(user_data).get("packages") or [])]


def up(settings: Settings, progress: Progress = print, deadline_s: float = 900.0, prebake: bool = False) -> StackStatus:
    """Boots the stack; returns once /healthz answers through Nginx.

    `prebake` boots on a cached base layer that already holds the cloud-config's apt
    packages: faster, but less like a fresh cloud host, so it is off by default.
    """
    settings = rehearsal(settings)
    stack = settings.stack
    started = time.monotonic()

    def stage(text: str) -> None:
        progress(f"[{time.monotonic() - started:6.1f}s] {text}")

    stage("base image")
    machine.ensure_base(progress=stage)

    def baked(user_data: str) -> list[str]:
        return _packages(user_data) if prebake else []

    web = web_name(stack)
    # Without a Secrets Manager ARN the database changes nothing in user-data (its URL
    # arrives in SECRETS_ENV), so the web machine boots at once and cloud-init starts.
    user_data = render_user_data(settings, None)
    stage(f"boot {web}")
    web_state = machine.up(machine.MachineSpec(web, user_data, _instance_id(user_data)), progress=stage,
                           replace=machine.status(web) is not None, extra_packages=baked(user_data))
    if settings.database.enabled:
        # The database admits the web machine's address, known only now.
        db = db_name(stack)
        password = _password(stack)
        db_data = render_postgres_user_data(stack, settings.database.version, settings.database.name, DB_USER, web_state.address)
        stage(f"boot {db}")
        db_state = machine.up(machine.MachineSpec(db, db_data, _instance_id(db_data, password),
                                                  {PASSWORD_FILE: (password.encode(), 0o600)}),
                              progress=stage, replace=machine.status(db) is not None, extra_packages=baked(db_data))
        machine.allow(web, db, 5432)
        env = f"DATABASE_URL={database_url(DB_USER, password, db_state.address, 5432, settings.database.name)}\n"
        machine.run(web, ["sh", "-c", f"umask 077; mkdir -p {Path(SECRETS_ENV).parent}; cat > {SECRETS_ENV}"], input=env)
        stage("cloud-init (database)")
        machine.wait_cloud_init(db, deadline_s)
    stage("cloud-init")
    machine.wait_cloud_init(web, deadline_s)
    if settings.database.enabled:
        # The unit may have started before the env file existed; pick it up.
        machine.run(web, ["systemctl", "restart", f"{settings.app.unix_name}.service"])
    url, host = url_for(settings, web_state.address)
    stage(f"health {url}healthz" + (f" (Host: {host})" if host else ""))
    machine.wait_http(url + "healthz", deadline_s, host_header=host)
    stage(f"ready: {url}")
    return status(settings)


def status(settings: Settings) -> StackStatus:
    settings = rehearsal(settings)
    web = machine.status(web_name(settings.stack))
    db = machine.status(db_name(settings.stack))
    names = [m.name for m in (web, db) if m is not None]
    if web is None:
        return StackStatus(settings.stack, "absent", None, None, None, db.address if db else None, names)
    url, host = url_for(settings, web.address)
    return StackStatus(settings.stack, web.state, url, web.address, host, db.address if db else None, names)


def down(stack: str, progress: Progress = print) -> None:
    for name in (web_name(stack), db_name(stack)):
        if machine.status(name) is not None:
            progress(f"down {name}")
        machine.down(name)
    keep = STACKS_DIR / stack
    if keep.is_dir():
        for child in keep.iterdir():
            child.unlink()
        keep.rmdir()


def logs(stack: str) -> str:
    out = []
    for name in (web_name(stack), db_name(stack)):
        if machine.status(name) is not None:
            out.append(f"===== {name} =====\n{machine.logs(name)}")
    return "\n".join(out) or f"stack {stack}: no local machines"
