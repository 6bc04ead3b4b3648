"""Parts of launchpad/local/machine.py that need no root: state, names, files, wait_http."""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from launchpad.local import machine


def _state(**overrides: object) -> machine.MachineState:
    values: dict[str, object] = dict(
        name="web", instance_id="i-1", address="10.213.0.2", host_address="10.213.0.1", subnet="10.213.0.0/30",
        interface="lp-web", netns="launchpad-web", state_dir="/var/lib/launchpad/machines/web",
        rootfs="/var/lib/launchpad/machines/web/rootfs", base="/var/cache/launchpad/base-x",
    )
    values.update(overrides)
    return machine.MachineState(**values)  # type: ignore[arg-type]


def test_state_json_round_trip() -> None:
    st = _state(state="running", pid=42, ingress=[("web", 5432)])
    again = machine.MachineState.from_dict(json.loads(st.to_json()))
    assert again == st


def test_state_from_dict_ignores_keys_it_does_not_know() -> None:
    data = json.loads(_state().to_json())
    data["nspawn_argv"] = ["systemd-nspawn"]
    assert machine.MachineState.from_dict(data) == _state()


@pytest.mark.parametrize("name", ["web", "db-1", "a", "x" * 63])
def test_valid_names(name: str) -> None:
    machine.validate_name(name)


@pytest.mark.parametrize("name", ["", "Web", "-web", "web-", "web_1", "web.local", "x" * 64, "../etc"])
def test_invalid_names_are_rejected_with_the_rule(name: str) -> None:
    with pytest.raises(ValueError, match="lowercase letters, digits"):
        machine.validate_name(name)


@pytest.mark.parametrize("path", ["etc/app.env", "/etc/../../host", "/"])
def test_file_paths_must_stay_inside_the_machine(path: str) -> None:
    with pytest.raises(ValueError, match="absolute file path"):
        machine._safe_machine_path(Path("/rootfs"), path)


def test_file_path_maps_into_rootfs() -> None:
    assert machine._safe_machine_path(Path("/r"), "/etc/launchpad/app.env") == Path("/r/etc/launchpad/app.env")


def test_write_file_sets_mode_regardless_of_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        target = tmp_path / "etc/launchpad/app.env"
        machine._write_file(target, b"SECRET=1\n", 0o640)
    finally:
        os.umask(old)
    assert target.read_bytes() == b"SECRET=1\n"
    assert target.stat().st_mode & 0o777 == 0o640


def test_write_file_replaces_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    outside = tmp_path / "host-file"
    outside.write_text("host\n")
    link = tmp_path / "rootfs/etc/app.env"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    machine._write_file(link, b"machine\n", 0o600)
    assert outside.read_text() == "host\n"
    assert not link.is_symlink() and link.read_text() == "machine\n"


def test_nspawn_argv_has_the_flags_a_machined_less_host_needs() -> None:
    argv = machine._nspawn_argv(_state())
    for flag in ("--boot", "--register=no", "--keep-unit", "--resolv-conf=off"):
        assert flag in argv
    assert argv[argv.index("--network-namespace-path") + 1] == "/run/netns/launchpad-web"
    assert argv[argv.index("--uuid") + 1] == machine._nspawn_argv(_state())[argv.index("--uuid") + 1]
    assert machine._nspawn_argv(_state(name="db"))[argv.index("--uuid") + 1] != argv[argv.index("--uuid") + 1]


def test_status_of_a_missing_machine_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "STATE_ROOT", tmp_path)
    assert machine.status("nothing") is None
    assert machine.list_machines() == []
    machine.down("nothing")  # no-op, no error


def test_a_state_dir_without_a_supervisor_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "STATE_ROOT", tmp_path)
    d = tmp_path / "machines/web"
    d.mkdir(parents=True)
    (d / "state.json").write_text(_state(state_dir=str(d)).to_json())
    # A pid that exists but is not our supervisor must not count as running.
    (d / "runtime.json").write_text(json.dumps({"supervisor_pid": os.getpid(), "nspawn_pid": os.getpid()}))
    st = machine.status("web")
    assert st is not None and st.state == "stopped" and st.pid is None
    assert [m.name for m in machine.list_machines()] == ["web"]


class _Flaky(http.server.BaseHTTPRequestHandler):
    """503 for the first two requests, then 200 if the Host header matches."""

    calls = 0
    expected_host = "app.example"

    def do_GET(self) -> None:
        type(self).calls += 1
        ok = type(self).calls > 2 and self.headers.get("Host") == self.expected_host
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"wait")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[str]:
    _Flaky.calls = 0
    server = http.server.HTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_wait_http_polls_until_200_with_the_host_header(flaky_server: str) -> None:
    seconds = machine.wait_http(flaky_server, deadline_s=10, host_header="app.example")
    assert _Flaky.calls == 3
    assert 0 < seconds < 10


def test_wait_http_times_out_with_the_last_answer(flaky_server: str) -> None:
    with pytest.raises(TimeoutError, match="HTTP 503"):
        machine.wait_http(flaky_server, deadline_s=1, host_header="other.example")
