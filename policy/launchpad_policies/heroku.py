"""No credentials in plain Heroku config vars (policy `no-secrets-in-heroku-config-vars`).

Plain config vars (an app's configVars, a ConfigAssociation's or Config's vars, a pipeline
ConfigVar's vars) are listed by `heroku config` to every collaborator and kept in the Pulumi
state in clear text. Each is judged by name and by value with launchpad/safety/secrets.py,
the detector the settings checks use too; secrets belong in `app.secrets`, which Launchpad
sets as sensitive config vars (judged by nobody: they are the right place).

A value not known yet (during preview) is judged by its name only; its value is checked on `up`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from launchpad.safety.secrets import secret_name, secret_value

PLAIN_CONFIG_VARS: dict[str, str] = {
    # type token: the property holding plain (non-sensitive) config vars
    "heroku:app/app:App": "configVars",
    "heroku:app/configAssociation:ConfigAssociation": "vars",
    "heroku:config/config:Config": "vars",
    "heroku:pipeline/configVar:ConfigVar": "vars",
}
SENSITIVE = {"heroku:app/app:App": "sensitiveConfigVars"}


def _plain_vars(props: Mapping[str, Any], prop: str) -> list[tuple[str, Any]]:
    """(name, value) of each plain config var; an unknown value (preview) as None."""
    try:
        value = props.get(prop)
    except UnknownValueError:
        return []
    if not isinstance(value, Mapping):
        return []
    out: list[tuple[str, Any]] = []
    for name in list(value.keys()):
        try:
            out.append((str(name), value[name]))
        except UnknownValueError:
            out.append((str(name), None))
    return out


def validate_no_secrets_in_heroku_config_vars(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    prop = PLAIN_CONFIG_VARS.get(args.resource_type)
    if prop is None:
        return
    sensitive = SENSITIVE.get(args.resource_type, "sensitiveVars")
    for name, value in _plain_vars(args.props, prop):
        by_name = secret_name(name)
        by_value = secret_value(value) if isinstance(value, str) else None
        if by_name is None and by_value is None:
            continue
        why = f"its name ({by_name}) marks a credential" if by_name else f"its value looks like {by_value}"
        report_violation(
            f"{prop}.{name}: {why}. Plain config vars are listed by `heroku config` to every collaborator and kept "
            f"in the Pulumi state in clear text: set it as a secret (`pulumi config set --secret --path "
            f"'launchpad:app.secrets.{name}' ...`), which Launchpad passes as {sensitive}.", None)

