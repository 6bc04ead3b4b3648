"""launchpad/local/stack.py without root: what it asks of the machine layer."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from launchpad.local import machine
from launchpad.local import stack
from launchpad import wait
from launchpad.settings import validate


@pytest.fixture
def booted(monkeypatch: pytest.MonkeyPatch, tmp_path) -> list[dict[str, Any]]:
    """Stubs the machine layer and records every `up`."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(stack, "STACKS_DIR", tmp_path)
    monkeypatch.setattr(machine, "ensure_base", lambda **_: tmp_path)
    monkeypatch.setattr(machine, "status", lambda name: None)
    monkeypatch.setattr(machine, "allow", lambda *a: calls.append({"allow": a}))
    monkeypatch.setattr(machine, "run", lambda *a, **k: None)
    monkeypatch.setattr(machine, "wait_cloud_init", lambda *a: None)
    monkeypatch.setattr(wait, "wait", lambda *a, **k: wait.Probe(True, "HTTP 200"))

    def up(spec: machine.MachineSpec, **kwargs: Any) -> machine.MachineState:
        calls.append({"spec": spec, **kwargs})
        return machine.MachineState(name=spec.name, instance_id=spec.instance_id, address=f"10.213.0.{len(calls) * 4 + 2}",
                                    host_address="10.213.0.1", subnet="10.213.0.0/30", interface="lp-x", netns="n",
                                    state_dir="/x", rootfs="/x/rootfs", base="/b", state="running")
    monkeypatch.setattr(machine, "up", up)
    return calls


def test_prebake_boots_each_machine_on_its_own_packages(booted: list[dict[str, Any]]) -> None:
    stack.up(validate({"launchpad:database": {"enabled": True}}, "t"), progress=lambda _: None, prebake=True)
    web, db = [c for c in booted if "spec" in c]
    for call in (web, db):
        assert call["extra_packages"] == yaml.safe_load(call["spec"].user_data)["packages"]
    assert "nginx" in web["extra_packages"] and "postgresql-15" in db["extra_packages"]


def test_without_prebake_machines_install_at_first_boot(booted: list[dict[str, Any]]) -> None:
    stack.up(validate({}, "t"), progress=lambda _: None)
    (web,) = [c for c in booted if "spec" in c]
    assert web["extra_packages"] == []


def test_database_admits_the_web_machine_and_password_stays_out_of_user_data(booted: list[dict[str, Any]]) -> None:
    stack.up(validate({"launchpad:database": {"enabled": True}}, "t"), progress=lambda _: None)
    web, db = [c for c in booted if "spec" in c]
    password = db["spec"].files["/etc/launchpad/db-password"][0].decode()
    assert len(password) >= 24 and password not in web["spec"].user_data and password not in db["spec"].user_data
    assert {"allow": ("lp-t", "lp-t-db", 5432)} in booted
    assert "host app app 10.213.0.6/32 scram-sha-256" in db["spec"].user_data
