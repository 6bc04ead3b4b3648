"""stacks/local.py under mocks: `pulumi up` with provider local boots the rendered user-data through
`launchpad local up`, then checks it and exports like the clouds."""

from __future__ import annotations

import hashlib

from pulumi_mocks import DB_PASSWORD, LOCAL_IP, SSH_KEY, Program
from launchpad import local_plan
from launchpad.render.bootstrap import render_user_data
from launchpad.settings import Settings, validate
from stacks import local as local_stack

COMMAND = "command:local:Command"
PASSWORD = "random:index/randomPassword:RandomPassword"


def build(run, config: dict | None = None, stack: str = "dev") -> tuple[Settings, Program]:
    settings = validate({"launchpad:provider": "local", **(config or {})}, stack)
    return settings, run(lambda: local_stack.build(settings), stack=stack)


def machine_of(program: Program):
    return next(c for c in program.of_type(COMMAND) if c.name == "web-machine")


def release_of(program: Program):
    return next(c for c in program.of_type(COMMAND) if c.name == "web-release")


def readiness_of(program: Program):
    return next(c for c in program.of_type(COMMAND) if c.name == "web-healthz")


def test_the_machine_command_boots_the_user_data_rendered_once(run) -> None:
    settings, program = build(run)
    machine = machine_of(program)
    assert program.one("launchpad:hosts:LocalHost").name == "web"
    assert machine.inputs["create"].endswith("-m launchpad.cli local up --stack dev --plan - --json")
    assert machine.inputs["delete"].endswith("-m launchpad.cli local down --stack dev")
    # Standard input carries the very user-data the program rendered, and the plan beside it.
    user_data, plan = local_plan.decode(machine.inputs["stdin"])
    assert user_data == render_user_data(settings)
    assert plan == local_plan.plan_for(settings) and plan.database is None
    # Nothing to re-validate: no settings travel, and without a database no environment at all.
    assert not machine.inputs.get("environment")
    # Two machines of one stack cannot coexist: the old one goes first.
    assert machine.delete_before_replace
    # A new user-data is a new machine, as on a cloud.
    assert machine.inputs["triggers"] == [hashlib.sha256(user_data.encode()).hexdigest()]
    assert program.of_type(PASSWORD) == []


def test_readiness_and_outputs_are_the_clouds(run) -> None:
    _, program = build(run)
    machine, readiness = machine_of(program), readiness_of(program)
    assert program.one("launchpad:checks:Readiness").name == "web"
    release = release_of(program)
    assert f"http://{LOCAL_IP}/ " in readiness.inputs["create"] and "-m launchpad.wait" in readiness.inputs["create"]
    assert "--database" not in readiness.inputs["create"] and "--host" not in readiness.inputs["create"]
    rid = release.inputs["triggers"][0]
    assert f"--release {rid}" in readiness.inputs["create"]
    assert readiness.inputs["triggers"] == [machine.id, rid]  # a replaced machine, or a new release, is checked again
    assert program.depends_on(readiness, machine) and program.depends_on(readiness, release)
    assert program.outputs == {"url": f"http://{LOCAL_IP}/", "public_ip": LOCAL_IP}


def test_domain_and_ssh_outputs_as_on_a_cloud(run) -> None:
    _, program = build(run, {"launchpad:domain": "rocket.test", "launchpad:adminCidrs": ["10.0.0.0/8"],
                             "launchpad:sshKeys": [SSH_KEY]})
    assert program.outputs["url"] == "http://rocket.test/"
    assert program.outputs["ssh"] == f"ssh ops@{LOCAL_IP}"
    assert "--host rocket.test" in readiness_of(program).inputs["create"]


def test_a_changed_bootstrap_changes_the_trigger(run) -> None:
    _, before = build(run)
    _, after = build(run, {"launchpad:rateLimit": 7})
    assert machine_of(before).inputs["triggers"] != machine_of(after).inputs["triggers"]


def test_database_password_comes_from_pulumi_random_as_a_secret(run) -> None:
    settings, program = build(run, {"launchpad:database": {"enabled": True}})
    password = program.one(PASSWORD)
    assert password.inputs["length"] >= 32 and not password.protect
    machine = machine_of(program)
    assert "environment" in machine.secret_inputs
    assert program.depends_on(machine, password)
    assert "database_host" in program.outputs
    assert local_plan.decode(machine.inputs["stdin"])[1].database == local_plan.DatabasePlan("15", "app")
    assert program.depends_on(release_of(program), machine)
    # The password travels in the command's environment, never in user-data, stdin or the command line.
    assert machine.inputs["environment"] == {local_plan.PASSWORD_ENV: DB_PASSWORD}
    for text in (render_user_data(settings), machine.inputs["create"], machine.inputs["stdin"]):
        assert DB_PASSWORD not in text


def test_production_protects_the_database_password(run) -> None:
    _, program = build(run, {"launchpad:database": {"enabled": True}, "launchpad:production": True}, stack="prod")
    assert program.one(PASSWORD).protect


def test_an_app_change_rolls_a_release_and_keeps_the_machine(run, tmp_path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "rocket.py").write_text("app = 1\n")
    _, before = build(run, {"launchpad:app": {"path": str(app)}})
    (app / "rocket.py").write_text("app = 2\n")
    _, after = build(run, {"launchpad:app": {"path": str(app)}})
    assert machine_of(before).inputs == machine_of(after).inputs
    assert release_of(before).inputs["triggers"][0] != release_of(after).inputs["triggers"][0]
    assert release_of(after).inputs["create"].endswith("-m launchpad.cli deploy --stack dev --settings - --json")


def test_secrets_reach_the_release_step_as_secret_environment_only(run) -> None:
    settings = validate({"launchpad:provider": "local", "launchpad:app": {"secrets": {"SECRET_KEY": "s3cr3t-local-9"}}}, "dev",
                        frozenset({"launchpad:app"}), frozenset({"app.secrets.SECRET_KEY"}))
    program = run(lambda: local_stack.build(settings), stack="dev")
    release = release_of(program)
    assert release.inputs["environment"] == {"LAUNCHPAD_SECRET_SECRET_KEY": "s3cr3t-local-9"}
    assert "environment" in release.secret_inputs
    assert "s3cr3t-local-9" not in release.inputs["stdin"] and "s3cr3t-local-9" not in render_user_data(settings)
    holders = [r.name for r in program.resources if "s3cr3t-local-9" in str(r.inputs)]
    assert holders == ["web-release"]
