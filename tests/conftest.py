"""Shared fixtures. The Pulumi mocks live in tests/pulumi_mocks.py, importable by name from
every test folder (a second `conftest` module, as in tests/policy, would shadow this one)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from facts import FACTS
from pulumi_mocks import Program, run_program


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FACTS:
        terminalreporter.section("measured")
        for line in FACTS:
            terminalreporter.write_line(line)


@pytest.fixture
def run() -> Callable[..., Program]:
    """Runs a function as a Pulumi program under mocks: `run(fn, stack=..., config=...)` -> Program."""
    return run_program
