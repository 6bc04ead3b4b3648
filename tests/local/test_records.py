"""launchpad/local/records.py: state.json and runtime.json, their one writer, and the live view (no root)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from launchpad.local import records


def state(**overrides: object) -> records.MachineState:
    values: dict[str, object] = dict(
        name="web", instance_id="i-1", address="10.213.0.2", host_address="10.213.0.1", subnet="10.213.0.0/30",
        interface="lp-web", netns="launchpad-web", state_dir="/var/lib/launchpad/machines/web",
        rootfs="/var/lib/launchpad/machines/web/rootfs", base="/var/cache/launchpad/base-x",
    )
    values.update(overrides)
    return records.MachineState(**values)  # type: ignore[arg-type]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(records, "STATE_ROOT", tmp_path)
    return tmp_path


def test_state_json_round_trip() -> None:
    st = state(state="running", pid=42, ingress=[("web", 5432)])
    again = records.MachineState.from_dict(json.loads(st.to_json()))
    assert again == st


def test_state_from_dict_ignores_keys_it_does_not_know() -> None:
    data = json.loads(state().to_json())
    data["nspawn_argv"] = ["systemd-nspawn"]
    assert records.MachineState.from_dict(data) == state()


@pytest.mark.parametrize("name", ["web", "db-1", "a", "x" * 63])
def test_valid_names(name: str) -> None:
    records.validate_name(name)


@pytest.mark.parametrize("name", ["", "Web", "-web", "web-", "web_1", "web.local", "x" * 64, "../etc"])
def test_invalid_names_are_rejected_with_the_rule(name: str) -> None:
    with pytest.raises(ValueError, match="lowercase letters, digits"):
        records.validate_name(name)


def test_saved_state_keeps_the_decision_and_the_command_line_not_the_live_fields(root: Path) -> None:
    d = records.machine_dir("web")
    d.mkdir(parents=True)
    records.save_state(state(state_dir=str(d), state="running", pid=42, nspawn_pid=43, init_pid=44), ["systemd-nspawn", "-b"])
    saved = records.read_state(d)
    assert saved["nspawn_argv"] == ["systemd-nspawn", "-b"] and saved["address"] == "10.213.0.2"
    assert not set(records.LIVE_FIELDS) & set(saved)
    assert not list(d.glob("*.tmp"))  # written through a temporary file, renamed into place


def test_ingress_is_saved_sorted_and_without_duplicates(root: Path) -> None:
    d = records.machine_dir("db")
    d.mkdir(parents=True)
    records.save_state(state(name="db", state_dir=str(d)), [])
    records.save_ingress("db", [("web", 5432), ("api", 5432), ("web", 5432)])
    assert records.read_state(d)["ingress"] == [["api", 5432], ["web", 5432]]


def test_runtime_updates_merge_and_clear(root: Path) -> None:
    d = root / "m"
    d.mkdir()
    assert records.read_runtime(d) == {}
    records.update_runtime(d, supervisor_pid=7, phase="starting")
    records.update_runtime(d, phase="running", nspawn_pid=8)
    seen = records.read_runtime(d)
    assert (seen["supervisor_pid"], seen["phase"], seen["nspawn_pid"]) == (7, "running", 8) and "updated_at" in seen
    records.clear_runtime(d)
    records.clear_runtime(d)  # idempotent
    assert records.read_runtime(d) == {}


def test_an_unreadable_record_reads_as_none(root: Path) -> None:
    d = records.machine_dir("web")
    d.mkdir(parents=True)
    (d / records.STATE_FILE).write_text("{half a reco")
    assert records.read_state(d) == {} and records.load("web") is None


def test_a_missing_machine_loads_as_none(root: Path) -> None:
    assert records.load("nothing") is None
    assert records.list_machines() == []


def test_a_state_dir_without_a_supervisor_is_stopped(root: Path) -> None:
    d = root / "machines/web"
    d.mkdir(parents=True)
    (d / "state.json").write_text(state(state_dir=str(d)).to_json())
    # A pid that exists but is not our supervisor must not count as running.
    (d / "runtime.json").write_text(json.dumps({"supervisor_pid": os.getpid(), "nspawn_pid": os.getpid()}))
    st = records.load("web")
    assert st is not None and st.state == "stopped" and st.pid is None
    assert [m.name for m in records.list_machines()] == ["web"]
