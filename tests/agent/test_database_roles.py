"""The app's own role, kept by the agent with the master credential (issue 12, item 2), against a
real PostgreSQL 15: the RDS shape, where the master (CREATEDB, CREATEROLE, not a superuser) owns
the app's database. Secrets as root-only files (the local target's kind `file`; on AWS the same
JSON comes from Secrets Manager).

Proved: the app's role is not a superuser and owns its database and what the master owned in
`public`; an app password change goes to the other login while the old one keeps working until
the release is live, then the old login is closed; a master rotation needs nothing but the new
master secret; a missing credential refuses the release at stage health; a live credential that
no longer authenticates is noticed by `stale`. Skipped where no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kit import agent
from test_database import ADMIN, ADMIN_PW, SUPER, SUPER_PW, server, url  # noqa: F401 (server: the fixture)

pg = agent("pg")
database = agent("database")
roles = agent("roles")
rules = agent("rules")
OWNER = "rocket"


@pytest.fixture
def spec(server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:  # noqa: F811
    monkeypatch.setattr(roles, "STATE", tmp_path / "roles.json")
    monkeypatch.setattr(database, "DUE", tmp_path / "due")
    (tmp_path / "master.json").write_text(json.dumps({"username": ADMIN, "password": ADMIN_PW}))
    (tmp_path / "app.json").write_text(json.dumps({"password": "first-app-password-1", "host": "127.0.0.1",
                                                   "port": server, "dbname": "app"}))
    return {"kind": "file", "master": str(tmp_path / "master.json"), "app": str(tmp_path / "app.json"),
            "role": OWNER, "sslmode": "require"}


def write_app(folder: Path, password: str) -> None:
    """A new app password (a `pulumi up` that changed it), the rest as it was."""
    data = json.loads((folder / "app.json").read_text())
    (folder / "app.json").write_text(json.dumps({**data, "password": password}))


def holds(port: int, sql: str) -> bool:
    """Whether `sql` (a boolean expression) is true, asked as the superuser: a failing assertion
    in SQL is the only answer pg.run gives back."""
    try:
        pg.run(url(SUPER, SUPER_PW, port, "app"), f"DO $$ BEGIN IF NOT ({sql}) THEN RAISE 'no'; END IF; END $$")
    except pg.PgError:
        return False
    return True


def connects(link: str) -> str:
    try:
        pg.run(link, "SELECT 1")
    except pg.PgError as err:
        return err.code or str(err)
    return "ok"


def test_own_role_owns_the_database_rotates_without_a_gap_and_closes_the_old_login(
        server: int, spec: dict, tmp_path: Path, rotate_master) -> None:  # noqa: F811
    # An app that connected as master before: its table passes to the owner role.
    pg.run(url(ADMIN, ADMIN_PW, server, "app"), "CREATE TABLE legacy (id serial primary key, body text)")

    first = roles.Managed(spec)
    link = dict(first.pairs)["DATABASE_URL"]
    assert first.login == f"{OWNER}_a" and not first.rotated and "first-app-password-1" in link
    assert holds(server, f"NOT (SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = '{OWNER}')")
    assert holds(server, f"NOT (SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = '{OWNER}_a')")
    assert holds(server, f"(SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app') = '{OWNER}'")
    assert holds(server, f"(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'legacy') = '{OWNER}'")
    database.check({"database": spec}, first.pairs, tmp_path / "no-app.env")  # creates and writes
    pg.run(link, "CREATE TABLE notes (id int); INSERT INTO legacy (body) VALUES ('x')")
    assert holds(server, f"(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'notes') = '{OWNER}'")
    first.commit()
    assert json.loads((tmp_path / "roles.json").read_text())["login"] == f"{OWNER}_a"
    assert "password" not in (tmp_path / "roles.json").read_text()

    # RDS rotates the master: only the master secret changes; nothing rolls, nothing is run.
    rotate_master(server, "rotated-master-2")
    (tmp_path / "master.json").write_text(json.dumps({"username": ADMIN, "password": "rotated-master-2"}))
    again = roles.Managed(spec)
    assert again.login == first.login and not again.rotated and again.pairs == first.pairs

    # A new app password: the other login, set up with the rotated master; the old one still works
    # (the serving slot's new connections) until the release is live and committed.
    write_app(tmp_path, "second-app-password-2")
    second = roles.Managed(spec)
    new_link = dict(second.pairs)["DATABASE_URL"]
    assert second.login == f"{OWNER}_b" and second.rotated and second.version != first.version
    assert connects(link) == "ok" and connects(new_link) == "ok"
    pg.run(new_link, "INSERT INTO notes VALUES (2); ALTER TABLE notes ADD COLUMN body text")  # the owner's table
    second.commit()
    assert connects(link) == "28P01", "the old login is closed once the release with the new one is live"
    assert connects(new_link) == "ok"
    assert "close" not in json.loads((tmp_path / "roles.json").read_text())

    # And back: a third password goes to the first login again.
    write_app(tmp_path, "third-app-password-3")
    third = roles.Managed(spec)
    assert third.login == f"{OWNER}_a" and third.rotated and connects(dict(third.pairs)["DATABASE_URL"]) == "ok"
    third.commit()
    assert connects(new_link) == "28P01"


@pytest.fixture
def rotate_master(server: int):  # noqa: F811
    """ALTER ROLE <master> PASSWORD ..., as RDS's rotation does; the original one is back afterwards."""
    def rotate(port: int, password: str) -> None:
        pg.run(url(SUPER, SUPER_PW, port, "postgres"), f"ALTER ROLE {ADMIN} PASSWORD {pg.quote_literal(password)}")
    yield rotate
    rotate(server, ADMIN_PW)


