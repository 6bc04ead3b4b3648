"""Validation of the release keys: `app.secrets` (the one place a Pulumi secret is taken),
the app factory syntax of `app.module`, and `release`, `healthPath`, `static`, `writable`.

Secrets arrive in one of two forms. From `Pulumi.<stack>.yaml` (the CLI), each is
`{"secure": "v1:..."}`, which only Pulumi can decrypt: it becomes the placeholder MASKED and
the value must come from `LAUNCHPAD_SECRET_<NAME>` (launchpad/release/publish.py). From the
running program, values are decrypted and the config key `launchpad:app` is marked secret as a
whole, so the stack file says which paths were encrypted (`secure_paths`): any plain value in
`app.secrets`, and any secret anywhere else, is refused.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from launchpad.safety.config_keys import ENV_NAME, reserved_env
from launchpad.settings.errors import Problem

MASKED = "**********"
"""pydantic's rendering of a SecretStr: a secret whose value this process does not hold."""
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# gunicorn's forms: `module:variable` and `module:factory(literal args)`; the argument text
# has no shell, systemd or YAML metacharacters ($ ` ; \ % newline), and is checked with ast below.
MODULE = re.compile(rf"{_IDENT}(?:\.{_IDENT})*:{_IDENT}(?:\((?P<args>[A-Za-z0-9_.,=:+\- '\"]*)\))?")
HEALTH_PATH = re.compile(r"/[A-Za-z0-9._~/-]*(?:\?[A-Za-z0-9._~=&-]*)?")
URL_PREFIX = re.compile(r"/(?:[A-Za-z0-9._~-]+/)*")
FOLDER = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*/?")


def set_secret_hint(name: str) -> str:
    return f"pulumi config set --secret --path 'launchpad:app.secrets.{name}' <value>"


