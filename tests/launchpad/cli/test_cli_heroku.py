"""launchpad/cli/heroku.py: `launchpad releases|rollback|deploy` on a Heroku stack reach the fake Heroku API on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

import pytest
import typer

from heroku_fake import APP, NEW, OLD, FakeHeroku, api, fake  # noqa: F401
from launchpad.cli import heroku as cli
from launchpad.ops.heroku_api import HerokuApi
from launchpad.settings import validate


def outputs(stack_outputs: dict):
    def run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        assert list(argv) == ["pulumi", "stack", "output", "--json", "--stack", "prod"]
        return subprocess.CompletedProcess(list(argv), 0, json.dumps(stack_outputs), "")
    return run


@pytest.fixture
def heroku_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "load_settings", lambda stack: validate({"launchpad:provider": "heroku"}, stack))


def _exit(capsys: pytest.CaptureFixture[str], **kwargs) -> tuple[int, str, str]:
    with pytest.raises(typer.Exit) as done:
        cli.dispatch("prod", **kwargs)
    out = capsys.readouterr()
    return done.value.exit_code, out.out, out.err


@pytest.mark.usefixtures("heroku_stack")
def test_releases(api: HerokuApi, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _exit(capsys, operation="releases", api=api, run=outputs({"app_name": APP}), as_json=True)
    assert code == 0
    assert [r["launchpad_release"] for r in json.loads(out)][:2] == [NEW, NEW]


@pytest.mark.usefixtures("heroku_stack")
def test_rollback(api: HerokuApi, fake: FakeHeroku, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _exit(capsys, operation="rollback", api=api, run=outputs({"app_name": APP}), to=OLD)
    assert code == 0 and "to v2" in out
    assert fake.requests[-1]["body"]["release"] == "rel-2"


@pytest.mark.usefixtures("heroku_stack")
def test_before_the_first_up_there_is_no_app(api: HerokuApi, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _exit(capsys, operation="releases", api=api, run=outputs({}))
    assert code == 2 and "no `app_name` output yet: run `pulumi up --stack prod` first" in err


@pytest.mark.usefixtures("heroku_stack")
def test_deploy_is_pulumi_up_on_heroku(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _exit(capsys, operation="deploy")
    assert code == 2 and "deploy is not available on Heroku: `pulumi up --stack prod` builds and releases" in err


def test_other_providers_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "load_settings", lambda stack: validate({"launchpad:provider": "local"}, stack))
    assert cli.dispatch("prod", "releases") is None
