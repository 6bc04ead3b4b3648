"""End to end, the way `pulumi up` runs the local provider: the command components/local/host.py
registers (read from the program under mocks), run for real with its stdin, environment and folder.

The stack has no Pulumi.<stack>.yaml: what boots comes only from what the program handed over.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from facts import fact
from machine_leftovers import leftovers
from pulumi_mocks import DB_PASSWORD

from launchpad import wait
from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.settings import stack_file, validate
from stacks import local as local_provider

from .test_e2e import _missing_capability

STACK = "hostcmd"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(_missing_capability() is not None, reason=str(_missing_capability())),
]


def _shell(command: str, inputs: dict, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """As pulumi-command runs it: `sh -c`, in `dir`, with `environment` added to ours."""
    return subprocess.run(command, shell=True, cwd=inputs["dir"], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(inputs.get("environment") or {})}, timeout=1200)


def test_the_registered_command_boots_what_the_program_rendered(run) -> None:
    assert not stack_file(STACK).exists()
    settings = validate({"launchpad:provider": "local", "launchpad:domain": "rocket.test",
                         "launchpad:database": {"enabled": True}}, STACK)
    program = run(lambda: local_provider.build(settings), stack=STACK)
    commands = {c.name: c.inputs for c in program.of_type("command:local:Command")}
    inputs, release = commands["web-machine"], commands["web-release"]
    web = local_stack.web_name(STACK)
    local_stack.down(STACK, progress=print)  # a leftover from an interrupted run
    started = time.monotonic()
    try:
        done = _shell(inputs["create"], inputs, stdin=inputs["stdin"])
        assert done.returncode == 0, done.stderr[-4000:]
        fact(f"LocalHost command (web + PostgreSQL, as pulumi up runs it): ready in {time.monotonic() - started:.1f} s")
        status = json.loads(done.stdout)
        assert status["state"] == "running" and status["host_header"] == "rocket.test" and status["database_address"]
        captured = machine.status(web)
        assert captured is not None
        # The user-data the program rendered is the one cloud-init ran.
        seeded = machine.run(web, ["cat", "/var/lib/cloud/instance/user-data.txt"]).stdout
        assert seeded == json.loads(inputs["stdin"])["user_data"]
        # The password pulumi-random made reached the database machine, and the app reaches the database.
        assert machine.run(local_stack.db_name(STACK), ["cat", "/etc/launchpad/db-password"]).stdout == DB_PASSWORD
        # The machine is the bootstrap only; the app arrives with the release step pulumi up runs next.
        rolled = _shell(release["create"], release, stdin=release["stdin"])
        assert rolled.returncode == 0, rolled.stderr[-4000:]
        wait.until_healthy(f"http://{status['address']}/healthz", "rocket.test", database=True, timeout=60, interval=0.5,
                           release=json.loads(rolled.stdout)["release"])
    finally:
        gone = _shell(inputs["delete"], inputs)
    assert gone.returncode == 0, gone.stderr
    assert leftovers(captured) == []
