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
from functools import partial
from urllib.parse import quote

import pytest

from launchpad.local import machine
from launchpad.local import stack as local_stack

from . import database_kit
from .database_kit import database_stack, machines, release_status, sh

pytestmark = pytest.mark.e2e
STACK = "pg15grant"
WEB, DB = machines(STACK)
psql = partial(database_kit.psql, DB)
status = partial(release_status, WEB)
# The local stack's app role (launchpad_agent/roles.py makes it; it stands in for DO's API-made user here).
ROLE = "app_app"
GRANT = ("import sys; sys.path.insert(0, '/usr/local/sbin/launchpad-agent'); from launchpad_agent import database; "
         f"database.grant({{'url': '', 'admin_url': sys.stdin.read().strip(), 'user': '{ROLE}', 'database': 'app'}})")


@pytest.fixture(scope="module")
def stack() -> Iterator[local_stack.StackStatus]:
    yield from database_stack(STACK)


def test_the_app_user_without_create_is_refused_then_granted_and_released(stack: local_stack.StackStatus) -> None:
    live = status()["live"]
    assert live and psql(f"select has_schema_privilege('{ROLE}', 'public', 'CREATE')", "app") == "t"

    # DigitalOcean's shape.
    password = secrets.token_hex(12)
    web_ip = sh(WEB, "ip -4 -o addr show host0 | awk '{print $4}' | cut -d/ -f1")
    psql(f"CREATE ROLE doadmin LOGIN CREATEDB CREATEROLE PASSWORD '{password}'")
    psql("ALTER DATABASE app OWNER TO doadmin")
    psql(f"REVOKE CREATE ON SCHEMA public FROM {ROLE}", "app")  # the agent's own grant (roles.py) undone
    sh(DB, f"echo 'host app doadmin {web_ip}/32 scram-sha-256' >> /etc/postgresql/15/main/pg_hba.conf && "
           "systemctl reload postgresql")
    assert psql(f"select has_schema_privilege('{ROLE}', 'public', 'CREATE')", "app") == "f"

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
    assert psql(f"select has_schema_privilege('{ROLE}', 'public', 'CREATE')", "app") == "t"

    slot = status()["slot"]
    released = machine.run(WEB, ["/usr/local/sbin/launchpad-agent", "deploy", live], check=False)
    assert released.returncode == 0, released.stderr[-2000:]
    assert status()["live"] == live and status()["slot"] != slot, "the same release, rolled onto the other slot"
    journal = sh(WEB, "journalctl -u launchpad-agent.service -o cat --no-pager") + released.stderr
    assert "database writable by the app's user" in journal
