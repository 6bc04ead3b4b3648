"""launchpad/local/machine.py without root: the nspawn command line, and a machine that does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchpad.local import machine, records
from .test_records import state as _state


def test_nspawn_argv_has_the_flags_a_machined_less_host_needs() -> None:
    argv = machine.nspawn_argv(_state())
    for flag in ("--boot", "--register=no", "--keep-unit", "--resolv-conf=off"):
        assert flag in argv
    assert argv[argv.index("--network-namespace-path") + 1] == "/run/netns/launchpad-web"
    assert argv[argv.index("--uuid") + 1] == machine.nspawn_argv(_state())[argv.index("--uuid") + 1]
    assert machine.nspawn_argv(_state(name="db"))[argv.index("--uuid") + 1] != argv[argv.index("--uuid") + 1]


def test_status_of_a_missing_machine_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "STATE_ROOT", tmp_path)
    assert machine.status("nothing") is None
    assert machine.list_machines() == []
    machine.down("nothing")  # no-op, no error


def test_binds_mount_the_store_read_only_and_the_pip_cache_read_write(tmp_path: Path) -> None:
    argv = machine.nspawn_argv(_state(), [("/var/lib/launchpad/stacks/dev/store", "/var/lib/launchpad/store", True),
                                          ("/var/cache/launchpad/pip", "/var/cache/launchpad/pip", False)])
    assert "--bind-ro=/var/lib/launchpad/stacks/dev/store:/var/lib/launchpad/store" in argv
    assert "--bind=/var/cache/launchpad/pip:/var/cache/launchpad/pip" in argv
    with pytest.raises(ValueError, match="bind"):
        machine.up(machine.MachineSpec("web", "#cloud-config\n", "i-1", binds=[(str(tmp_path / "missing"), "/x", True)]))
