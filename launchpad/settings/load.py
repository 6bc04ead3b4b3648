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
    data = yaml.safe_load(path.read_text()) or {}
    raw = data.get("config") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(stack, [Problem("config", f"{path.name}: 'config' must be a mapping of keys to values")])
    return validate(raw, stack)
