"""The agent's database steps against a real PostgreSQL 15 (issue 12, item 3).

A throwaway cluster (initdb, 127.0.0.1, SCRAM; TLS on) set up the way DigitalOcean's API
leaves one: `doadmin` (CREATEDB, CREATEROLE, not a superuser) owns the app's database, and
the app's user is a plain login role. On 15+ that user connects but cannot CREATE in schema
`public`, so the write check refuses the release; after the agent's grants, run with the
admin URL the deployer sealed to the host, it passes. Also the client itself (SCRAM, MD5,
TLS modes, errors) and the missing-URL refusal. Skipped, with the reason, where no
PostgreSQL server binaries are installed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit import agent

pg = agent("pg")
database = agent("database")
rules = agent("rules")


def _bin(tool: str) -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))
    return str(found[-1]) if found else shutil.which(tool)


INITDB, PG_CTL = _bin("initdb"), _bin("pg_ctl")
SUPER, SUPER_PW = "boot", "boot-pw-1"
ADMIN, ADMIN_PW = "doadmin", "admin pw/with:odd@chars"
APP, APP_PW = "app", "app-pw-Zq8w"
OLD, OLD_PW = "legacy", "legacy-md5-pw"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


def url(user: str, password: str, port: int, db: str = "app", sslmode: str = "prefer") -> str:
    from urllib.parse import quote
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/{db}?sslmode={sslmode}"


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    if INITDB is None or PG_CTL is None:
        pytest.skip("needs PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    # PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
    owner = "postgres" if os.geteuid() == 0 else None
    if owner and shutil.which("runuser") is None:
        pytest.skip("runs PostgreSQL as the postgres user and needs runuser")
    # Not under pytest's tmp folder: that is 0700, and the postgres user must reach the data.
    base = Path(tempfile.mkdtemp(prefix="launchpad-pg-"))
    base.chmod(0o755)
    data, pwfile = base / "data", base / "pw"
    pwfile.write_text(SUPER_PW + "\n")
    if owner:
        shutil.chown(base, owner)
        shutil.chown(pwfile, owner)
    subprocess.run(_as_owner([INITDB, "-D", str(data), "-U", SUPER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                              "-E", "UTF8", "--locale=C.UTF-8"], owner), check=True, capture_output=True)
    # TLS with a self-signed pair, as managed databases offer it.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(data / "server.key"), "-out", str(data / "server.crt")], check=True, capture_output=True)
    (data / "server.key").chmod(0o600)
    if owner:
        for f in ("server.key", "server.crt"):
            shutil.chown(data / f, owner)
    port = _free_port()
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\nssl = on\n")
    with open(data / "pg_hba.conf", "w") as hba:
        hba.write(f"local all all scram-sha-256\nhost all {OLD} 127.0.0.1/32 md5\nhost all all 127.0.0.1/32 scram-sha-256\n")
    log = base / "log"
    if owner:
        log.touch()
        shutil.chown(log, owner)
    subprocess.run(_as_owner([PG_CTL, "-D", str(data), "-l", str(log), "-w", "start"], owner), check=True, capture_output=True)
    try:
        boot = url(SUPER, SUPER_PW, port, "postgres")
        # DigitalOcean's shape: an admin that is not a superuser owns the database; the app's
        # user is a plain login role.
        pg.run(boot, f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE PASSWORD {literal(ADMIN_PW)}")
        pg.run(url(ADMIN, ADMIN_PW, port, "postgres"), "CREATE DATABASE app")
        pg.run(url(ADMIN, ADMIN_PW, port, "postgres"), f"CREATE ROLE {APP} LOGIN PASSWORD {literal(APP_PW)}")
        pg.run(boot, f"SET password_encryption = 'md5'; CREATE ROLE {OLD} LOGIN PASSWORD {literal(OLD_PW)}")
        yield port
    finally:
        subprocess.run(_as_owner([PG_CTL, "-D", str(data), "-m", "fast", "-w", "stop"], owner), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def payload(port: int) -> dict[str, str]:
    return {"url": url(APP, APP_PW, port, sslmode="require"), "admin_url": url(ADMIN, ADMIN_PW, port, sslmode="require"),
            "user": APP, "database": "app"}


def test_on_15_the_api_made_user_cannot_create_and_the_release_is_refused_then_the_grants_fix_it(
        server: int, tmp_path: Path) -> None:
    app_url = url(APP, APP_PW, server, sslmode="require")
    pg.run(app_url, "SELECT 1")  # connects: what a plain health check would see
    no_env = tmp_path / "app.env"
    with pytest.raises(rules.Failure) as refused:
        database.check({"database": {"kind": "spaces-sealed"}}, [("DATABASE_URL", app_url)], no_env)
    assert refused.value.stage == "health"
    assert "permission denied for schema public" in str(refused.value)
    assert "CREATE on schema public" in str(refused.value) and APP_PW not in str(refused.value)

    marker = tmp_path / "granted.json"
    database.grant(payload(server), marker)
    database.check({"database": {"kind": "spaces-sealed"}}, [("DATABASE_URL", app_url)], no_env)
    # The check leaves nothing behind; the app's own tables are its own.
    pg.run(app_url, "CREATE TABLE notes (id serial primary key, body text); INSERT INTO notes (body) VALUES ('x')")
    with pytest.raises(pg.PgError, match="does not exist"):
        pg.run(app_url, "SELECT * FROM launchpad_write_check")


def test_grants_run_once_per_sealed_object(server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "granted.json"
    database.grant(payload(server), marker)
    calls: list[str] = []
    monkeypatch.setattr(database, "run", lambda u, sql: calls.append(sql))
    database.grant(payload(server), marker)
    assert calls == []
    database.grant({**payload(server), "admin_url": payload(server)["admin_url"] + "&x=1"}, marker)
    assert len(calls) == 1


def test_a_failed_grant_is_a_retried_refusal(server: int, tmp_path: Path) -> None:
    bad = {**payload(server), "admin_url": url(ADMIN, "wrong", server)}
    with pytest.raises(rules.Failure) as failed:
        database.grant(bad, tmp_path / "granted.json")
    assert failed.value.stage == "release" and failed.value.retry
    assert "password authentication failed" in str(failed.value) and "wrong" not in str(failed.value)
    assert not (tmp_path / "granted.json").exists()


def test_a_stack_with_a_database_refuses_a_release_without_database_url(tmp_path: Path) -> None:
    with pytest.raises(rules.Failure, match="has a database but this release has no DATABASE_URL") as refused:
        database.check({"database": {}}, [("SECRET_KEY", "x")], tmp_path / "app.env")
    assert refused.value.stage == "health"
    database.check({}, [], tmp_path / "app.env")  # no database in the stack: nothing to check


def test_app_env_wins_as_in_the_env_file(tmp_path: Path) -> None:
    app_env = tmp_path / "app.env"
    app_env.write_text("DATABASE_URL=postgresql://a@db/x\n")
    assert database.database_url([("DATABASE_URL", "postgresql://b@db/y")], app_env) == "postgresql://a@db/x"


@pytest.mark.parametrize("sslmode", ["disable", "prefer", "require", "verify-full"])
def test_client_tls_modes(server: int, sslmode: str) -> None:
    if sslmode == "verify-full":
        with pytest.raises(pg.PgError, match="CERTIFICATE_VERIFY_FAILED"):
            pg.run(url(APP, APP_PW, server, sslmode=sslmode), "SELECT 1")
        return
    pg.run(url(APP, APP_PW, server, sslmode=sslmode), "SELECT 1")


def test_client_md5_and_refusals(server: int) -> None:
    pg.run(url(OLD, OLD_PW, server, "postgres", "disable"), "SELECT 1")
    with pytest.raises(pg.PgError, match="password authentication failed for user \"app\""):
        pg.run(url(APP, "nope", server), "SELECT 1")
    with pytest.raises(pg.PgError) as err:
        pg.run(url(APP, APP_PW, server), "SELEC 1")
    assert err.value.code == "42601"
    with pytest.raises(pg.PgError, match="cannot connect"):
        pg.run(url(APP, APP_PW, _free_port()), "SELECT 1")


def test_prepare_opens_what_the_deployer_sealed(server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cryptography")
    from launchpad.release import sealed as deployer

    sealed = agent("sealed")
    monkeypatch.setattr(sealed, "HOST_KEY", tmp_path / "host-key")
    monkeypatch.setattr(sealed, "HOST_KEY_JSON", tmp_path / "host-key.json")
    monkeypatch.setattr(database, "GRANTED", tmp_path / "granted.json")
    cfg = {"store": "s3://bucket/prod", "secrets": {"kind": "spaces-sealed", "enroll": "ab" * 32},
           "database": {"kind": "spaces-sealed"}}
    _, public_raw = sealed.ensure_host_key("ab" * 32)
    kid = deployer.key_id(public_raw)
    document = deployer.seal(public_raw, json.dumps(payload(server)).encode(), f"prod/database/{kid}".encode(), b"seed")

    class Store:
        def get(self, key: str) -> bytes | None:
            return document.encode() if key == f"database/{kid}.sealed" else None

    prepared = database.prepare(cfg, Store())
    assert prepared.pairs == [("DATABASE_URL", payload(server)["url"])] and not prepared.rotated
    assert prepared.version == database.url_version(payload(server)["url"])
    assert database.prepare(cfg, Store(), live_version="0" * 16).rotated, "a re-sealed URL rolls the release"
    assert (tmp_path / "granted.json").is_file()
    database.check(cfg, [("DATABASE_URL", payload(server)["url"])], tmp_path / "app.env")

    class Empty:
        def get(self, key: str) -> None:
            return None

    with pytest.raises(rules.Failure, match="not sealed for this host") as waiting:
        database.prepare(cfg, Empty())
    assert waiting.value.retry and waiting.value.stage == "fetch"
    assert database.prepare({**cfg, "database": None}, Empty()).pairs == []


def test_a_release_refused_for_its_database_is_tried_again_once_app_env_changes() -> None:
    """A broken rotated DATABASE_URL refuses the re-roll; the next, fixed one must not wait for a new pointer."""
    pointer = {"id": "a" * 12, "at": "t1"}
    status = {"last_failure": {"id": "a" * 12, "pointer_at": "t1", "retry_after": None, "app_env": "0badc0de"}}
    assert rules.refused(status, pointer, 0, "0badc0de")
    assert not rules.refused(status, pointer, 0, "600dc0de")
    assert rules.refused(status, pointer, 0), "callers that do not say keep the old rule"
    older = {"last_failure": {"id": "a" * 12, "pointer_at": "t1", "retry_after": None}}
    assert rules.refused(older, pointer, 0, "600dc0de"), "a failure recorded before this field stays refused"
