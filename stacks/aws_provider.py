"""The AWS provider every resource of an AWS stack uses: Launchpad's region, plus the stack's `aws:*` config.

Launchpad needs an explicit provider because `launchpad:region` decides the region (with a
default when unset), and Pulumi's default provider reads only `aws:region`. But an explicit
provider reads none of the stack's `aws:*` keys: `aws:assumeRoles`, `aws:allowedAccountIds`,
`aws:defaultTags` and the rest were silently dropped (issue 12, item 8). So every `aws:*` key
is handed to it here, the way the default provider would take it: structured values as the
stack file holds them (camelCase inside, as the provider expects), secrets kept secret.

- `aws:assumeRole` (one object: pulumi-aws 6's key) is taken as `aws:assumeRoles: [that object]`.
- `aws:region` must agree with `launchpad:region` (one region per stack), or be absent.
- An unknown `aws:` key is refused with the nearest valid name, not ignored.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import pulumi

from launchpad.settings import ConfigError, Problem, Settings
from launchpad.settings.errors import suggest


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _parameters() -> dict[str, str]:
    """ProviderArgs' keyword -> its annotation text (which says whether it is a plain string)."""
    import pulumi_aws as aws

    params = inspect.signature(aws.ProviderArgs.__init__).parameters
    return {name: str(p.annotation) for name, p in params.items() if not name.startswith("_") and name != "self"}


def _value(raw: str, annotation: str) -> Any:
    """Pulumi hands the program config as strings, structured values as JSON; strings stay strings."""
    # Evaluated (`typing.Union[str, NoneType, ...]`) or, under postponed annotations, as written.
    if re.match(r"(typing\.Union\[str,|Optional\[pulumi\.Input\[str\]\])", annotation.replace(" ", "")):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _stack_aws_config() -> tuple[dict[str, str], frozenset[str]]:
    from pulumi.runtime import config as rc

    merged = {**rc.get_config_env(), **rc.CONFIG.get()}
    keys = {k: v for k, v in merged.items() if k.startswith("aws:")}
    secrets = frozenset(k for k in keys if rc.is_config_secret(k)) | (frozenset(rc.get_config_secret_keys_env()) & set(keys))
    return keys, secrets


def provider_args(settings: Settings, config: dict[str, str], secrets: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The keyword arguments of `aws.Provider` for this stack: region from Launchpad, the rest from `aws:*`."""
    params = _parameters()
    args: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, raw in sorted(config.items()):
        name = key.split(":", 1)[1]
        if name == "assumeRole":  # pulumi-aws 6 spelling: one role
            if "aws:assumeRoles" in config:
                problems.append(Problem(key, "set either aws:assumeRole or aws:assumeRoles, not both"))
                continue
            value = _value(raw, "")
            args["assume_roles"] = [value] if isinstance(value, dict) else value
            continue
        param = _snake(name)
        if param not in params:
            valid = sorted(_camel(p) for p in params)
            problems.append(Problem(key, f"not a setting of the AWS provider{suggest(name, valid)}; "
                                         f"valid: {', '.join('aws:' + v for v in valid)}"))
            continue
        value = _value(raw, params[param])
        if param == "region":
            if value != settings.resolved_region:
                problems.append(Problem(key, f"{value!r} differs from launchpad:region {settings.resolved_region!r}, "
                                             "which decides the region: remove aws:region or make them equal"))
            continue
        args[param] = pulumi.Output.secret(value) if key in secrets else value
    if problems:
        raise ConfigError(settings.stack, problems)
    args["region"] = settings.resolved_region
    return args


def provider(settings: Settings) -> Any:
    """The explicit `aws.Provider` named "aws" (its URN is what existing stacks' resources name)."""
    import pulumi_aws as aws

    config, secrets = _stack_aws_config()
    return aws.Provider("aws", **provider_args(settings, config, secrets))
