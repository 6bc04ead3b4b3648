"""launchpad/cli/release.py without a machine: what `launchpad deploy` publishes, from which settings and secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from launchpad.cli import app, common
from launchpad.cli import release as cli_release
from launchpad.local import release as local_release
from launchpad.local.release import Live
from launchpad.release.publish import settings_json
from launchpad.settings import validate


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(common.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli_release, "_address", lambda settings: "10.213.0.2")

    def deploy(settings, secrets, address, deadline, progress):  # type: ignore[no-untyped-def]
        calls.append({"settings": settings, "secrets": dict(secrets), "address": address})

        class Prepared:
            class artifact:
                sha256, bytes = "a" * 64, 1234
        return Prepared, Live("0123456789ab", 2.5, f"http://{address}/")

    monkeypatch.setattr(local_release, "deploy", deploy)
    return calls


def test_settings_from_pulumi_on_stdin_and_secrets_from_the_environment(deployed: list[dict[str, Any]],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings = validate({"launchpad:app": {"secrets": {"SECRET_KEY": "s3cr3t"}, "healthPath": "/healthz"}}, "dev",
                        frozenset({"launchpad:app"}), frozenset({"app.secrets.SECRET_KEY"}))
    text = settings_json(settings)
    assert "s3cr3t" not in text  # what travels on stdin holds no secret value
    monkeypatch.setenv("LAUNCHPAD_SECRET_SECRET_KEY", "s3cr3t")
    result = CliRunner().invoke(app, ["deploy", "--stack", "dev", "--settings", "-", "--json"], input=text)
    assert result.exit_code == 0, result.output
    [call] = deployed
    assert call["settings"].app.health_path == "/healthz" and call["secrets"] == {"SECRET_KEY": "s3cr3t"}
    assert json.loads(result.stdout.splitlines()[-1])["release"] == "0123456789ab"


def test_a_secret_without_a_value_stops_before_publishing(deployed: list[dict[str, Any]]) -> None:
    settings = validate({"launchpad:app": {"secrets": {"API_TOKEN": {"secure": "v1:x"}}}}, "dev")
    result = CliRunner().invoke(app, ["deploy", "--stack", "dev", "--settings", "-"], input=settings_json(settings))
    assert result.exit_code == 2 and deployed == []
    assert "LAUNCHPAD_SECRET_API_TOKEN=..." in result.output
