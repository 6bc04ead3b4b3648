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
from launchpad.settings.model import PROJECT_ROOT, Settings


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
    return validate(raw, pulumi.get_stack(), secrets)


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
