"""Issue 12, item 2 (part): a database credential rotated on the local PostgreSQL machine, 0 failed requests.

Rotation by alternating login roles, the way a managed rotation keeps the old credential valid
until nothing uses it: `app` owns the database; `app_b` (a member of `app`, acting as it) gets a
fresh password; the new DATABASE_URL lands in /etc/launchpad/app.env; the agent sees the file
change and rolls the live release again onto the idle slot (blue/green), after proving the new
credential can create and write; only once the old slot is retired is `app`'s password removed.
A broken rotation (a wrong password) is refused at stage health while the old slot serves on,
and the fixed one goes through without a new pointer. Under a steady request loop on /healthz,
which opens a database connection per request: no request fails.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from functools import partial
from urllib.parse import quote

import pytest

from launchpad.local import machine
from launchpad.local import stack as local_stack

from . import database_kit
from .database_kit import database_stack, machines, release_status, sh
from .load import Load

pytestmark = pytest.mark.e2e
STACK = "pg15rotate"
WEB, DB = machines(STACK)
psql = partial(database_kit.psql, DB)
status = partial(release_status, WEB)
CONNECTS = ("import sys; sys.path.insert(0, '/usr/local/sbin/launchpad-agent'); from launchpad_agent import pg; "
            "pg.run(sys.stdin.read().strip(), 'SELECT 1')")


def write_app_env(url: str) -> None:
    sh(WEB, "umask 077 && cat > /etc/launchpad/app.env.new && mv /etc/launchpad/app.env.new /etc/launchpad/app.env",
       input=f"DATABASE_URL={url}\n")


def wait_for(what: str, done, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = status()
        if done(st):
            return st
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s; status {json.dumps(status())[:2000]}")


@pytest.fixture(scope="module")
def stack() -> Iterator[local_stack.StackStatus]:
    yield from database_stack(STACK)


def test_rotation_under_load_fails_no_request(stack: local_stack.StackStatus) -> None:
    assert stack.address and stack.database_address
    old_url = sh(WEB, "sed -n 's/^DATABASE_URL=//p' /etc/launchpad/app.env")
    web_ip = sh(WEB, "ip -4 -o addr show host0 | awk '{print $4}' | cut -d/ -f1")
    password = secrets.token_hex(16)
    psql(f"CREATE ROLE app_b LOGIN PASSWORD '{password}' IN ROLE app")
    psql("ALTER ROLE app_b SET role = 'app'")  # what it creates belongs to the owner, as before
    sh(DB, f"echo 'host app app_b {web_ip}/32 scram-sha-256' >> /etc/postgresql/15/main/pg_hba.conf && "
           "systemctl reload postgresql")
    new_url = f"postgresql://app_b:{quote(password)}@{stack.database_address}:5432/app"
    broken_url = f"postgresql://app_b:wrong-{quote(password)}@{stack.database_address}:5432/app"
    before = status()

    with Load(stack.address, host="rocket.test", path="/healthz", threads=3, rate=30, max_seconds=300) as load:
        time.sleep(2)
        # 1. A broken rotation: refused before any slot starts; the live slot serves on.
        write_app_env(broken_url)
        refused = wait_for("the broken credential refused", lambda st: (st.get("last_failure") or {}).get("at", "")
                           > (before.get("last_failure") or {}).get("at", ""))
        assert refused["live"] == before["live"] and refused["slot"] == before["slot"]
        assert refused["last_failure"]["stage"] == "health"
        assert "password authentication failed" in refused["last_failure"]["message"]
        assert password not in json.dumps(refused)
        # 2. The fixed one rolls the live release onto the other slot with the new credential.
        started = time.monotonic()
        write_app_env(new_url)
        rolled = wait_for("the rotation rolled", lambda st: st.get("slot") != before["slot"])
        took = time.monotonic() - started
        assert rolled["live"] == before["live"]
        # 3. The old credential retires only now that nothing uses it.
        psql("ALTER ROLE app PASSWORD NULL")
        time.sleep(3)
    load.report("database credential rotation under load (broken try refused, then app -> app_b)")
    assert load.ok() and not load.failed(), [(r.status, r.error, r.body[:200]) for r in load.failed()][:10]
    assert all(json.loads(r.body)["database"] == "ok" for r in load.ok()[-20:])

    old = machine.run(WEB, ["python3", "-c", CONNECTS], check=False, input=old_url)
    assert old.returncode != 0 and "password authentication failed" in old.stderr, "the old credential is dead"
    fresh = machine.run(WEB, ["python3", "-c", CONNECTS], check=False, input=new_url)
    assert fresh.returncode == 0, fresh.stderr
    print(f"rotation: new credential serving {took:.1f} s after app.env changed")
