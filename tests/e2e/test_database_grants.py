"""Issue 12, item 3 on the local PostgreSQL machine: DigitalOcean's shape, refused, granted, released.

A stack with a database (own name, so it runs beside the other e2e stacks). Its PostgreSQL 15
is then given the shape DigitalOcean's API leaves: `doadmin` (CREATEDB, CREATEROLE, not a
superuser) owns the app's database and the app's user is a plain login role, which on 15+
cannot CREATE in schema `public`. A release is then refused at stage health with the
server's words while the old one keeps serving; the agent's grant, run on the web machine
with the admin URL (as the sealed delivery hands it over on DigitalOcean), fixes it, and the
same release goes live.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.settings import validate

pytestmark = pytest.mark.e2e
STACK = "pg15grant"
WEB, DB = local_stack.web_name(STACK), f"{local_stack.web_name(STACK)}-db"
GRANT = ("import sys; sys.path.insert(0, '/usr/local/sbin/launchpad-agent'); from launchpad_agent import database; "
         "database.grant({'url': '', 'admin_url': sys.stdin.read().strip(), 'user': 'app', 'database': 'app'})")


def sh(name: str, cmd: str) -> str:
    return machine.run(name, ["sh", "-c", cmd]).stdout.strip()


def psql(sql: str, db: str = "postgres") -> str:
    return machine.run(DB, ["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-d", db, "-Atc", sql]).stdout.strip()


def status() -> dict:
    return json.loads(sh(WEB, "cat /var/lib/launchpad/release/status.json"))


@pytest.fixture(scope="module")
def stack() -> Iterator[local_stack.StackStatus]:
    settings = validate({"launchpad:provider": "local", "launchpad:domain": "rocket.test", "launchpad:rateLimit": 0,
                         "launchpad:database": {"enabled": True}}, STACK)
    up = local_stack.up(settings, progress=print)
    try:
        yield up
    finally:
        local_stack.down(STACK, progress=print)


def test_the_app_user_without_create_is_refused_then_granted_and_released(stack: local_stack.StackStatus) -> None:
    live = status()["live"]
    assert live and psql("select has_schema_privilege('app', 'public', 'CREATE')", "app") == "t"

    # DigitalOcean's shape.
    password = secrets.token_hex(12)
    web_ip = sh(WEB, "ip -4 -o addr show host0 | awk '{print $4}' | cut -d/ -f1")
    psql(f"CREATE ROLE doadmin LOGIN CREATEDB CREATEROLE PASSWORD '{password}'")
    psql("ALTER DATABASE app OWNER TO doadmin")
    sh(DB, f"echo 'host app doadmin {web_ip}/32 scram-sha-256' >> /etc/postgresql/15/main/pg_hba.conf && "
           "systemctl reload postgresql")
    assert psql("select has_schema_privilege('app', 'public', 'CREATE')", "app") == "f"

    refused = machine.run(WEB, ["/usr/local/sbin/launchpad-agent", "deploy", live], check=False)
    after = status()
    assert refused.returncode == 1 and after["live"] == live, "the old release keeps serving"
    failure = after["last_failure"]
    assert failure["stage"] == "health"
    assert "permission denied for schema public" in failure["message"], failure
    assert password not in json.dumps(after)

    admin_url = f"postgresql://doadmin:{quote(password)}@{stack.database_address}:5432/app"
    granted = machine.run(WEB, ["python3", "-c", GRANT], check=False, input=admin_url)
    assert granted.returncode == 0, granted.stderr
    assert psql("select has_schema_privilege('app', 'public', 'CREATE')", "app") == "t"

    slot = status()["slot"]
    released = machine.run(WEB, ["/usr/local/sbin/launchpad-agent", "deploy", live], check=False)
    assert released.returncode == 0, released.stderr[-2000:]
    assert status()["live"] == live and status()["slot"] != slot, "the same release, rolled onto the other slot"
    journal = sh(WEB, "journalctl -u launchpad-agent.service -o cat --no-pager") + released.stderr
    assert "database writable by the app's user" in journal
