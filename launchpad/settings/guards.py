"""The input-safety checks of validation (issue 13): what makes a value safe to render.

checks.py calls these beside its provider and cross-field rules; the rules themselves live
in launchpad/safety/ (shared with the renderer and the policy pack). Every pattern here is
applied with re.fullmatch: a `$`-anchored match admits a trailing newline (YAML's `|` adds
one), which then breaks out of the line it is rendered into.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from launchpad.safety import cidr, escape, names
from launchpad.safety.config_keys import ENV_NAME, NAMESPACE, namespace_typo, provider_credential, reserved_env
from launchpad.safety.secrets import secret_name, secret_value
from launchpad.settings.errors import Problem

# Full-match allow-lists (no ^/$: see above). tests/test_template_escaping.py lists which
# rendered values rely on which of these instead of an escaping filter.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z)(?:{_LABEL}\.)+[a-z]{{2,63}}")
# A deliberately narrow email: what ACME contact addresses look like, nothing a shell, YAML or
# nginx treats specially (RFC 5322 would admit `$(id)` and backticks in the local part).
EMAIL = re.compile(r"[A-Za-z0-9_+-](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9_+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
# https, a host name or IPv4 address, an optional port, a plain path and query: no userinfo,
# no fragment, no quotes, spaces, `$`, `;` or backslashes.
ACME_SERVER = re.compile(rf"https://(?:{_LABEL}(?:\.{_LABEL})*|[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}})(?::[0-9]{{1,5}})?"
                         r"(?:/[A-Za-z0-9._~/-]*)?(?:\?[A-Za-z0-9._~=&-]*)?")
APP_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
DB_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")
DB_RESERVED = frozenset({"postgres", "rdsadmin", "admin", "template0", "template1", "root", "launchpad"})
SSH_KEY = re.compile(r"(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com) "
                     r"[A-Za-z0-9+/]+={0,3}(?: [^\x00-\x1f\x7f\u2028\u2029\x85]*)?")


def stack_name(stack: str) -> list[Problem]:
    if STACK_NAME.fullmatch(stack):
        return []
    return [Problem(f"Pulumi.{stack!r}", "is not a stack name Pulumi accepts; expected letters, digits, '_', '.', '-'")]


def config_keys(raw: Mapping[str, Any], plain_secret_keys: tuple[str, ...], secret_keys: frozenset[str]) -> list[Problem]:
    """Keys that would be silently ignored (a typo'd namespace) or that hold a credential in plain text."""
    problems = []
    for key, value in raw.items():
        namespace, _, name = key.rpartition(":")
        if namespace and namespace_typo(namespace):
            problems.append(Problem(key, f"namespace {namespace!r} is not '{NAMESPACE}', so the key would be ignored "
                                         f"(and with it, say, production protection); write '{NAMESPACE}:{name}'"))
            continue
        credential = key in plain_secret_keys or provider_credential(key)
        flag_like = isinstance(value, (bool, int)) or str(value).lower() in ("true", "false", "")
        if credential and not flag_like and key not in secret_keys and not _is_secure(value):
            problems.append(Problem(key, f"is stored in plain text; set it with `pulumi config set --secret {key}` "
                                         "(or the provider's environment variable)"))
    return problems


def _is_secure(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def app_name(name: str, key: str, module: str | None = None) -> list[Problem]:
    """`key` is app.name, or app.module when the name is derived from it."""
    if not APP_NAME.fullmatch(name):
        if module is not None:
            return [Problem(key, f"{module!r} gives no usable unix name ({name!r}); set app.name")]
        return [Problem(key, f"{name!r} is not a unix name; expected lowercase letters, digits and '-', starting with a letter, at most 31")]
    why = names.reserved(name)
    if why is None:
        return []
    hint = "; set app.name to another name" if module is not None else ""
    return [Problem(key, f"{name!r} is {why}; choose another name, like '{name}-app' or your project's name{hint}")]


def env(variables: Mapping[str, str], database_enabled: bool, key: str = "app.env") -> list[Problem]:
    """Plain environment variables: a usable name, not reserved, nothing secret by name or value,
    representable in a systemd unit and an EnvironmentFile."""
    problems = []
    for name, value in variables.items():
        k = f"{key}.{name}"
        if not ENV_NAME.fullmatch(name):
            problems.append(Problem(k, f"{name!r} is not an environment variable name; expected like DEBUG_LEVEL "
                                       "(uppercase letters, digits, '_', at most 128)"))
            continue
        if why := reserved_env(name):
            problems.append(Problem(k, f"{name!r} cannot be set here: {why}"))
            continue
        if name == "DATABASE_URL" and database_enabled:
            problems.append(Problem(k, "Launchpad sets DATABASE_URL itself with database.enabled; remove it"))
            continue
        if word := secret_name(name):
            problems.append(Problem(k, f"{name!r} looks like a secret (the word {word}); plain env values land in "
                                       "user-data and release manifests, so put it in app.secrets (a Pulumi secret)"))
            continue
        if not isinstance(value, str):
            continue  # pydantic reports the type
        if what := secret_value(value):
            problems.append(Problem(k, f"the value looks like {what}; plain env values land in user-data and release "
                                       "manifests, so put it in app.secrets (a Pulumi secret); a false alarm costs nothing there"))
            continue
        try:
            escape.systemd(value)
            escape.envfile(value)
        except escape.Unrepresentable as err:
            problems.append(Problem(k, f"cannot be passed to the app: {err}"))
            continue
        # The release agent writes env files and refuses these (files/agent/launchpad_agent/rules.py).
        bad = [ch for ch in value if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F or ch == "\ufeff"]
        if bad:
            problems.append(Problem(k, f"holds the control character {bad[0]!r}; valid: printable text and newlines"))
    return problems


def admin_cidrs(cidrs: list[str]) -> list[Problem]:
    """Each entry a strict network; no entry, and not all of them together, may cover (nearly)
    the whole internet (launchpad/safety/cidr.py: address space per family, not prefix length)."""
    problems = []
    nets = []
    for i, text in enumerate(cidrs):
        try:
            net = cidr.parse_network(text)
        except ValueError as err:
            problems.append(Problem(f"adminCidrs[{i}]", f"{text!r} is not a CIDR ({err}); expected like 203.0.113.7/32"))
            continue
        nets.append(net)
        if why := cidr.too_broad([net]):
            scope = "the whole internet" if net.prefixlen == 0 else "nearly the whole internet"
            problems.append(Problem(f"adminCidrs[{i}]", f"{text!r} opens SSH to {scope}; give your own address, "
                                                        f"like 203.0.113.7/32 ({why})"))
    if not problems and (why := cidr.too_broad(nets)):
        problems.append(Problem("adminCidrs", f"{[str(n) for n in nets]} together open SSH to nearly the whole internet: "
                                              f"{why}; give your own addresses, like 203.0.113.7/32"))
    return problems