def test_unchanged_credential_runs_no_sql_and_force_runs_it(spec: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    roles.Managed(spec).commit()
    calls: list[str] = []
    monkeypatch.setattr(roles, "run", lambda u, sql: calls.append(sql))
    roles.Managed(spec)
    assert calls == [], "the master is read and used only when the roles change"
    roles.Managed(spec, force=True)
    assert len(calls) == 1 and "ALTER ROLE" in calls[0] and "SCRAM-SHA-256$4096:" in calls[0]
    assert "first-app-password-1" not in calls[0], "the server gets a verifier, never the password"


@pytest.mark.parametrize("breaks, message", [
    (lambda d: (d / "app.json").unlink(), r"app credential \(file .*app.json\) is missing"),
    (lambda d: (d / "app.json").write_text("{}"), "app credential .* lacks password"),
    (lambda d: (d / "app.json").write_text("not json"), "app credential .* cannot be read"),
])
def test_a_missing_app_credential_refuses_the_release_at_health(spec: dict, tmp_path: Path, breaks, message: str) -> None:
    breaks(tmp_path)
    with pytest.raises(rules.Failure, match=message) as refused:
        database.prepare({"database": spec}, None)
    assert refused.value.stage == "health" and refused.value.retry
    assert "refused instead of serving without DATABASE_URL" in str(refused.value)


def test_a_wrong_master_refuses_a_change_with_the_servers_words(spec: dict, tmp_path: Path) -> None:
    (tmp_path / "master.json").write_text(json.dumps({"username": ADMIN, "password": "not-it"}))
    with pytest.raises(rules.Failure, match="password authentication failed") as refused:
        roles.Managed(spec)
    assert refused.value.stage == "health" and "not-it" not in str(refused.value)


def test_stale_sees_a_new_password_and_a_refused_live_login(server: int, spec: dict, tmp_path: Path) -> None:  # noqa: F811
    cfg = {"database": spec}
    live = database.prepare(cfg, None)
    live.commit()
    status = {"database": live.version}
    assert database.stale(cfg, None, status) is None
    assert database.DUE.stat().st_mtime > time.time() + 200, "next look in refresh_s"
    pg.run(url(SUPER, SUPER_PW, server, "postgres"), f"ALTER ROLE {OWNER}_a PASSWORD 'changed-behind-our-back'")
    reason = database.stale(cfg, None, status)
    assert reason is not None and reason[1] and "refused" in reason[0]
    repaired = database.prepare(cfg, None, live.version, force=True)
    assert not repaired.rotated and connects(dict(repaired.pairs)["DATABASE_URL"]) == "ok"
    write_app(tmp_path, "fourth-app-password-4")
    assert database.stale(cfg, None, status) == ("the database credential changed", False)
    (tmp_path / "app.json").unlink()
    assert database.stale(cfg, None, status) is None, "unreadable now: the live release serves on"


def test_scram_verifier_shape() -> None:
    v = pg.scram_verifier("pw", salt=b"\0" * 16)
    assert v.startswith("SCRAM-SHA-256$4096:AAAAAAAAAAAAAAAAAAAAAA==$") and v.count(":") == 2
    assert pg.quote_literal("it's") == "'it''s'"
    assert pg.url("a b", "p@ss", "db", 5432, "app", "require") == "postgresql://a%20b:p%40ss@db:5432/app?sslmode=require"


def test_a_rotation_refused_for_its_master_closes_the_old_login_once_it_goes_through(
        server: int, spec: dict, tmp_path: Path) -> None:  # noqa: F811
    roles.Managed(spec).commit()
    write_app(tmp_path, "rotated-once-2")
    second = roles.Managed(spec)
    second.commit()
    assert second.login == f"{OWNER}_b"
    (tmp_path / "master.json").write_text(json.dumps({"username": ADMIN, "password": "wrong"}))
    write_app(tmp_path, "rotated-twice-3")
    with pytest.raises(rules.Failure, match="password authentication failed"):
        roles.Managed(spec)
    (tmp_path / "master.json").write_text(json.dumps({"username": ADMIN, "password": ADMIN_PW}))
    third = roles.Managed(spec)
    assert third.login == f"{OWNER}_a" and third.rotated
    third.commit()
    assert connects(dict(second.pairs)["DATABASE_URL"]) == "28P01"


def test_the_old_login_is_closed_with_the_master_alone(server: int, spec: dict, tmp_path: Path) -> None:  # noqa: F811
    """The app secret may be gone by then (the commit runs after the old slot drained)."""
    first = roles.Managed(spec)
    first.commit()
    write_app(tmp_path, "rotated-5")
    second = roles.Managed(spec)
    (tmp_path / "app.json").unlink()
    second.commit()
    assert connects(dict(first.pairs)["DATABASE_URL"]) == "28P01"
    assert connects(dict(second.pairs)["DATABASE_URL"]) == "ok"
