"""Measurements the tests report (request counts, recovery times, boot times).

pytest hides what passing tests print; `fact()` keeps each line for the run's
summary (see `pytest_terminal_summary` in tests/conftest.py), so CI output shows them.
"""

from __future__ import annotations

FACTS: list[str] = []


def fact(line: str) -> str:
    print(line)
    FACTS.append(line)
    return line