def _is_secure(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def secure_paths_in(node: Any, path: str = "") -> list[str]:
    """Dotted key paths of every `{"secure": ...}` value under `node` (a stack file's raw config)."""
    if _is_secure(node):
        return [path]
    if isinstance(node, Mapping):
        return [p for k, v in node.items() for p in secure_paths_in(v, f"{path}.{k}" if path else str(k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in secure_paths_in(v, f"{path}[{i}]")]
    return []


def take_secrets(ours: dict[str, Any], secret_keys: frozenset[str], secure_paths: frozenset[str] | None,
                 namespace: str) -> list[Problem]:
    """Refuses secrets outside `app.secrets` and plain values inside it; masks encrypted values
    in place (`ours` is the raw config without namespace). `secure_paths`: from the stack file,
    when the program reads decrypted config (None: no stack file, trust the secret marking)."""
    problems: list[Problem] = _take_top_secrets(ours, secret_keys, secure_paths, namespace)
    app = ours.get("app")
    from_file = secure_paths_in(ours)
    for path in from_file:
        if not path.startswith("app.secrets.") or path.count(".") != 2:
            problems.append(Problem(path, "is a secret, but only app.secrets.<NAME> takes secrets; "
                                          "the database password is generated and delivered out of band"))
            _drop_path(ours, path)  # reported once, not again as a type error
    for key in ours:
        if f"{namespace}:{key}" in secret_keys and key not in ("app", *TOP_SECRETS):
            problems.append(Problem(key, "is a secret, but only app.secrets.<NAME> takes secrets"))
    if secure_paths is not None:
        for path in sorted(secure_paths - set(TOP_SECRETS)):
            if not path.startswith("app.secrets.") or path.count(".") != 2:
                problems.append(Problem(path, "is a secret, but only app.secrets.<NAME> takes secrets"))
    secrets = app.get("secrets") if isinstance(app, dict) else None
    if not isinstance(secrets, dict):
        return problems
    app_secret = f"{namespace}:app" in secret_keys
    for name, value in list(secrets.items()):
        if _is_secure(value):
            secrets[name] = MASKED
            continue
        encrypted = (f"app.secrets.{name}" in secure_paths) if secure_paths is not None else app_secret
        if not encrypted:
            problems.append(Problem(f"app.secrets.{name}", f"is stored in plain text; set it with `{set_secret_hint(name)}`"))
    return problems


TOP_SECRETS = ("dnsToken",)
"""Top-level keys that take a Pulumi secret (settings/tls.py: DigitalOcean's DNS-01 token)."""


def _take_top_secrets(ours: dict[str, Any], secret_keys: frozenset[str], secure_paths: frozenset[str] | None,
                      namespace: str) -> list[Problem]:
    """A TOP_SECRETS key must be a secret; its value is masked (the stack reads it from Pulumi's config)."""
    problems = []
    for key in TOP_SECRETS:
        if key not in ours:
            continue
        secret = (_is_secure(ours[key]) or f"{namespace}:{key}" in secret_keys
                  or (secure_paths is not None and key in secure_paths))
        if not secret:
            problems.append(Problem(key, f"is stored in plain text; set it with `pulumi config set --secret {namespace}:{key} <value>`"))
        ours[key] = MASKED
    return problems


def _drop_path(data: dict[str, Any], path: str) -> None:
    parts = re.split(r"\.|\[(\d+)\]", path)
    keys = [p for p in parts if p]
    node: Any = data
    for part in keys[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(keys[-1], None)


def check_release(app: Any, env: Mapping[str, str], database_enabled: bool, app_path: Any) -> list[Problem]:
    """The release keys of a validated AppSettings."""
    p: list[Problem] = []
    match = MODULE.fullmatch(app.module)
    if not match:
        p.append(Problem("app.module", f"{app.module!r} is not a WSGI entry point; expected 'module:variable' like "
                                       "'rocket:app', or a factory like 'journal:create_app()'"))
    elif match.group("args") is not None and (why := _factory_problem(app.module)):
        p.append(Problem("app.module", f"{app.module!r}: {why}; gunicorn takes literal arguments only, like 'app:create_app(\"prod\")'"))
    for name in app.secrets:
        key = f"app.secrets.{name}"
        if not ENV_NAME.fullmatch(name):
            p.append(Problem(key, f"{name!r} is not an environment variable name; expected like SECRET_KEY"))
        elif why := reserved_env(name):
            p.append(Problem(key, f"{name!r} cannot be set here: {why}"))
        elif name in env:
            p.append(Problem(key, f"{name!r} is also in app.env; keep it in one place (here, as a secret)"))
        elif name == "DATABASE_URL" and database_enabled:
            p.append(Problem(key, "Launchpad sets DATABASE_URL itself with database.enabled; remove it"))
    if app.release is not None and (not app.release.strip() or any(ord(c) < 0x20 and c != "\t" for c in app.release)):
        p.append(Problem("app.release", f"{app.release!r}: expected one shell command line, like 'flask db upgrade'"))
    if app.health_path is not None and not HEALTH_PATH.fullmatch(app.health_path):
        p.append(Problem("app.healthPath", f"{app.health_path!r} is not a URL path; expected like /healthz"))
    for prefix, folder in (app.static or {}).items():
        key = f"app.static.{prefix}"
        if not URL_PREFIX.fullmatch(prefix if prefix.endswith("/") else prefix + "/"):
            p.append(Problem(key, f"{prefix!r} is not a URL prefix; expected like /static/ or /assets/"))
        elif (why := _folder_problem(folder)) is not None:
            p.append(Problem(key, f"{folder!r}: {why}"))
        elif app_path.is_dir() and not (app_path / folder).is_dir():
            p.append(Problem(key, f"{folder!r} is not a folder in the app ({app_path / folder})"))
    for i, folder in enumerate(app.writable):
        if (why := _folder_problem(folder)) is not None:
            p.append(Problem(f"app.writable[{i}]", f"{folder!r}: {why}"))
        elif folder.rstrip("/") == "instance":
            p.append(Problem(f"app.writable[{i}]", "'instance' is always writable (Flask's instance folder); remove it"))
    return p


def _folder_problem(folder: str) -> str | None:
    if not FOLDER.fullmatch(folder) or any(part in ("..", ".") for part in PurePosixPath(folder).parts):
        return "expected a folder inside the app, relative, like 'uploads' or 'myapp/static' (no '..', no leading '/')"
    return None


def _factory_problem(module: str) -> str | None:
    call = module.split(":", 1)[1]
    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError as err:
        return f"the factory call does not parse ({err.msg})"
    if not isinstance(node, ast.Call):
        return "expected a call like create_app()"
    try:
        for arg in node.args:
            ast.literal_eval(arg)
        for kw in node.keywords:
            if kw.arg is None:
                return "**kwargs is not a literal argument"
            ast.literal_eval(kw.value)
    except ValueError:
        return "an argument is not a literal (string, number, True/False/None)"
    return None
