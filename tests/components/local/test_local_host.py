"""components/local/host.py: the local host has the cloud hosts' shape, and hands the runtime what it must boot."""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import sys
import typing

import pulumi
import pytest

from components.host import HostArgs
from components.local.host import LocalHost, LocalPlacement
from launchpad import local_plan
from pulumi_mocks import LOCAL_IP

USER_DATA = "#cloud-config\npackages: [nginx]\n"
PLAN = local_plan.LocalPlan(stack="t", app_unit="rocket", domain="rocket.test")
WITH_DB = local_plan.LocalPlan(stack="t", app_unit="rocket", database=local_plan.DatabasePlan("15", "app"))


def _host(run, plan: local_plan.LocalPlan = PLAN, password: str | None = None, size: str = "local"):
    return run(lambda: LocalHost("web", HostArgs(size=size, user_data=USER_DATA,
                                                 placement=LocalPlacement(plan=plan, database_password=password))))


def test_takes_host_args_and_exposes_what_the_cloud_hosts_expose() -> None:
    hint = typing.get_type_hints(LocalHost.__init__)["args"]
    assert typing.get_origin(hint) is HostArgs and typing.get_args(hint) == (LocalPlacement,)
    assert list(inspect.signature(LocalHost.__init__).parameters) == ["self", "name", "args", "opts"]
    assert {"id", "public_ip", "database_host", "machine"} <= set(LocalHost.__annotations__)


def test_the_command_gets_the_user_data_and_plan_on_stdin(run) -> None:
    program = _host(run)
    command = program.one("command:local:Command")
    assert command.name == "web-machine" and command.delete_before_replace
    assert local_plan.decode(command.inputs["stdin"]) == (USER_DATA, PLAN)
    assert command.inputs["create"].endswith(" -m launchpad.cli local up --stack t --plan - --json")
    assert command.inputs["triggers"] == [hashlib.sha256(USER_DATA.encode()).hexdigest()]
    assert not command.inputs.get("environment")
    assert program.one("launchpad:hosts:LocalHost").inputs == {}


def test_id_and_addresses_come_from_the_command(run) -> None:
    def program() -> None:
        host = LocalHost("web", HostArgs(size="local", user_data=USER_DATA, placement=LocalPlacement(plan=PLAN)))
        pulumi.export("id", host.id)
        pulumi.export("public_ip", host.public_ip)
        pulumi.export("database_host", host.database_host)

    result = run(program)
    # The command's id is new with every machine: readiness, triggered by it, checks each new one.
    assert result.outputs == {"id": result.one("command:local:Command").id, "public_ip": LOCAL_IP, "database_host": None}


def test_the_password_is_a_secret_in_the_environment(run) -> None:
    program = _host(run, WITH_DB, password="s3cret-Pw")
    command = program.one("command:local:Command")
    assert command.inputs["environment"] == {local_plan.PASSWORD_ENV: "s3cret-Pw"}
    assert "environment" in command.secret_inputs
    assert "s3cret-Pw" not in command.inputs["stdin"] + command.inputs["create"]


@pytest.mark.parametrize("plan, password, size, message", [
    (WITH_DB, None, "local", "database_password is None"),
    (PLAN, None, "t3.small", "size is 't3.small'"),
])
def test_inputs_are_checked_at_construction(run, plan, password, size, message) -> None:
    with pytest.raises(ValueError, match=message):
        _host(run, plan, password, size)


def test_pulumi_up_does_not_import_the_local_runtime() -> None:
    code = ("import sys, components.local.host, stacks.local; "
            "print(sorted(m for m in sys.modules if m.startswith('launchpad.local.') or m == 'launchpad.local'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
