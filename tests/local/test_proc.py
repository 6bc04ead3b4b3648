"""launchpad/local/proc.py: a pid counts as ours only while it runs the command we started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from launchpad.local import proc


def test_alive_needs_every_marker_in_the_command_line() -> None:
    me = os.getpid()
    assert proc.alive(me, sys.executable)
    assert not proc.alive(me, sys.executable, "launchpad.local.supervisor")
    assert not proc.alive(None) and not proc.alive(0)


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
        pass  # exits within milliseconds; not reaped yet, so a zombie
    try:
        assert not proc.alive(child.pid)
    finally:
        child.wait()


def test_stop_leaves_a_process_that_is_not_ours_alone() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        proc.stop(sleeper.pid, ("systemd-nspawn",), timeout_s=1)
        assert sleeper.poll() is None
        proc.stop(sleeper.pid, ("time.sleep(30)",), timeout_s=5)
        assert sleeper.wait(timeout=5) != 0
    finally:
        sleeper.kill()
        sleeper.wait()


def test_mounts_under_includes_the_path_itself_not_its_siblings() -> None:
    assert "/proc" in proc.mounts_under(Path("/proc"))
    assert proc.is_mounted(Path("/proc"))
    assert "/proc" not in proc.mounts_under(Path("/pro"))
