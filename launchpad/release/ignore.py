"""What never ships in a release artifact, and the app's own `.launchpadignore`.

Two layers, checked in this order:
1. Always excluded (`ALWAYS`): version control, virtualenvs, caches, `.env` files, Flask's
   `instance/` folder (the host keeps that in the app's state directory) and private keys.
   A `.launchpadignore` cannot bring these back: a `!.env` line is ignored, since shipping
   a secret by accident is worse than having to rename a file.
2. `.launchpadignore` at the app's root, gitignore-style: `#` comments, blank lines,
   `*`, `?`, `[...]`, `**` (`**/x`, `x/**`, `a/**/b`), a trailing `/` for folders only, a
   leading or inner `/` anchors to the app root, `!pattern` re-includes (the last match
   wins; as in git, a file inside an excluded folder cannot be re-included).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILE = ".launchpadignore"

ALWAYS_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "instance", ".launchpad",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox",
})
ALWAYS_FILES = (
    ".env", ".env.*", "*.pyc", "*.pyo", "*.pem", "*.key", "id_rsa*", "id_ed25519*", "id_ecdsa*", "id_dsa*",
    ".DS_Store", IGNORE_FILE,
)


def always_excluded(name: str, is_dir: bool) -> bool:
    """True when a file or folder of this base name never ships, whatever the ignore file says."""
    if is_dir:
        return name in ALWAYS_DIRS
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in ALWAYS_FILES)


@dataclass(frozen=True)
class Rule:
    pattern: str
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _translate(glob: str) -> str:
    """A gitignore glob (without `!`, trailing `/`) as a regex over a relative posix path."""
    anchored = "/" in glob.rstrip("/")
    glob = glob.lstrip("/")
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(re.escape("["))
                i += 1
                continue
            body = glob[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif glob[i] == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(glob[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return "^" + prefix + "".join(out) + "$"


def parse(lines: Iterable[str]) -> list[Rule]:
    rules = []
    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        # Trailing spaces are dropped unless escaped, as in git.
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        if line.startswith("\\#") or line.startswith("\\!"):
            line = line[1:]
        dir_only = line.endswith("/")
        body = line.rstrip("/")
        if not body:
            continue
        rules.append(Rule(raw.strip(), re.compile(_translate(body)), negate, dir_only))
    return rules


class Ignore:
    """The exclusion decision for one app folder."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules

    @classmethod
    def for_app(cls, root: Path) -> Ignore:
        path = root / IGNORE_FILE
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        return cls(parse(lines))

    def excluded(self, rel: str, is_dir: bool) -> bool:
        """`rel`: posix path relative to the app root. Its parent folders are assumed included
        (the walk prunes excluded folders before looking inside them)."""
        if always_excluded(rel.rsplit("/", 1)[-1], is_dir):
            return True
        verdict = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(rel):
                verdict = not rule.negate
        return verdict
