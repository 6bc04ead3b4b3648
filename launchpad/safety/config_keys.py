"""Rules about config keys themselves: typo'd namespaces, provider credentials, environment names.

- A key in a namespace that is a near miss of `launchpad` (`lauchpad:production`) would be
  dropped silently, turning production protection off: it is an error.
- A provider credential (`digitalocean:spacesSecretKey`, `aws:secretKey`, `cloudflare:apiToken`,
  ...) in plain text sits in the stack file and in git: refused unless it is a Pulumi secret.
- Some environment names change how the app's process itself runs (the dynamic loader,
  Python's start-up, systemd's socket hand-over) or are Launchpad's own: not settable.
"""

from __future__ import annotations

import re

from launchpad.safety.secrets import secret_name, words

NAMESPACE = "launchpad"

# Credentials the providers' Pulumi packages read, beyond what secret_name() finds by name.
PROVIDER_CREDENTIALS = frozenset({
    "aws:accessKey", "aws:secretKey", "aws:token", "aws:profile_credentials",
    "digitalocean:token", "digitalocean:spacesAccessId", "digitalocean:spacesSecretKey",
    "cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey",
    "github:token", "gcp:credentials", "gcp:accessToken", "azure:clientSecret", "azure-native:clientSecret",
    "hcloud:token", "linode:token", "vultr:apiKey",
})
# Provider keys whose names look secret but hold none.
NOT_CREDENTIALS = frozenset({"aws:sharedCredentialsFiles", "aws:sharedConfigFiles", "aws:skipCredentialsValidation",
                             "random:keepers"})


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count once: `launcphad`)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def namespace_typo(namespace: str) -> bool:
    """True for a namespace that is not `launchpad` but reads like it (case, 1-2 edits)."""
    if namespace == NAMESPACE:
        return False
    folded = namespace.lower().replace("_", "").replace("-", "")
    return folded == NAMESPACE or _distance(folded, NAMESPACE) <= 2


def provider_credential(key: str) -> bool:
    """Whether a non-Launchpad key (`provider:name`) holds a credential."""
    namespace, _, name = key.partition(":")
    if not name or namespace == NAMESPACE or key in NOT_CREDENTIALS:
        return False
    return key in PROVIDER_CREDENTIALS or secret_name(name) is not None


# The dynamic loader, Python's start-up hooks, systemd's socket/notify hand-over to gunicorn.
_RESERVED_ENV = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "IFS", "ENV", "BASH_ENV",
    "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONEXECUTABLE", "PYTHONUSERBASE",
    "PYTHONNOUSERSITE", "PYTHONSAFEPATH", "PYTHONPLATLIBDIR", "PYTHONBREAKPOINT", "PYTHONWARNINGS",
    "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "INVOCATION_ID", "JOURNAL_STREAM",
    "SYSTEMD_EXEC_PID", "MAINPID", "CREDENTIALS_DIRECTORY", "RUNTIME_DIRECTORY", "STATE_DIRECTORY",
    "GUNICORN_CMD_ARGS",
})
_RESERVED_PREFIXES = ("LD_", "LAUNCHPAD_", "SYSTEMD_", "PIP_")


def reserved_env(name: str) -> str | None:
    """Why an environment name cannot be set by the stack, or None."""
    if name in _RESERVED_ENV:
        return "it changes how the app's process starts (loader, Python start-up, systemd hand-over)"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"{prefix}* names belong to the dynamic loader, Launchpad, systemd or pip"
    return None


ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")

__all__ = ["ENV_NAME", "NAMESPACE", "namespace_typo", "provider_credential", "reserved_env", "words"]


def strict_int(value: object) -> object:
    """A whole number as YAML or Pulumi gives it (20, or "20" from `pulumi config set`), never a
    boolean (`rateLimit: true` is not 1) or a fraction. Other types pass on for pydantic to refuse."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not true/false")
    if isinstance(value, float):
        raise ValueError("expected a whole number, not a fraction")
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,12}", value.strip()):
        return int(value)
    return value


def strict_bool(value: object) -> object:
    """true/false (or Pulumi's "true"/"false" strings), never 1/0 or other text."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, not {value!r}")
    return value
