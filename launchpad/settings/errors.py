"""How a bad configuration is reported: every problem with its key path, raised once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from launchpad.settings.model import NAMESPACE


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        # Config keys get their namespace; provider keys and file names stand as they are.
        plain = ":" in self.key or self.key.startswith("Pulumi.")
        return f"{self.key}: {self.message}" if plain else f"{NAMESPACE}:{self.key}: {self.message}"


class ConfigError(ValueError):
    """Every problem in one stack's configuration, reported at once."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"Stack '{stack}' configuration has {len(problems)} {noun}:\n{lines}")


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
