"""The app's PostgreSQL as a release needs it: the grants that let its user create tables, and
the check that proves it can, before the release command and the new slot run.

- DigitalOcean (agent.json `"database": {"kind": "spaces-sealed"}`): a user made through
  DigitalOcean's API may connect but, on PostgreSQL 15+, not CREATE in schema `public`
  (15 took that right from PUBLIC, and the API's database belongs to `doadmin`), so
  migrations fail while `SELECT 1` passes. The deployer seals to this host's key
  `<stack>/database/<key_id>.sealed` = {"url", "admin_url", "user", "database"}: the app's
  URL, and the cluster admin's (the cluster is the stack's own). The agent grants the app's
  user CONNECT, TEMPORARY, CREATE on its database and USAGE, CREATE on schema `public`
  (idempotent; again only when the sealed object changes), and hands the app its URL. The
  admin URL is used in this process only: never in an env file, a command line or a log.
  No SSH from the deployer is involved.
- AWS RDS and the local target (kinds `aws-secretsmanager`, `file`): the agent holds the
  master credential and keeps the app's own least-privilege role itself (roles.py).
- Every provider: when agent.json has `database`, a release without DATABASE_URL is refused
  (stage health) instead of serving a broken app; when a PostgreSQL DATABASE_URL is there,
  the app's credentials must be able to CREATE a table and write a row (in a transaction that
  is rolled back), else the release is refused with the server's words.
- Rotation: every `refresh_s` (default 300 s; 30 s after a failed look) the idle pass asks
  `stale()`: the credential's version differs from the live release's (a new app password,
  a re-sealed URL), or the live credential no longer authenticates. Then the live release is
  rolled again (blue/green) with the new one; the running slot keeps its env file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from launchpad_agent.pg import PgError, quote_ident, run
from launchpad_agent.rules import APP_ENV, RETRY_S, Failure, log, parse_env_file

GRANTED = Path("/var/lib/launchpad/database-grants.json")
DUE = Path("/run/launchpad-agent/database-due")
"""Its mtime is when the idle pass looks at the credential next (one stat every 2 s)."""
MANAGED = ("aws-secretsmanager", "file")
REFRESH_S = 300.0
WRITE_CHECK = ("BEGIN; CREATE TABLE launchpad_write_check (id integer); "
               "INSERT INTO launchpad_write_check VALUES (1); ROLLBACK")
INSUFFICIENT_PRIVILEGE = "42501"


def grants_sql(user: str, database: str) -> str:
    u, d = quote_ident(user), quote_ident(database)
    return (f"GRANT CONNECT, TEMPORARY, CREATE ON DATABASE {d} TO {u}; "
            f"GRANT USAGE, CREATE ON SCHEMA public TO {u}")


def sealed_payload(cfg: dict, store) -> dict:
    """This host's sealed database object (DigitalOcean)."""
    from launchpad_agent.sealed import ensure_host_key, key_id, open_sealed, stack_of  # noqa: PLC0415

    private_raw, public_raw = ensure_host_key(cfg["secrets"]["enroll"])
    kid = key_id(public_raw)
    raw = store.get(f"database/{kid}.sealed")
    if raw is None:
        raise Failure("fetch", f"the database credentials are not sealed for this host ({kid}) yet; "
                      "`pulumi up` seals them once it has enrolled the host", retry=True)
    payload = json.loads(open_sealed(private_raw, raw, f"{stack_of(cfg)}/database/{kid}".encode()))
    missing = [k for k in ("url", "admin_url", "user", "database") if not isinstance(payload.get(k), str)]
    if missing:
        raise Failure("fetch", f"the sealed database object lacks {', '.join(missing)}")
    return payload


def grant(payload: dict, marker: Path | None = None) -> None:
    """The app user's rights in its database, applied once per sealed object."""
    marker = marker or GRANTED
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    try:
        if json.loads(marker.read_text()).get("applied") == digest:
            return
    except (OSError, ValueError):
        pass
    try:
        run(payload["admin_url"], grants_sql(payload["user"], payload["database"]))
    except PgError as err:
        raise Failure("release", f"granting {payload['user']} CREATE in {payload['database']}: {err}", retry=True) from None
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"applied": digest}) + "\n")
    log(f"database: {payload['user']} may CREATE in {payload['database']} (schema public)")


@dataclass
class Prepared:
    """A release's database credential: `pairs` join its env file, `version` goes to status.json
    (`database`), `rotated`: it differs from the live release's (the old slot is stopped, not
    parked), `commit` runs once the release is live and the old slot gone."""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    version: str | None = None
    rotated: bool = False
    commit: Callable[[], None] = lambda: None


