"""What Heroku's provider would answer, for the shared Pulumi mocks (tests/pulumi_mocks.py).

`heroku_outputs` is a fixture: while it is active, the mocks answer Heroku resources
with the outputs the real provider computes (the app's generated name and web URL, the
build's release, the add-on's name, the domain's DNS target).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import pulumi_mocks

APP_SUFFIX = "a1b2c3d"
"""Pulumi's autonaming suffix, as the mocks fake it."""
HEROKU_RELEASE = "0b5e5c1e-7a4d-4c3e-9d2b-5a0c0ffee001"
ADDON_NAME = "postgresql-curly-12345"
DNS_TARGET = "shiny-example-4x3kp9.herokudns.com"


def app_name(resource_name: str) -> str:
    return f"{resource_name}-{APP_SUFFIX}"


def web_url(resource_name: str) -> str:
    return f"https://{app_name(resource_name)}-0123456789ab.herokuapp.com/"


def _heroku(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    if typ == "heroku:app/app:App":
        given = inputs.get("name") or app_name(name)
        return {"name": given, "webUrl": f"https://{given}-0123456789ab.herokuapp.com/",
                "herokuHostname": f"{given}-0123456789ab.herokuapp.com", "uuid": f"{name}-uuid"}
    if typ == "heroku:build/build:Build":
        return {"releaseId": HEROKU_RELEASE, "status": "succeeded", "uuid": f"{name}-uuid",
                "localChecksum": "SHA256:mock"}
    if typ == "heroku:addon/addon:Addon":
        return {"name": ADDON_NAME, "configVars": ["DATABASE_URL"], "providerId": "resource-mock"}
    if typ == "heroku:domain/domain:Domain":
        return {"cname": DNS_TARGET}
    return None


@pytest.fixture
def heroku_outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    original = pulumi_mocks._computed

    def computed(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        found = _heroku(typ, name, inputs)
        return found if found is not None else original(typ, name, inputs)

    monkeypatch.setattr(pulumi_mocks, "_computed", computed)
    yield
