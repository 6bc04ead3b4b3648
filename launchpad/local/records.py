"""A local machine's records on the host, and the one module that reads and writes them.

Each machine owns /var/lib/launchpad/machines/<name>/ with two records:
- state.json: what `up` decided (addresses, paths, the nspawn command line) and
  which machines may connect to it. Written by `up` (machine.py) and allow/deny
  (ingress.py); read by the supervisor, which boots the command line recorded there.
- runtime.json: what the supervisor sees (its pid, nspawn's pid, the boot phase).
  Written by the supervisor (supervisor.py); removed by `up` before it starts one.
Both are replaced atomically (temporary file, then rename): a reader never sees half
a record, even while the supervisor writes during a reboot.

`load` joins the two records with a look at /proc (proc.py): the live state that
`status` reports.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from launchpad.local import net, proc

STATE_ROOT = Path("/var/lib/launchpad")
STATE_FILE = "state.json"
RUNTIME_FILE = "runtime.json"
SUPERVISOR_MODULE = "launchpad.local.supervisor"
"""How the supervisor is started (`python -m ...`): part of what identifies its process."""
LIVE_FIELDS = ("state", "pid", "nspawn_pid", "init_pid")
"""MachineState fields seen in /proc and runtime.json, never stored in state.json."""


class MachineError(RuntimeError):
    """A local machine did not do what was asked; the message says what it did instead."""


@dataclass
class MachineState:
    name: str
    instance_id: str
    address: str
    """The machine's IPv4 address; the host reaches it directly."""
    host_address: str
    """The host's end of the link: the machine's default gateway. Services on
    the host that machines must reach listen here."""
    subnet: str
    interface: str
    netns: str
    state_dir: str
    rootfs: str
    base: str
    state: str = "stopped"
    """running | starting | rebooting | stopped | orphaned (nspawn alive, supervisor gone: `up` restarts it)"""
    pid: int | None = None
    """The supervisor's pid (None when stopped)."""
    nspawn_pid: int | None = None
    init_pid: int | None = None
    started_at: str | None = None
    created_at: str | None = None
    ingress: list[tuple[str, int]] = field(default_factory=list)
    """(source machine, TCP port) pairs allowed to open connections to this one."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MachineState:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["ingress"] = [(str(s), int(p)) for s, p in values.get("ingress", [])]
        return cls(**values)


def validate_name(name: str) -> None:
    if not net.NAME_RE.match(name):
        raise ValueError(
            f"machine name {name!r} is not valid: use 1-63 lowercase letters, digits and '-', "
            "not starting or ending with '-' (it becomes the machine's hostname)"
        )


def machine_dir(name: str) -> Path:
    return STATE_ROOT / "machines" / name


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextmanager
def host_lock() -> Iterator[None]:
    """Serialises everything that reads all machines to change shared host
    state: address choice, the nft table, ip_forward."""
    STATE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(STATE_ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def write_record(path: Path, data: dict[str, Any]) -> None:
    """A stack's own record (fleet.json, address.json): written whole or not at all, in a root-only folder."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_json(path, data)


# state.json

def read_state(state_dir: Path) -> dict[str, Any]:
    """The raw record ({} if there is none), including the recorded `nspawn_argv`."""
    return _read_json(state_dir / STATE_FILE)


def save_state(st: MachineState, nspawn_argv: list[str]) -> None:
    """Record what `up` decided, with the command line the supervisor will boot."""
    record: dict[str, Any] = {k: v for k, v in asdict(st).items() if k not in LIVE_FIELDS}
    record["nspawn_argv"] = nspawn_argv
    _write_json(Path(st.state_dir) / STATE_FILE, record)


def save_ingress(name: str, ingress: list[tuple[str, int]]) -> None:
    path = machine_dir(name) / STATE_FILE
    record = _read_json(path)
    record["ingress"] = sorted(set(ingress))
    _write_json(path, record)


# runtime.json

def read_runtime(state_dir: Path) -> dict[str, Any]:
    return _read_json(state_dir / RUNTIME_FILE)


def update_runtime(state_dir: Path, **fields: object) -> None:
    """Merge fields into runtime.json (the supervisor's record of what it sees)."""
    current = read_runtime(state_dir)
    current.update(fields, updated_at=time.time())
    _write_json(state_dir / RUNTIME_FILE, current)


def clear_runtime(state_dir: Path) -> None:
    (state_dir / RUNTIME_FILE).unlink(missing_ok=True)


# the live view

def supervisor_markers(name: str) -> tuple[str, str]:
    return (SUPERVISOR_MODULE, str(machine_dir(name)))


def load(name: str) -> MachineState | None:
    """The machine's record with its live state, or None if it does not exist."""
    record = read_state(machine_dir(name))
    if not record:
        return None
    st = MachineState.from_dict(record)
    runtime = read_runtime(machine_dir(name))
    pid = runtime.get("supervisor_pid")
    # Without a live supervisor nspawn may still run (the supervisor was killed
    # hard): the machine runs but nothing would restart it on reboot.
    supervised = proc.alive(pid, *supervisor_markers(name))
    st.pid = pid if supervised else None
    nspawn_pid = runtime.get("nspawn_pid")
    st.nspawn_pid = nspawn_pid if proc.alive(nspawn_pid, "systemd-nspawn", st.rootfs) else None
    st.init_pid = proc.init_pid(st.nspawn_pid)
    if supervised:
        phase = runtime.get("phase", "starting")
        st.state = "running" if st.init_pid else ("rebooting" if phase == "rebooting" else "starting")
    else:
        st.state = "orphaned" if st.nspawn_pid else "stopped"
    return st


def list_machines() -> list[MachineState]:
    root = STATE_ROOT / "machines"
    if not root.is_dir():
        return []
    found = [load(d.name) for d in sorted(root.iterdir()) if d.is_dir() and net.NAME_RE.match(d.name)]
    return [m for m in found if m is not None]