def url_version(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def prepare(cfg: dict, store, live_version: str | None = None, force: bool = False) -> Prepared:
    """The credential the release gets from the database delivery (DATABASE_URL), or nothing."""
    spec = cfg.get("database") or {}
    kind = spec.get("kind")
    if kind == "spaces-sealed":
        payload = sealed_payload(cfg, store)
        if force:
            GRANTED.unlink(missing_ok=True)
        grant(payload)
        ver = url_version(payload["url"])
        return Prepared([("DATABASE_URL", payload["url"])], ver, bool(live_version) and ver != live_version)
    if kind in MANAGED:
        from launchpad_agent.roles import Managed  # noqa: PLC0415
        managed = Managed(spec, force)
        return Prepared(managed.pairs, managed.version, managed.rotated, managed.commit)
    return Prepared()


def current_version(cfg: dict, store) -> tuple[str | None, str | None]:
    """(the credential's version now, the URL the live release should be using), no SQL run."""
    spec = cfg.get("database") or {}
    if spec.get("kind") == "spaces-sealed":
        url = sealed_payload(cfg, store)["url"]
        return url_version(url), None
    if spec.get("kind") in MANAGED:
        from launchpad_agent import roles  # noqa: PLC0415
        app = roles.read_source(spec, "app")
        state = roles.load_state()
        host, port, dbname = roles.facts(spec, app)
        from launchpad_agent.pg import url  # noqa: PLC0415
        live = url(state["login"], app["password"], host, port, dbname, spec.get("sslmode")) if state.get("login") else None
        return roles.version(spec, app), live
    return None, None


def schedule(cfg: dict, seconds: float | None = None) -> None:
    """The idle pass looks at the credential again in `seconds` (default: the spec's refresh_s)."""
    if not cfg.get("database"):
        return
    delay = seconds if seconds is not None else float((cfg.get("database") or {}).get("refresh_s") or REFRESH_S)
    DUE.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    DUE.touch()
    when = time.time() + delay
    os.utime(DUE, (when, when))


def stale(cfg: dict, store, status: dict) -> tuple[str, bool] | None:
    """Why the live release must be rolled again for its database credential, with whether the
    roles must be set again (an authentication failure); None when it is current."""
    schedule(cfg, RETRY_S)  # anything below failing: look again soon, not every 2 s
    try:
        ver, live_url = current_version(cfg, store)
    except Failure as fail:
        log(f"database: the credential cannot be read now (the live release serves on): {fail}", level=3)
        return None
    if ver is not None and ver != status.get("database"):
        return "the database credential changed", False
    if live_url:
        try:
            run(live_url, "SELECT 1")
        except PgError as err:
            if err.code in ("28P01", "28000"):
                return f"the live database credential is refused ({err})", True
            log(f"database: the live credential could not be checked: {err}", level=3)
            return None
    if (cfg.get("database") or {}).get("kind") in MANAGED:
        from launchpad_agent import roles  # noqa: PLC0415
        roles.close_pending(cfg["database"])
    schedule(cfg)
    return None


def database_url(pairs: list[tuple[str, str]], app_env: Path = APP_ENV) -> str | None:
    """DATABASE_URL as the release's env file will hold it: /etc/launchpad/app.env comes last and wins."""
    found = [v for k, v in pairs if k == "DATABASE_URL"]
    if app_env.is_file():
        found += [v for k, v in parse_env_file(app_env.read_text()) if k == "DATABASE_URL"]
    return found[-1] if found else None


def check(cfg: dict, pairs: list[tuple[str, str]], app_env: Path = APP_ENV) -> bool:
    """The release's database health: present when the stack has one, and writable by the app's user.
    True when a database was checked."""
    url = database_url(pairs, app_env)
    if not url:
        if cfg.get("database") is not None:
            raise Failure("health", "the stack has a database but this release has no DATABASE_URL "
                          f"(not in {app_env} nor in the release's secrets): refused instead of serving without it")
        return False
    if not url.startswith(("postgresql://", "postgres://")):
        return False
    try:
        run(url, WRITE_CHECK)
    except PgError as err:
        hint = ("; on PostgreSQL 15+ the user needs CREATE on schema public or ownership of the database"
                if err.code == INSUFFICIENT_PRIVILEGE else "")
        raise Failure("health", f"the app's database user cannot create a table and write a row: {err}{hint}") from None
    return True
