"""Where the raw config comes from: the running Pulumi program, or `Pulumi.<stack>.yaml`.

Both entry points hand the raw keys to the same validate(), so the `launchpad`
command sees exactly what `pulumi up` would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from launchpad.settings.checks import validate
from launchpad.settings.errors import ConfigError, Problem, suggest
from launchpad.settings.model import NAMESPACE, PROJECT_ROOT, Settings
from launchpad.settings.release_keys import secure_paths_in


def _decode(value: Any) -> Any:
    """Pulumi hands the program every value as a string; structured ones are JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def load_from_pulumi() -> Settings:
    """Reads the running Pulumi program's config (all of it, to catch unknown keys)."""
    import pulumi
    from pulumi.runtime import config as rc

    merged = {**rc.get_config_env(), **rc.CONFIG.get()}
    secrets = frozenset(k for k in merged if rc.is_config_secret(k)) | frozenset(rc.get_config_secret_keys_env())
    # All of it: validate() also refuses typo'd namespaces and plain provider credentials.
    raw = {k: _decode(v) for k, v in merged.items()}
    return validate(raw, pulumi.get_stack(), secrets, _secure_paths(pulumi.get_stack()))


def _secure_paths(stack: str, root: Path = PROJECT_ROOT) -> frozenset[str] | None:
    """Which `launchpad:` values the stack file encrypts (`app.secrets.NAME`...): the program sees
    them decrypted, with only the top-level key marked secret. None without a stack file."""
    path = stack_file(stack, root)
    if not path.is_file():
        return None
    raw = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return frozenset(f"{key.split(':', 1)[1]}{'.' + sub if sub else ''}"
                     for key, value in raw.items() if key.startswith(f"{NAMESPACE}:")
                     for sub in secure_paths_in(value))


def stack_file(stack: str, root: Path = PROJECT_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def load_from_file(stack: str, root: Path = PROJECT_ROOT) -> Settings:
    """Reads `Pulumi.<stack>.yaml` the way Pulumi would hand it to the program."""
    path = stack_file(stack, root)
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise ConfigError(stack, [Problem(path.name, f"no such file for stack {stack!r}{suggest(stack, known)}; stacks here: {', '.join(known) or 'none'}")])
    data = _parse(stack, path) or {}
    if not isinstance(data, Mapping):
        raise ConfigError(stack, [Problem(path.name, f"must be a mapping with a 'config' key, not a {type(data).__name__}")])
    raw = data.get("config") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(stack, [Problem("config", f"{path.name}: 'config' must be a mapping of keys to values")])
    return validate(raw, stack)


def _parse(stack: str, path: Path) -> Any:
    """The stack file's YAML; a syntax error becomes one problem at `file:line:column`, with the line shown."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = data.count(b"\n", 0, err.start), err.start - (data.rfind(b"\n", 0, err.start) + 1)
        where = f"{path.name}:{line + 1}:{column + 1}"
        raise ConfigError(stack, [Problem(where, f"is not UTF-8 text: byte {data[err.start]:#04x} ({err.reason}); "
                                                 "save the file as UTF-8")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        lines = text.splitlines()
        mark, what = err.problem_mark or err.context_mark, err.problem or err.context or "not valid YAML"
        if err.context and err.problem:
            started = err.context_mark
            if started is not None and (mark is None or mark.line >= len(lines) or not lines[mark.line].strip()):
                # Ran off the end (an unclosed quote or bracket): point where it opened.
                mark, what = started, f"{err.problem} ({err.context} that starts here)"
            else:
                what += f" ({err.context})"
        if mark is None:
            raise ConfigError(stack, [Problem(path.name, f"not valid YAML: {what}")]) from None
        raise ConfigError(stack, [_at(path, lines, mark.line, mark.column, f"not valid YAML: {what}")]) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow: no mark, a position
        before = text[:err.position]
        line, column = before.count("\n"), err.position - (before.rfind("\n") + 1)
        code = err.character if isinstance(err.character, int) else ord(err.character)
        what = f"not valid YAML: character #x{code:04x} is not allowed ({err.reason}); remove it or write it as an escape in double quotes"
        raise ConfigError(stack, [_at(path, text.splitlines(), line, column, what)]) from None


def _at(path: Path, lines: list[str], line: int, column: int, message: str) -> Problem:
    """A problem at `file:line:column` (1-based, as editors count), with that line and a caret under the column."""
    shown = lines[line] if line < len(lines) else ""
    return Problem(f"{path.name}:{line + 1}:{column + 1}", f"{message}\n      {shown}\n      {' ' * column}^")
