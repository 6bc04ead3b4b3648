"""What the e2e tests on a local stack with a PostgreSQL machine share (test_database_grants,
test_database_rotation): the stack booted with a database under its own name, a shell and psql
inside its machines, and the release agent's status on the web machine.

Each test module binds these to its own stack (`functools.partial` with its machine names), so
the modules run beside each other and beside the other e2e stacks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.settings import validate


def machines(stack: str) -> tuple[str, str]:
    """(web machine, database machine) of a single-host local stack."""
    web = local_stack.web_name(stack)
    return web, f"{web}-db"


def sh(name: str, cmd: str, input: str | None = None) -> str:
    return machine.run(name, ["sh", "-c", cmd], input=input).stdout.strip()


def psql(db_machine: str, sql: str, db: str = "postgres") -> str:
    return machine.run(db_machine, ["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-d", db,
                                    "-Atc", sql]).stdout.strip()


STATUS = "/var/lib/launchpad/release/status.json"


def release_status(web: str) -> dict:
    return json.loads(sh(web, f"cat {STATUS}"))


def database_stack(stack: str) -> Iterator[local_stack.StackStatus]:
    """For a module-scoped fixture (`yield from`): the stack up with a database, down afterwards."""
    settings = validate({"launchpad:provider": "local", "launchpad:domain": "rocket.test", "launchpad:rateLimit": 0,
                         "launchpad:database": {"enabled": True}}, stack)
    up = local_stack.up(settings, progress=print)
    try:
        # `up` returns once Nginx serves the release; the agent records it in status.json a moment later.
        web, _ = machines(stack)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not machine.run(web, ["sh", "-c", f"grep -q '\"live\": \"' {STATUS}"],
                                                              check=False).returncode == 0:
            time.sleep(0.2)
        yield up
    finally:
        local_stack.down(stack, progress=print)
