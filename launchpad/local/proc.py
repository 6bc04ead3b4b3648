"""What the host's /proc says about a machine's processes and mounts, and how to stop them.

No machine knowledge here: callers pass pids and the markers that identify their
processes. Every check by pid also checks the command line, so a recycled pid is
never mistaken for (or killed as) one of ours.
"""

from __future__ import annotations

import os
import signal as signals
import time
from collections.abc import Sequence
from pathlib import Path


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int | None, *markers: str) -> bool:
    """pid is running (not a zombie) and its command line contains every marker."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
        return False
    cmd = " ".join(cmdline(pid))
    return all(m in cmd for m in markers)


def children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def init_pid(nspawn_pid: int | None) -> int | None:
    """The machine's PID 1, seen from the host: the child of systemd-nspawn
    living in another pid namespace."""
    if not nspawn_pid:
        return None
    try:
        own_ns = os.readlink(f"/proc/{nspawn_pid}/ns/pid")
    except OSError:
        return None
    for kid in children(nspawn_pid):
        try:
            if os.readlink(f"/proc/{kid}/ns/pid") != own_ns:
                return kid
        except OSError:
            continue
    return None


def signal(pid: int | None, sig: int) -> None:
    if pid:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def wait_gone(pid: int | None, markers: Sequence[str], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not alive(pid, *markers):
            return True
        time.sleep(0.1)
    return not alive(pid, *markers)


def stop(pid: int | None, markers: Sequence[str], timeout_s: float) -> None:
    """SIGTERM (for nspawn and the supervisor: a clean shutdown of the machine),
    SIGKILL if it is still there after timeout_s. No-op unless pid is ours."""
    if alive(pid, *markers):
        signal(pid, signals.SIGTERM)
        if not wait_gone(pid, markers, timeout_s):
            signal(pid, signals.SIGKILL)
            wait_gone(pid, markers, 5)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


def is_mounted(path: Path) -> bool:
    return str(path) in _mount_points()


def mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    return [p for p in _mount_points() if p == str(path) or p.startswith(prefix)]
