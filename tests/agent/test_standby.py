"""The parked previous slot (files/agent/launchpad_agent/standby.py): when a rollback may reuse it,
how gunicorn is shrunk and grown, and that anything unexpected falls back to a cold start.
(On a booted machine: tests/e2e/test_release_apps.py, the journal's rollback.)"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from kit import agent

standby = agent("standby")
NOTE = {"release": "a1b2c3d4e5f6", "env": "e" * 64, "pid": 4242, "workers": 5}


@pytest.mark.parametrize("change, ok", [
    ({}, True),
    ({"release": "ffffffffffff"}, False),  # the slot runs another release
    ({"env": "0" * 64}, False),  # the env file changed since it started (a rotated DATABASE_URL)
    ({"pid": 1}, False),  # another master than the one parked (restarted, or a reboot)
    ({"workers": 0}, False),  # never parked
])
def test_reusable(change: dict, ok: bool) -> None:
    note = {**NOTE, **change}
    assert standby.reusable(note, "a1b2c3d4e5f6", "e" * 64, live="0123456789ab", pid=4242) is ok


def test_never_for_the_live_release_nor_a_stopped_slot() -> None:
    assert not standby.reusable(NOTE, "a1b2c3d4e5f6", "e" * 64, live="a1b2c3d4e5f6", pid=4242)  # restart: fresh master
    assert not standby.reusable(NOTE, "a1b2c3d4e5f6", "e" * 64, live=None, pid=0)
    assert not standby.reusable({}, "a1b2c3d4e5f6", "e" * 64, live=None, pid=4242)


def test_children_reads_parents_from_proc(tmp_path: Path) -> None:
    for pid, ppid, comm in [(10, 1, "gunicorn"), (11, 10, "gunicorn: worker (x)"), (12, 10, "a) b"), (13, 11, "sh")]:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(f"{pid} ({comm}) S {ppid} 1 1 0 -1\n")
    assert sorted(standby.children(10, tmp_path)) == [11, 12]


def test_signals_are_spaced_one_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(standby, "SIGNAL_GAP_S", 0)
    standby.signal_n(4242, signal.SIGTTOU, 4, kill=lambda pid, sig: sent.append((pid, sig)))
    assert sent == [(4242, signal.SIGTTOU)] * 4
    standby.signal_n(4242, signal.SIGTTIN, 0, kill=lambda pid, sig: sent.append((pid, sig)))
    assert len(sent) == 4


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """standby's view of a host: its note folder, the MainPID systemd reports, signals sent, systemctl calls."""
    seen: dict = {"signals": [], "systemctl": [], "pid": 4242, "workers": [11, 12, 13, 14, 15]}
    monkeypatch.setattr(standby, "STATE_DIR", tmp_path / "standby")
    monkeypatch.setattr(standby, "SIGNAL_GAP_S", 0)
    monkeypatch.setattr(standby, "main_pid", lambda app, slot: seen["pid"])
    monkeypatch.setattr(standby, "children", lambda pid: seen["workers"])
    monkeypatch.setattr(standby.os, "kill", lambda pid, sig: seen["signals"].append(sig))
    monkeypatch.setattr(standby.subprocess, "run", lambda argv, **kw: seen["systemctl"].append(argv[1:]))
    env = tmp_path / "a1b2c3d4e5f6.env"
    env.write_text('SECRET_KEY="x"\n')
    seen["env"] = env
    return seen


def test_park_then_warm_round_trip(host: dict) -> None:
    standby.started("a", "a1b2c3d4e5f6", host["env"])
    assert standby.park("rocket", "a", live="0123456789ab") == 5
    assert host["signals"] == [signal.SIGTTOU] * 4
    assert host["systemctl"] == [["disable", "--no-reload", "rocket@a.socket", "rocket@a.service"]]  # kept running
    assert standby.warm("rocket", "a", "a1b2c3d4e5f6", host["env"], live="0123456789ab")
    assert host["signals"][4:] == [signal.SIGTTIN] * 4
    # Live again: no longer parked, so the next park counts its workers anew.
    assert "workers" not in json.loads((standby.STATE_DIR / "a.json").read_text())


def test_a_changed_env_file_is_a_cold_start(host: dict) -> None:
    standby.started("a", "a1b2c3d4e5f6", host["env"])
    standby.park("rocket", "a", live="0123456789ab")
    host["env"].write_text('SECRET_KEY="x"\nDATABASE_URL="postgresql://rotated"\n')
    assert not standby.warm("rocket", "a", "a1b2c3d4e5f6", host["env"], live="0123456789ab")
    assert signal.SIGTTIN not in host["signals"]


def test_a_slot_started_by_an_older_agent_is_stopped_as_before(host: dict) -> None:
    assert standby.park("rocket", "b", live="0123456789ab") == 0  # no note: what it runs is unknown
    assert ["stop", "rocket@b.socket", "rocket@b.service"] in host["systemctl"]
    assert host["signals"] == []


def test_a_slot_of_the_live_release_itself_is_stopped(host: dict) -> None:
    """`launchpad restart`, or the live release rolled again with a rotated DATABASE_URL: the old
    slot could never be reused, and parked it would keep the old credential in use."""
    standby.started("a", "a1b2c3d4e5f6", host["env"])
    assert standby.park("rocket", "a", live="a1b2c3d4e5f6") == 0
    assert ["stop", "rocket@a.socket", "rocket@a.service"] in host["systemctl"] and host["signals"] == []
    assert not (standby.STATE_DIR / "a.json").exists()
