"""components/heroku/app.py under mocks: region, stack, buildpack, config vars plain and sensitive, ACM."""

from __future__ import annotations

import pulumi
import pytest

from components.heroku.app import HerokuApp, HerokuAppArgs, name_prefix
from heroku_mocks import heroku_outputs, web_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("heroku_outputs")
APP = "heroku:app/app:App"


def _app(run, **kwargs):
    return run(lambda: HerokuApp("rocket-prod", HerokuAppArgs(**{"region": "eu", **kwargs})))


def test_region_stack_buildpack_and_config_vars(run) -> None:
    program = _app(run, config_vars={"DEBUG_LEVEL": "info"},
                   sensitive_config_vars=pulumi.Output.secret({"SECRET_KEY": "s3cr3t-value"}))
    app = program.one(APP)
    assert app.inputs["region"] == "eu" and app.inputs["stack"] == "heroku-24"
    assert app.inputs["buildpacks"] == ["heroku/python"]
    assert app.inputs["configVars"] == {"DEBUG_LEVEL": "info"}
    assert app.inputs["sensitiveConfigVars"] == {"SECRET_KEY": "s3cr3t-value"}
    # Secrets travel to the engine as secrets (encrypted in the state); the plain vars do not.
    assert "sensitiveConfigVars" in app.secret_inputs and "configVars" not in app.secret_inputs
    assert "acm" not in app.inputs
    assert "name" not in app.inputs  # Pulumi's autonaming: Heroku app names are global


def test_acm_with_a_custom_domain(run) -> None:
    assert _app(run, acm=True).one(APP).inputs["acm"] is True


def test_outputs_come_from_the_app(run) -> None:
    outputs: dict[str, str] = {}

    def program() -> None:
        app = HerokuApp("rocket-prod", HerokuAppArgs(region="us"))
        app.web_url.apply(lambda u: outputs.__setitem__("web_url", u))
        app.app_id.apply(lambda i: outputs.__setitem__("id", i))

    run(program)
    assert outputs == {"web_url": web_url("rocket-prod"), "id": "rocket-prod-id"}


@pytest.mark.parametrize("bad, message", [
    ({"name": "Rocket_App"}, "'Rocket_App' is not a Heroku app name"),
    ({"name": "ab"}, "'ab' is not a Heroku app name"),
    ({"config_vars": {"SECRET_KEY": "x"}, "sensitive_config_vars": {"SECRET_KEY": "y"}},
     "SECRET_KEY given both as plain and as sensitive config vars"),
])
def test_refuses(run, bad: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _app(run, **bad)


@pytest.mark.parametrize("app, stack, prefix", [
    ("rocket", "prod", "rocket-prod"),
    ("rocket", "Feature_Branch.42", "rocket-feature-branch"),
    ("journal", "a-very-long-stack-name-indeed", "journal-a-very-long-st"),
    ("9lives", "dev", "app-9lives-dev"),
])
def test_name_prefix_leaves_room_for_the_suffix(app: str, stack: str, prefix: str) -> None:
    got = name_prefix(app, stack)
    assert got == prefix
    assert len(got) + 8 <= 30 and got[0].isalpha() and not got.endswith("-")
