"""launchpad/cli/ops.py with a loopback target (the 'host' is this machine): exit codes
propagate, output streams, status reads the agent's JSON, refusals exit 2 with their message."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from launchpad.cli import ops as cli_ops
from launchpad.ops.access import HostRef
from launchpad.ops.remote import OpsError, Remote
from launchpad.settings import validate

AGENT_JSON = {"live": "3f2a9c1d0e4b", "slot": "b", "history": [], "last_failure": None}


@dataclass(frozen=True)
class Loopback:
    """Runs the host's command here, except the agent, which answers canned JSON."""

    hosts: tuple[HostRef, ...] = (HostRef("web", "127.0.0.1"),)
    outputs = {"url": "http://127.0.0.1:9/"}

    def prepare(self, host, workdir: Path, run) -> None:
        return None

    def argv(self, host, remote: Remote, workdir: Path) -> list[str]:
        if remote.argv[:2] == ("launchpad-agent", "status"):
            return [sys.executable, "-c", f"print({json.dumps(json.dumps(AGENT_JSON))})"]
        if remote.argv[:3] == ("launchpad-agent", "run", "--"):
            return list(remote.argv[3:])
        return list(remote.argv)

    def unreachable_hint(self) -> str:
        return "loopback unreachable"


@pytest.fixture
def cli(monkeypatch):
    settings = validate({"launchpad:provider": "aws"}, "prod")
    monkeypatch.setattr(cli_ops, "load_settings", lambda stack: settings)
    monkeypatch.setattr(cli_ops, "target_for", lambda s: Loopback())
    app = typer.Typer()
    cli_ops.register(app)

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args))
    return invoke


@pytest.mark.parametrize("code", [0, 3, 42])
def test_run_propagates_the_exit_code(cli, code) -> None:
    result = cli("run", "--stack", "prod", "--", "sh", "-c", f"exit {code}")
    assert result.exit_code == code


def test_run_without_command_is_refused(cli) -> None:
    result = cli("run", "--stack", "prod")
    assert result.exit_code == 2


def test_status_json_reads_the_agent_and_checks_the_site(cli) -> None:
    result = cli("status", "--stack", "prod", "--json")
    report = json.loads(result.stdout)
    assert report["hosts"] == [{"index": 0, "name": "web", "address": "127.0.0.1", "reachable": True, "release": AGENT_JSON}]
    assert report["url"] == "http://127.0.0.1:9/"
    assert report["health"]["healthy"] is False  # nothing listens on port 9 here
    assert result.exit_code == 1 and report["ok"] is False


def test_host_out_of_range_is_refused(cli) -> None:
    result = cli("run", "--stack", "prod", "--host", "4", "--", "true")
    assert result.exit_code == 2
    assert "--host: '4' is not a host of this stack; valid: all, 0 (web)" in result.stderr


def test_refusal_from_the_stack_exits_2_with_the_message(cli, monkeypatch) -> None:
    def refuse(settings):
        raise OpsError("launchpad:adminCidrs is empty, so SSH to stack prod's droplet is closed")
    monkeypatch.setattr(cli_ops, "target_for", refuse)
    result = cli("logs", "--stack", "prod")
    assert result.exit_code == 2
    assert "launchpad:adminCidrs is empty" in result.stderr


def test_bad_unit_is_refused(cli) -> None:
    result = cli("logs", "--stack", "prod", "--unit", "db")
    assert result.exit_code == 2 and "--unit: 'db' is not a unit" in result.stderr


def test_ssh_failure_adds_the_transport_hint(cli, monkeypatch) -> None:
    monkeypatch.setattr(cli_ops, "call", lambda target, host, op, **kw: cli_ops.Done(host, 255))
    result = cli("restart", "--stack", "prod")
    assert result.exit_code == 255 and "loopback unreachable" in result.stderr


@pytest.fixture
def heroku_cli(monkeypatch):
    from launchpad.ops import heroku

    settings = validate({"launchpad:provider": "aws"}, "web").model_copy(update={"provider": "heroku"})
    monkeypatch.setattr(cli_ops, "load_settings", lambda stack: settings)
    monkeypatch.setattr(cli_ops, "stack_outputs", lambda stack: {"app_name": "lp-web", "url": "https://lp-web.herokuapp.com/"})
    monkeypatch.setenv("HEROKU_API_KEY", "test-token")
    calls = []
    monkeypatch.setattr(heroku, "run", lambda api, app, argv, write, err: calls.append(("run", app, list(argv))) or 4)
    monkeypatch.setattr(heroku, "restart", lambda api, app, out: calls.append(("restart", app)) or 0)
    app = typer.Typer()
    cli_ops.register(app)
    return (lambda *args: CliRunner().invoke(app, list(args))), calls


def test_heroku_stacks_go_to_the_platform_api(heroku_cli) -> None:
    invoke, calls = heroku_cli
    assert invoke("run", "--stack", "web", "--", "flask", "db", "upgrade").exit_code == 4
    assert invoke("restart", "--stack", "web").exit_code == 0
    assert calls == [("run", "lp-web", ["flask", "db", "upgrade"]), ("restart", "lp-web")]


@pytest.mark.parametrize("args, what", [
    (["reload"], "reload is not available on Heroku"),
    (["ssh"], "ssh is not available on Heroku"),
    (["logs", "--since", "10m"], "logs --since is not available on Heroku"),
    (["run", "-t", "--", "flask", "shell"], "run --tty is not available on Heroku"),
    (["run", "--host", "all", "--", "true"], "--host is not available on Heroku"),
])
def test_heroku_refuses_what_it_cannot_do(heroku_cli, args, what) -> None:
    invoke, _ = heroku_cli
    result = invoke(*args[:1], "--stack", "web", *args[1:])
    assert result.exit_code == 2 and what in result.stderr
