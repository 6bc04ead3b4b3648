"""Validation: raw stack config in, Settings out, or every problem at once.

Pydantic checks each field's type; the checks here add what it cannot express:
provider rules and cross-field rules. Each problem names its key path, the bad
value and what would be valid.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from launchpad.settings import guards
from launchpad.settings.errors import ConfigError, Problem, suggest
from launchpad.settings.guards import APP_NAME, DB_NAME, DB_RESERVED, EMAIL, HOSTNAME, SSH_KEY, STACK_NAME  # noqa: F401
from launchpad.providers import PROFILES, PROVIDERS
from launchpad.settings.model import NAMESPACE, AppSettings, AutoscaleSettings, DatabaseSettings, Settings
from launchpad.settings.release_keys import MODULE, check_release, take_secrets
from launchpad.settings.platform import check_platform
from launchpad.settings.scaling import check_hosts
from launchpad.settings.tls import check_host_tls

# Applied with re.fullmatch, never match/search: a `$` anchor admits a trailing newline.
# The other allow-lists (HOSTNAME, EMAIL, APP_NAME, ...) live in guards.py with the input-safety
# checks; MODULE (with gunicorn's factory form) in release_keys.py with the other release keys.

# Provider credentials that must never sit in plain text in a stack file.
PROVIDER_SECRET_KEYS: tuple[str, ...] = tuple(key for p in PROFILES.values() for key in p.credential_keys)


def _fields(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items() if not f.exclude]


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = e["loc"]
        key = _key_path(loc)
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            parent: type[BaseModel] = Settings
            if len(loc) > 1 and loc[0] == "app":
                parent = AppSettings
            elif len(loc) > 1 and loc[0] == "database":
                parent = DatabaseSettings
            elif len(loc) > 1 and loc[0] == "autoscale":
                parent = AutoscaleSettings
            valid = _fields(parent)
            problems.append(Problem(key, f"unknown key{suggest(str(loc[-1]), valid)}; valid keys here: {', '.join(valid)}"))
        elif loc == ("provider",):
            problems.append(Problem(key, f"{value!r} is not a provider{suggest(str(value), PROVIDERS)}; valid: {', '.join(PROVIDERS)}"))
        else:
            problems.append(Problem(key, f"{value!r}: {e['msg']}"))
    return problems


def _check(s: Settings) -> list[Problem]:
    """Cross-field and provider-specific rules pydantic's field types cannot express."""
    p: list[Problem] = []
    profile = s.profile
    if s.region is not None and s.region not in profile.regions:
        valid = profile.regions
        p.append(Problem("region", f"{s.region!r} is not a {s.provider} region{suggest(s.region, valid)}; valid: {', '.join(valid)}"))
    if s.size is not None and (problem := profile.size.problem(s.size, s.provider, "size")):
        p.append(Problem("size", problem))
    if s.domain is not None:
        if s.domain.startswith("www."):
            p.append(Problem("domain", f"{s.domain!r}: give the apex domain ({s.domain[4:]!r}); www. redirects to it"))
        elif not HOSTNAME.fullmatch(s.domain):
            p.append(Problem("domain", f"{s.domain!r} is not a valid domain name; expected like example.com"))
    if s.email is not None and not EMAIL.fullmatch(s.email):
        p.append(Problem("email", f"{s.email!r} is not an email address Launchpad accepts; expected like ops@example.com "
                                  "(letters, digits, '.', '_', '+', '-' before the @)"))
    if s.acme_server is not None and not guards.ACME_SERVER.fullmatch(s.acme_server):
        p.append(Problem("acmeServer", f"{s.acme_server!r} is not an ACME directory URL; expected https://host[:port]/path "
                                       "like https://acme-staging-v02.api.letsencrypt.org/directory (no credentials, quotes or spaces)"))
    if s.email is not None and s.domain is None:
        p.append(Problem("email", f"{s.email!r} is set but 'domain' is not; the email is only used for a certificate for the domain"))
    p += _check_app(s)
    p += _check_database(s)
    p += _check_ssh(s)
    p += check_hosts(s)
    p += check_host_tls(s)
    p += check_platform(s)
    return p


