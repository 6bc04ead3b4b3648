"""components/heroku/database.py under mocks: the heroku-postgresql add-on, its plan and version, protection."""

from __future__ import annotations

import pytest

from components.heroku.database import HerokuDatabase, HerokuDatabaseArgs
from heroku_mocks import heroku_outputs  # noqa: F401

pytestmark = pytest.mark.usefixtures("heroku_outputs")
ADDON = "heroku:addon/addon:Addon"


def test_default_plan_and_version(run) -> None:
    addon = run(lambda: HerokuDatabase("prod", HerokuDatabaseArgs(app_id="app-uuid", version="16"))).one(ADDON)
    assert addon.inputs["plan"] == "heroku-postgresql:essential-0"
    assert addon.inputs["appId"] == "app-uuid"
    assert addon.inputs["config"] == {"version": "16"}
    assert not addon.protect


def test_plan_from_settings_and_production_protects_it(run) -> None:
    program = run(lambda: HerokuDatabase("prod", HerokuDatabaseArgs(app_id="a", plan="standard-0", production=True)))
    addon = program.one(ADDON)
    assert addon.inputs["plan"] == "heroku-postgresql:standard-0"
    assert "config" not in addon.inputs
    assert addon.protect


def test_refuses_a_plan_that_is_no_slug(run) -> None:
    with pytest.raises(ValueError, match="'heroku-postgresql:essential-0' is not a heroku-postgresql plan slug"):
        run(lambda: HerokuDatabase("prod", HerokuDatabaseArgs(app_id="a", plan="heroku-postgresql:essential-0")))
