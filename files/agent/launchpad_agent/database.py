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
- Every provider: when agent.json has `database`, a release without DATABASE_URL is refused
  (stage health) instead of serving a broken app; when a PostgreSQL DATABASE_URL is there,
  the app's credentials must be able to CREATE a table and write a row (in a transaction that
  is rolled back), else the release is refused with the server's words.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from launchpad_agent.pg import PgError, quote_ident, run
from launchpad_agent.rules import APP_ENV, Failure, log, parse_env_file

GRANTED = Path("/var/lib/launchpad/database-grants.json")
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


def prepare(cfg: dict, store) -> list[tuple[str, str]]:
    """Env pairs the release gets from the database delivery (DATABASE_URL on DigitalOcean)."""
    kind = (cfg.get("database") or {}).get("kind")
    if kind != "spaces-sealed":
        return []
    payload = sealed_payload(cfg, store)
    grant(payload)
    return [("DATABASE_URL", payload["url"])]


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
