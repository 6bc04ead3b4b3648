"""stacks/local.py under mocks: `pulumi up` with provider local drives `launchpad local` through pulumi-command."""

from __future__ import annotations

import hashlib
import json

from pulumi_mocks import DB_PASSWORD, LOCAL_IP, Program
from launchpad.render.bootstrap import render_user_data
from launchpad.settings import Settings, validate
from stacks import local as local_stack

COMMAND = "command:local:Command"
PASSWORD = "random:index/randomPassword:RandomPassword"


def build(run, config: dict | None = None, stack: str = "dev") -> tuple[Settings, Program]:
    settings = validate({"launchpad:provider": "local", **(config or {})}, stack)
    return settings, run(lambda: local_stack.build(settings), stack=stack)


def test_the_machine_command_boots_and_removes_the_stack(run) -> None:
    settings, program = build(run)
    machine = program.one(COMMAND)
    assert machine.name == "web-machine"
    assert machine.inputs["create"].endswith("-m launchpad.cli local up --stack dev --json")
    assert machine.inputs["delete"].endswith("-m launchpad.cli local down --stack dev")
    # Two machines of one stack cannot coexist: the old one goes first.
    assert machine.delete_before_replace
    # A new user-data is a new machine, as on a cloud.
    assert machine.inputs["triggers"] == [hashlib.sha256(render_user_data(settings).encode()).hexdigest()]
    handed = Settings.model_validate({**json.loads(machine.inputs["environment"]["LAUNCHPAD_SETTINGS"]), "stack": "dev"})
    assert handed == settings
    assert program.of_type(PASSWORD) == []
    assert program.outputs == {"url": f"http://{LOCAL_IP}/", "public_ip": LOCAL_IP}


def test_a_changed_app_changes_the_trigger(run, tmp_path) -> None:
    _, before = build(run)
    app = tmp_path / "app"
    app.mkdir()
    (app / "rocket.py").write_text("app = None  # another release\n")
    _, after = build(run, {"launchpad:app": {"path": str(app)}})
    assert before.one(COMMAND).inputs["triggers"] != after.one(COMMAND).inputs["triggers"]


def test_database_password_comes_from_pulumi_random_as_a_secret(run) -> None:
    settings, program = build(run, {"launchpad:database": {"enabled": True}})
    password = program.one(PASSWORD)
    assert password.inputs["length"] >= 32 and not password.protect
    machine = program.one(COMMAND)
    assert "environment" in machine.secret_inputs
    assert program.depends_on(machine, password)
    assert "database_host" in program.outputs
    # The password travels in the command's environment, never in user-data or the command line.
    assert machine.inputs["environment"]["LAUNCHPAD_DB_PASSWORD"] == DB_PASSWORD
    assert DB_PASSWORD not in render_user_data(settings) and DB_PASSWORD not in machine.inputs["create"]


def test_production_protects_the_database_password(run) -> None:
    _, program = build(run, {"launchpad:database": {"enabled": True}, "launchpad:production": True}, stack="prod")
    assert program.one(PASSWORD).protect
