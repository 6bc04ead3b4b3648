"""Checks for a platform provider (Heroku, issue 15): keys that mean nothing there, and state
that would not survive.

Each rule is a lookup in the provider's PlatformProfile (launchpad/providers.py), not a
branch on its name:
- a key in `unused_keys` that the stack sets is refused with the platform's reason
  (`adminCidrs`, `sshKeys`: no SSH into dynos; `email`, `acmeServer`: the platform's own
  certificates; `app.static`: no Nginx; ...). Region, size and database plan are checked
  by the profile's regions and size rules like on any provider.
- an env or secret name the platform sets itself (`PORT`, `DYNO`) is refused;
- with an ephemeral disk, an app that uses SQLite without `database.enabled` is refused:
  its database file would vanish at the next deploy or restart (the first use found is
  named, file and line).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from launchpad.settings.errors import Problem
from launchpad.settings.scaling import sqlite_use

if TYPE_CHECKING:
    from launchpad.settings.model import Settings


def _set_value(model: BaseModel, path: str) -> tuple[bool, Any]:
    """Whether the stack file set `path` (camelCase, dotted), and the value it set."""
    node: Any = model
    for part in path.split("."):
        if not isinstance(node, BaseModel):
            return False, None
        fields = type(node).model_fields
        name = next((n for n, f in fields.items() if n == part or f.alias == part), None)
        if name is None or name not in node.model_fields_set:
            return False, None
        node = getattr(node, name)
    return True, node


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value.model_dump(by_alias=True)) if isinstance(value, BaseModel) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_platform(s: Settings) -> list[Problem]:
    platform = s.profile.platform
    if platform is None:
        return []
    p: list[Problem] = []
    for key, why in platform.unused_keys.items():
        given, value = _set_value(s, key)
        if given:
            p.append(Problem(key, f"{_shown(value)} has no meaning on {s.profile.title}: {why}; remove the key"))
    for where, names in (("app.env", s.app.env), ("app.secrets", s.app.secrets)):
        for name in names:
            if name in platform.reserved_env:
                p.append(Problem(f"{where}.{name}", f"{name!r} cannot be set on {s.profile.title}: {platform.reserved_env[name]}"))
    if platform.ephemeral_disk and not s.database.enabled and (use := sqlite_use(s.app_path)) is not None:
        rel, line, text = use
        p.append(Problem("database.enabled", f"false, and the app uses SQLite ({rel}:{line}: {text!r}): on {s.profile.title} "
                                             f"{platform.ephemeral_disk}, so the database file would be lost; set "
                                             "database.enabled: true (PostgreSQL, which survives)"))
    return p
