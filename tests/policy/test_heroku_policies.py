"""policy/launchpad_policies/heroku.py: no credential in plain Heroku config vars, by name or by value; sensitive ones pass."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from launchpad_policies import POLICIES, check_resources

APP = "heroku:app/app:App"
POLICY = "no-secrets-in-heroku-config-vars"


def violations(resource_type: str, props: dict[str, Any]) -> list[str]:
    return [v.message for v in check_resources([(resource_type, "x", props)]) if v.policy == POLICY]


def test_the_policy_is_in_the_pack() -> None:
    assert POLICY in [p.name for p in POLICIES]


def test_launchpads_own_app_passes() -> None:
    props = {"region": "us", "configVars": {"LAUNCHPAD_TRUSTED_PROXIES": "1", "DEBUG_LEVEL": "info",
                                            "SESSION_COOKIE_SECURE": "true", "AUTH_URL": "https://id.example.com/"},
             "sensitiveConfigVars": {"SECRET_KEY": "x" * 40, "DATABASE_PASSWORD": "hunter2"}}
    assert check_resources([(APP, "x", props)]) == []


@pytest.mark.parametrize("resource_type, prop, name, value, why", [
    (APP, "configVars", "SECRET_KEY", "dev", "its name (SECRET) marks a credential"),
    (APP, "configVars", "STRIPE_KEY", "x", "its name (KEY) marks a credential"),
    (APP, "configVars", "SENTRY", "https://user:hunter2@sentry.example.com/1", "its value looks like a URL with a password in it"),
    (APP, "configVars", "UPSTREAM", "AKIAIOSFODNN7EXAMPLE", "its value looks like"),
    ("heroku:app/configAssociation:ConfigAssociation", "vars", "API_TOKEN", "abc", "its name (TOKEN)"),
    ("heroku:config/config:Config", "vars", "DB_PASS", "abc", "its name (PASS)"),
    ("heroku:pipeline/configVar:ConfigVar", "vars", "GITHUB", "ghp_" + "a" * 36, "its value looks like"),
])
def test_a_credential_in_plain_config_vars_is_refused(resource_type: str, prop: str, name: str, value: str, why: str) -> None:
    [message] = violations(resource_type, {prop: {name: value, "DEBUG_LEVEL": "info"}})
    assert message.startswith(f"{prop}.{name}: {why}")
    assert f"launchpad:app.secrets.{name}" in message
    assert value not in message or len(value) < 4  # the message never echoes a secret


def test_sensitive_vars_and_other_resources_are_not_judged() -> None:
    assert violations("heroku:app/configAssociation:ConfigAssociation", {"sensitiveVars": {"SECRET_KEY": "s"}}) == []
    assert violations("heroku:addon/addon:Addon", {"config": {"SECRET": "x"}}) == []
    assert violations(APP, {"region": "us"}) == []


def test_during_preview_an_unknown_value_is_judged_by_its_name() -> None:
    props = {"configVars": {"SECRET_KEY": UNKNOWN_STRING_VALUE, "BUILD_ID": UNKNOWN_STRING_VALUE}}
    [message] = violations(APP, props)
    assert message.startswith("configVars.SECRET_KEY: its name (SECRET)")
