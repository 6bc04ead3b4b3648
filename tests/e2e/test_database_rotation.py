"""Issue 12, item 2 on the local target: the app's own role, rotations under load, 0 failed requests.

The local PostgreSQL machine stands in for RDS: a master (CREATEDB, CREATEROLE, not a superuser)
owns the app's database, its credential in a root-only file on the web machine shaped like the
RDS-managed secret ({"username", "password"}); the app's password in another (the stack's Secrets
Manager secret on AWS). The release agent makes the app's own role with the master: `app_app`
owns the database, not a superuser; the app logs in as `app_app_a` or `app_app_b`.

Under a steady request loop on /healthz (a database connection per request):
1. the master is rotated (as RDS does every 7 days): nothing rolls, the app keeps serving;
2. the app password changes: the agent sets it on the other login with the *new* master, rolls
   the live release again onto the idle slot (blue/green), then closes the old login;
3. a change the master cannot apply (wrong master secret) is refused at stage health, and goes
   through once the master secret is right again; a re-roll refused after writing its env file (a
   broken DATABASE_URL in /etc/launchpad/app.env) leaves the serving release's env file untouched;
4. the app credential removed: the next release is refused loudly; the live one serves on.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from functools import partial

import pytest

from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.render import database_agent

from . import database_kit
from .database_kit import database_stack, machines, release_status, sh
from .load import Load

pytestmark = pytest.mark.e2e
STACK = "pg15rotate"
WEB, DB = machines(STACK)
ROLE = database_agent.app_role("app")
psql = partial(database_kit.psql, DB)
status = partial(release_status, WEB)


def read_json(path: str) -> dict:
    return json.loads(sh(WEB, f"cat {path}"))


def write_json(path: str, value: dict) -> None:
    sh(WEB, f"umask 077 && cat > {path}.new && mv {path}.new {path}", input=json.dumps(value))


def poke() -> None:
    """Look at the credential now instead of within refresh_s (as after a failed health check)."""
    sh(WEB, "rm -f /run/launchpad-agent/database-due && systemctl start --no-block launchpad-agent.service")


def env_digest(rid: str) -> str:
    return hashlib.sha256(sh(WEB, f"cat /etc/launchpad/releases/{rid}.env").encode()).hexdigest()


def wait_for(what: str, done, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = status()
        if done(st):
            return st
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s; status {json.dumps(status())[:2000]}")


def failed_after(before: dict):
    return lambda st: (st.get("last_failure") or {}).get("at", "") > ((before.get("last_failure") or {}).get("at") or "")


@pytest.fixture(scope="module")
def stack() -> Iterator[local_stack.StackStatus]:
    yield from database_stack(STACK)


def test_own_role_not_superuser_owns_its_database(stack: local_stack.StackStatus) -> None:
    assert status()["live"]
    assert psql(f"SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = '{ROLE}'") == "f|f|f|f"
    assert psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'") == ROLE
    assert psql("SELECT rolsuper FROM pg_roles WHERE rolname = 'master'") == "f", "RDS's master is no superuser either"
    logins = psql(f"SELECT string_agg(rolname || ':' || rolcanlogin || ':' || rolsuper, ',' ORDER BY rolname) FROM pg_roles "
                  f"WHERE pg_has_role(rolname, '{ROLE}', 'MEMBER') AND NOT rolsuper AND rolname NOT IN ('{ROLE}', 'master')")
    assert logins == f"{ROLE}_a:true:false", logins
    env = sh(WEB, f"cat /etc/launchpad/releases/{status()['live']}.env")
    assert f"postgresql://{ROLE}_a:" in env and "master" not in env, "the app never gets the master"


def test_rotations_under_load_fail_no_request(stack: local_stack.StackStatus) -> None:
    assert stack.address and stack.database_address
    master_file, app_file = database_agent.MASTER_FILE, database_agent.APP_FILE
    before = status()
    live, first_slot = before["live"], before["slot"]
    timings: dict[str, float] = {}

    with Load(stack.address, host="rocket.test", path="/healthz", threads=3, rate=30, max_seconds=420) as load:
        time.sleep(2)
        # 1. RDS rotates the master: its secret changes, nothing else does.
        master_pw = secrets.token_hex(16)
        psql(f"ALTER ROLE master PASSWORD '{master_pw}'")
        write_json(master_file, {"username": "master", "password": master_pw})
        poke()
        time.sleep(4)
        assert status()["slot"] == first_slot, "a master rotation rolls nothing"

        # 2. A new app password: the other login, set up with the new master; blue/green; old login closed.
        started = time.monotonic()
        write_json(app_file, {**read_json(app_file), "password": secrets.token_hex(16)})
        poke()
        rolled = wait_for("the app password rotation", lambda st: st.get("slot") != first_slot)
        timings["app password"] = time.monotonic() - started
        assert rolled["live"] == live and rolled["database"] != before["database"]
        assert f"postgresql://{ROLE}_b:" in sh(WEB, f"cat /etc/launchpad/releases/{live}.env")
        wait_for("the old login closed", lambda st: psql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{ROLE}_a'") == "f", 30)

        # 3. A change the master cannot apply: refused at health, the serving env file untouched.
        env_before, second = env_digest(live), status()
        write_json(master_file, {"username": "master", "password": "not-the-master-password"})
        write_json(app_file, {**read_json(app_file), "password": secrets.token_hex(16)})
        poke()
        refused = wait_for("the change without a valid master refused", failed_after(second))
        assert refused["live"] == live and refused["slot"] == second["slot"]
        assert refused["last_failure"]["stage"] == "health"
        assert "password authentication failed for user \"master\"" in refused["last_failure"]["message"]
        assert [h["status"] for h in refused["history"] if h["id"] == live] == ["live"], "still the live release"
        assert env_digest(live) == env_before, "a failed re-roll never changes the running release's env file"
        assert sh(WEB, "ls -A /etc/launchpad/releases | grep -c attempt || true") == "0"
        started = time.monotonic()
        write_json(master_file, {"username": "master", "password": master_pw})
        poke()
        back = wait_for("the fixed master applied", lambda st: st.get("slot") != second["slot"] and not st.get("last_failure"))
        timings["app password after a refused try"] = time.monotonic() - started
        assert f"postgresql://{ROLE}_a:" in sh(WEB, f"cat /etc/launchpad/releases/{live}.env")
        wait_for("the old login closed", lambda st: psql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{ROLE}_b'") == "f", 30)

        # 3b. A re-roll refused after its env file was written (a broken DATABASE_URL in app.env, which
        # wins): the attempt's own file is dropped; the serving release's env file stays as it was.
        env_before, fourth = env_digest(live), status()
        sh(WEB, "umask 077 && printf 'DATABASE_URL=postgresql://nobody:wrong@%s:5432/app\\n' "
                f"{stack.database_address} > /etc/launchpad/app.env")
        broken = wait_for("the broken app.env refused", failed_after(fourth))
        assert broken["last_failure"]["stage"] == "health" and broken["slot"] == fourth["slot"]
        assert "password authentication failed" in broken["last_failure"]["message"], broken["last_failure"]
        assert env_digest(live) == env_before, "the refused attempt's env file never replaces the serving one"
        assert sh(WEB, "ls -A /etc/launchpad/releases | grep -c attempt || true") == "0"
        # Gone again: app.env is as the live release had it, so nothing rolls; the live slot served throughout.
        sh(WEB, "rm /etc/launchpad/app.env")
        time.sleep(3)
        assert status()["slot"] == fourth["slot"] and env_digest(live) == env_before

        # 4. The app credential gone: the next release is refused loudly; the live one serves on.
        sh(WEB, f"rm {app_file}")
        third = status()
        machine.run(WEB, ["/usr/local/sbin/launchpad-agent", "deploy", live], check=False)
        gone = status()
        assert gone["live"] == live and gone["slot"] == back["slot"]
        assert gone["last_failure"]["stage"] == "health", gone["last_failure"]
        assert "app credential" in gone["last_failure"]["message"] and "is missing" in gone["last_failure"]["message"]
        assert "refused instead of serving without DATABASE_URL" in gone["last_failure"]["message"]
        assert third["slot"] == gone["slot"]
        time.sleep(3)
    summary = load.report("database rotations under load (master, app password x2 with a refused try, credential removed)")
    print(summary, timings)
    assert load.ok() and not load.failed(), [(r.status, r.error, r.body[:200]) for r in load.failed()][:10]
    assert all(json.loads(r.body)["database"] == "ok" for r in load.ok()[-20:])
    assert psql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{ROLE}_a'") == "t", "the live login serves on"
