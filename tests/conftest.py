"""Shared fixtures. The Pulumi mocks live in tests/pulumi_mocks.py, importable by name from
every test folder (a second `conftest` module, as in tests/policy, would shadow this one)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest

from facts import FACTS
from pulumi_mocks import Program, run_program


def missing_for_e2e() -> list[str]:
    """What a machine lacks to boot a local machine (marker `e2e`): root and the host tools."""
    missing = [] if os.geteuid() == 0 else ["root"]
    missing += [tool for tool in ("systemd-nspawn", "debootstrap", "nsenter", "nft", "ip") if shutil.which(tool) is None]
    return missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Here, not in tests/e2e/conftest.py: e2e tests live in other folders too (tests/agent),
    # and a run of only those folders must skip them as well (a hosted runner is not root).
    missing = missing_for_e2e()
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"boots a local machine; this machine lacks: {', '.join(missing)}")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FACTS:
        terminalreporter.section("measured")
        for line in FACTS:
            terminalreporter.write_line(line)


@pytest.fixture
def run() -> Callable[..., Program]:
    """Runs a function as a Pulumi program under mocks: `run(fn, stack=..., config=...)` -> Program."""
    return run_program
