"""launchpad/local/stack.py without root: what it asks of the machine layer."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from launchpad import local_plan, wait
from launchpad.local import machine
from launchpad.local import release as local_release
from launchpad.local import stack
from launchpad.settings import validate


@pytest.fixture
def booted(monkeypatch: pytest.MonkeyPatch, tmp_path) -> list[dict[str, Any]]:
    """Stubs the machine layer and the health wait, and records every `up` and wait."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(stack, "STACKS_DIR", tmp_path)
    monkeypatch.setattr(machine, "ensure_base", lambda **_: tmp_path)
    booted_states: dict[str, machine.MachineState] = {}
    monkeypatch.setattr(machine, "status", lambda name: booted_states.get(name))
    monkeypatch.setattr(machine, "allow", lambda *a: calls.append({"allow": a}))
    monkeypatch.setattr(machine, "run", lambda *a, **k: calls.append({"run": a, **k}))
    monkeypatch.setattr(machine, "wait_cloud_init", lambda *a: None)
    monkeypatch.setattr(wait, "until_healthy", lambda *a, **k: calls.append({"health": a, **k}) or 0.1)
    monkeypatch.setattr(local_release, "store_dir", lambda name: tmp_path / name / "store")
    monkeypatch.setattr(local_release, "PIP_CACHE", tmp_path / "pip")
    monkeypatch.setattr(local_release, "deploy", lambda settings, secrets, address, *a, **k: calls.append(
        {"deploy": settings.stack, "address": address, "secrets": dict(secrets)}))

    def up(spec: machine.MachineSpec, **kwargs: Any) -> machine.MachineState:
        calls.append({"spec": spec, **kwargs})
        state = machine.MachineState(name=spec.name, instance_id=spec.instance_id, address=f"10.213.0.{len(calls) * 4 + 2}",
                                     host_address="10.213.0.1", subnet="10.213.0.0/30", interface="lp-x", netns="n",
                                     state_dir="/x", rootfs="/x/rootfs", base="/b", state="running")
        booted_states[spec.name] = state
        return state
    monkeypatch.setattr(machine, "up", up)
    return calls


def specs(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if "spec" in c]


def test_boot_boots_exactly_the_user_data_it_is_given(booted: list[dict[str, Any]], tmp_path) -> None:
    user_data = "#cloud-config\npackages: [nginx]\n"
    stack.boot(local_plan.LocalPlan("t", "rocket", domain="rocket.test"), user_data, progress=lambda _: None)
    (web,) = specs(booted)
    assert web["spec"].name == "lp-t" and web["spec"].user_data == user_data
    # The bootstrap only: the app arrives as a release, from the store seen read-only inside.
    assert web["spec"].binds == [(str(tmp_path / "t" / "store"), "/var/lib/launchpad/store", True),
                                 (str(tmp_path / "pip"), str(tmp_path / "pip"), False),
                                 # The stack's certificate store, read-write: a host stores what it obtained.
                                 (str(tmp_path / "t" / "certificates"), "/var/lib/launchpad/certificates", False)]
    assert (tmp_path / "t" / "certificates").stat().st_mode & 0o777 == 0o700
    assert not [c for c in booted if "health" in c or "deploy" in c]


def test_up_rolls_the_release_with_the_environments_secrets(booted: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHPAD_SECRET_SECRET_KEY", "from-env")
    stack.up(validate({}, "t"), progress=lambda _: None)
    [deploy] = [c for c in booted if "deploy" in c]
    assert deploy == {"deploy": "t", "address": "10.213.0.6", "secrets": {"SECRET_KEY": "from-env"}}
    stack.up(validate({}, "t"), progress=lambda _: None, release=False)
    assert len([c for c in booted if "deploy" in c]) == 1


def test_prebake_boots_each_machine_on_its_own_packages(booted: list[dict[str, Any]]) -> None:
    stack.up(validate({"launchpad:database": {"enabled": True}}, "t"), progress=lambda _: None, prebake=True)
    web, db = specs(booted)
    for call in (web, db):
        assert call["extra_packages"] == yaml.safe_load(call["spec"].user_data)["packages"]
    assert "nginx" in web["extra_packages"] and "postgresql-15" in db["extra_packages"]


def test_without_prebake_machines_install_at_first_boot(booted: list[dict[str, Any]]) -> None:
    stack.up(validate({}, "t"), progress=lambda _: None)
    (web,) = specs(booted)
    assert web["extra_packages"] == []


def test_database_admits_the_web_machine_and_password_stays_out_of_user_data(booted: list[dict[str, Any]]) -> None:
    stack.up(validate({"launchpad:database": {"enabled": True}}, "t"), progress=lambda _: None)
    web, db = specs(booted)
    password = db["spec"].files["/etc/launchpad/db-password"][0].decode()
    assert len(password) >= 24 and password not in web["spec"].user_data and password not in db["spec"].user_data
    assert {"allow": ("lp-t", "lp-t-db", 5432)} in booted
    assert "host app all 10.213.0.6/32 scram-sha-256" in db["spec"].user_data
    # RDS's shape: the master's and the app role's credentials in root-only files (the secrets' shapes);
    # the agent makes the app's role with the master (launchpad_agent/roles.py). No DATABASE_URL is written.
    master, app = (json.loads(c["input"]) for c in booted if "run" in c and "input" in c)
    assert master == {"username": "master", "password": password}
    assert app == {"password": app["password"], "host": "10.213.0.10", "port": 5432, "dbname": "app"}
    assert len(app["password"]) >= 24 and app["password"] != password
    assert app["password"] not in web["spec"].user_data and app["password"] not in db["spec"].user_data
    agent = json.loads(next(f["content"] for f in yaml.safe_load(web["spec"].user_data)["write_files"]
                            if f["path"] == "/etc/launchpad/agent.json"))
    assert agent["database"] == {"kind": "file", "master": "/etc/launchpad/database/master.json",
                                 "app": "/etc/launchpad/database/app.json", "role": "app_app", "refresh_s": 15}
    assert [c["deploy"] for c in booted if "deploy" in c] == ["t"]


def test_the_password_from_pulumi_wins(booted: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(local_plan.PASSWORD_ENV, "from-pulumi/random@1")
    stack.up(validate({"launchpad:database": {"enabled": True}}, "t"), progress=lambda _: None)
    _, db = specs(booted)
    assert db["spec"].files["/etc/launchpad/db-password"][0] == b"from-pulumi/random@1"
    master = json.loads(next(c["input"] for c in booted if "run" in c and "input" in c))
    assert master["password"] == "from-pulumi/random@1"