def _check_app(s: Settings) -> list[Problem]:
    p: list[Problem] = []
    app = s.app
    p += check_release(app, app.env, s.database.enabled, s.app_path)
    if app.name is not None:
        p += guards.app_name(app.name, "app.name")
    else:
        p += guards.app_name(app.unix_name, "app.module", module=app.module)
    p += guards.env(app.env, s.database.enabled)
    path = s.app_path
    if not path.is_dir():
        p.append(Problem("app.path", f"{str(app.path)!r} is not a folder (looked in {path}); point it at the folder holding your app"))
        return p
    if MODULE.fullmatch(app.module):
        module = app.module.split(":")[0].replace(".", "/")
        if not (path / f"{module}.py").is_file() and not (path / module / "__init__.py").is_file():
            p.append(Problem("app.module", f"{app.module!r}: no {module}.py or {module}/__init__.py in {path}"))
    # No size limit: the app ships as a release artifact from the stack's store, not in user-data.
    return p


def _check_database(s: Settings) -> list[Problem]:
    p: list[Problem] = []
    db = s.database
    offered = s.profile.database
    if db.version not in offered.versions:
        p.append(Problem("database.version", f"{db.version!r} is not offered on {s.provider}; valid: {', '.join(offered.versions)}"))
    if db.size is not None and (problem := offered.size.problem(db.size, s.provider, "database size")):
        p.append(Problem("database.size", problem))
    if problem := offered.backup_retention.problem(db.backup_retention_days):
        p.append(Problem("database.backupRetentionDays", problem))
    if not DB_NAME.fullmatch(db.name) or db.name in DB_RESERVED:
        p.append(Problem("database.name", f"{db.name!r} is not a usable database name; expected lowercase letters, digits, '_', not a reserved name"))
    return p


def _check_ssh(s: Settings) -> list[Problem]:
    p: list[Problem] = []
    p += guards.admin_cidrs(s.admin_cidrs)
    for i, key_text in enumerate(s.ssh_keys):
        if not SSH_KEY.fullmatch(key_text.strip()):
            p.append(Problem(f"sshKeys[{i}]", f"{key_text[:40]!r} is not an OpenSSH public key; expected 'ssh-ed25519 AAAA... comment'"))
    if s.admin_cidrs and not s.ssh_keys and s.profile.ssh_needs_key:
        p.append(Problem("sshKeys", "[] while adminCidrs opens SSH; password login is off, so add a public key"))
    return p


def validate(raw: Mapping[str, Any], stack: str, secret_keys: frozenset[str] = frozenset(),
             secure_paths: frozenset[str] | None = None) -> Settings:
    """Validates raw config (keys with or without the `launchpad:` prefix) into Settings.

    `secret_keys` names the config keys held as Pulumi secrets; plaintext values of
    provider credentials are refused. `secure_paths`: the `launchpad:` key paths the stack
    file encrypts (like `app.secrets.SECRET_KEY`), when the program reads decrypted config.
    """
    problems: list[Problem] = guards.stack_name(stack) + guards.config_keys(raw, PROVIDER_SECRET_KEYS, secret_keys)
    ours: dict[str, Any] = {}
    for key, value in raw.items():
        ns, _, name = key.rpartition(":")
        if ns in ("", NAMESPACE):
            ours[name] = value
    # Only app.secrets.<NAME> takes a secret; encrypted values the CLI cannot read become a placeholder.
    ours = copy.deepcopy(ours)
    problems += take_secrets(ours, secret_keys, secure_paths, NAMESPACE)
    data: dict[str, Any] = {**ours, "stack": stack}
    # Drop what pydantic rejects and validate again, so the cross-field checks
    # still run on the rest and every problem is reported in one go.
    settings: Settings | None = None
    for _ in range(10):
        try:
            settings = Settings.model_validate(data)
            break
        except ValidationError as err:
            problems += _pydantic_problems(err)
            for e in err.errors():
                _drop(data, e["loc"])
    if settings is not None:
        problems += _check(settings)
    if problems:
        raise ConfigError(stack, problems)
    assert settings is not None
    return settings


def _drop(data: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    """Removes the top-level or nested key a validation error points at."""
    node: Any = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return
    last = loc[-1]
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        # A bad list item: drop the whole list so indexes in messages stay true.
        data.pop(loc[0], None) if len(loc) == 2 and isinstance(loc[0], str) else None


def _is_secure(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}
