"""launchpad/cli/local.py without booting: what `launchpad local up` boots, and where it gets it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from launchpad import local_plan
from launchpad.cli import app, common
from launchpad.cli import local as cli_local
from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.settings import load_from_file

USER_DATA = "#cloud-config\npackages: [nginx]\n"
PLAN = local_plan.LocalPlan(stack="dev", app_unit="rocket")


@pytest.fixture
def booted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Root assumed, the local runtime stubbed: records every boot."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(common.os, "geteuid", lambda: 0)

    def boot(plan: local_plan.LocalPlan, user_data: str, **kwargs: Any) -> local_stack.StackStatus:
        calls.append({"plan": plan, "user_data": user_data, **kwargs})
        return local_stack.StackStatus(plan.stack, "running", "http://10.213.0.2/", "10.213.0.2", plan.domain, None, ["lp-dev"])

    monkeypatch.setattr(cli_local.local_stack, "boot", boot)
    # By hand, `local up` then rolls the release (launchpad/cli/release.py); stubbed here.
    from launchpad.cli import release as cli_release
    monkeypatch.setattr(cli_release, "deploy_release", lambda settings, deadline, as_json=False: calls.append(
        {"deploy": settings.stack}) or {"release": "0123456789ab", "live_after_s": 1.0})
    return calls


def invoke(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin)


def test_plan_on_stdin_is_booted_exactly(booted: list[dict[str, Any]]) -> None:
    result = invoke("local", "up", "--stack", "dev", "--plan", "-", "--json", stdin=local_plan.encode(USER_DATA, PLAN))
    assert result.exit_code == 0, result.output
    [call] = booted
    assert (call["plan"], call["user_data"]) == (PLAN, USER_DATA)
    assert json.loads(result.stdout)["address"] == "10.213.0.2"


def test_without_a_plan_the_stack_file_is_rendered(booted: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    # The old hand-over from the Pulumi program is ignored: settings come only from the validated stack file.
    monkeypatch.setenv("LAUNCHPAD_SETTINGS", '{"provider": "aws"}')
    result = invoke("local", "up", "--stack", "dev")
    assert result.exit_code == 0, result.output
    settings = load_from_file("dev")
    call, deploy = booted
    assert call["plan"] == local_plan.plan_for(settings)
    assert call["user_data"] == local_plan.user_data_for(settings)
    assert deploy == {"deploy": "dev"}  # then the release rolls; with --plan (pulumi up) it does not
    assert "release 0123456789ab live" in result.stdout
    assert "stack dev ready in" in result.stdout and "curl http://10.213.0.2/" in result.stdout


@pytest.mark.parametrize("args, stdin, message", [
    (["--stack", "dev", "--plan", "-"], "{", "launchpad local up --plan: plan: not JSON"),
    (["--stack", "prod", "--plan", "-"], local_plan.encode(USER_DATA, PLAN),
     "plan.stack is 'dev' but --stack is 'prod'; they must agree"),
    (["--stack", "nosuch"], None, "no such file for stack 'nosuch'"),
])
def test_bad_input_exits_2_before_booting(booted: list[dict[str, Any]], args: list[str], stdin: str | None,
                                          message: str) -> None:
    result = invoke("local", "up", *args, stdin=stdin)
    assert result.exit_code == 2 and message in result.stderr
    assert booted == []


def test_a_failed_boot_exits_1_with_what_happened(booted: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise machine.MachineError("cloud-init on lp-dev finished with status error")

    monkeypatch.setattr(cli_local.local_stack, "boot", fail)
    result = invoke("local", "up", "--stack", "dev")
    assert result.exit_code == 1
    assert "stack dev did not become ready:\ncloud-init on lp-dev finished with status error" in result.stderr


def test_up_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.os, "geteuid", lambda: 1000)
    result = invoke("local", "up", "--stack", "dev")
    assert result.exit_code == 2 and "needs root" in result.stderr


def test_status_of_an_absent_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "status", lambda name: None)
    result = invoke("local", "status", "--stack", "dev", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "absent"
    assert invoke("local", "status", "--stack", "dev").stdout.strip() == "stack dev: absent"
