"""Fixtures that boot real local machines (debootstrap + systemd-nspawn + cloud-init).

These tests need root and the host tools; where the machine lacks them, they are
skipped with the missing capability named (tests/conftest.py, for every `e2e` test).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from facts import fact
from launchpad.local import stack as local_stack
from launchpad.settings import Settings, validate

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "launchpad.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def dev_stack() -> Iterator[local_stack.StackStatus]:
    """The README's first command: the dev stack, through the CLI."""
    started = time.monotonic()
    out = cli("local", "up", "--stack", "dev")
    print(out.stdout, out.stderr)
    assert out.returncode == 0, out.stderr[-4000:]
    fact(f"README first command (launchpad local up --stack dev): ready in {time.monotonic() - started:.1f} s")
    status = local_stack.status(validate({"launchpad:provider": "local"}, "dev"))
    yield status
    cli("local", "down", "--stack", "dev")


E2E_CONFIG = {
    "launchpad:provider": "local",
    "launchpad:domain": "rocket.test",
    "launchpad:rateLimit": 50,
    "launchpad:database": {"enabled": True},
}


@pytest.fixture(scope="session")
def e2e_settings() -> Settings:
    return validate(E2E_CONFIG, "e2e")


@pytest.fixture(scope="session")
def e2e_stack(e2e_settings: Settings) -> Iterator[local_stack.StackStatus]:
    """A stack with a domain and a database, for the proxy, database and fault tests."""
    started = time.monotonic()
    status = local_stack.up(e2e_settings, progress=print)
    fact(f"e2e stack (web + PostgreSQL machines) ready in {time.monotonic() - started:.1f} s")
    yield status
    local_stack.down("e2e", progress=print)
