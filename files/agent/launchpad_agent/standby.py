"""The previous release stays warm, so a rollback to it is a switch.

After a switch the old slot is drained, then parked instead of stopped: its gunicorn keeps
one worker (TTOU, one worker fewer per signal) and the agent notes what it runs. Deploying
that release again (`launchpad rollback`, or forward again after one) finds the idle slot
still running it with the same environment: the workers come back (TTIN) and nginx switches
at once, instead of waiting for every worker of a cold master to import the app (seconds
for a real app on a small host: journal's 5 workers took 7-17 s on a busy 2-core machine).

A parked slot costs one worker's memory. A slot that ran the new live release itself (a
`launchpad restart`, a rotated DATABASE_URL rolled again) is stopped, not parked; a parked
one is never reused once its env file differs, for the live release, or after a reboot (the
note lives in /run, and parked units are disabled). The next new release takes the idle slot
and stops it, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

STATE_DIR = Path("/run/launchpad-agent/standby")
SIGNAL_GAP_S = 0.05
"""gunicorn's master queues at most 5 signals; spaced out, none is dropped."""


def env_digest(env_file: Path) -> str:
    return hashlib.sha256(env_file.read_bytes()).hexdigest()


def main_pid(app: str, slot: str) -> int:
    out = subprocess.run(["systemctl", "show", "-P", "MainPID", f"{app}@{slot}.service"], capture_output=True, text=True)
    return int(out.stdout.strip() or 0) if out.stdout.strip().isdigit() else 0


def children(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """Processes whose parent is `pid` (gunicorn's workers)."""
    kids = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[1] == str(pid):
            kids.append(int(stat.parent.name))
    return kids


def started(slot: str, release: str, env_file: Path) -> None:
    """The slot (re)started cold with `release` and this env file: remember both."""
    STATE_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    (STATE_DIR / f"{slot}.json").write_text(json.dumps({"release": release, "env": env_digest(env_file)}))


def forget(slot: str) -> None:
    (STATE_DIR / f"{slot}.json").unlink(missing_ok=True)


def _note(slot: str) -> dict:
    try:
        return json.loads((STATE_DIR / f"{slot}.json").read_text())
    except (OSError, ValueError):
        return {}


def reusable(note: dict, release: str, env: str, live: str | None, pid: int) -> bool:
    """A parked slot serves `release` again only if it runs exactly that: the same master it was
    parked with, the same env file, and not the live release (a restart wants a fresh master)."""
    return (release != live and note.get("release") == release and note.get("env") == env
            and pid > 0 and note.get("pid") == pid and int(note.get("workers") or 0) >= 1)


def signal_n(pid: int, sig: int, n: int, kill: Callable[[int, int], None] | None = None) -> None:
    for _ in range(max(0, n)):
        (kill or os.kill)(pid, sig)
        time.sleep(SIGNAL_GAP_S)


def warm(app: str, slot: str, release: str, env_file: Path, live: str | None) -> bool:
    """True if the idle slot is parked on `release` with this env: its workers are asked back
    (they boot while the one warm worker answers the health check and the first requests)."""
    note, pid = _note(slot), main_pid(app, slot)
    if not reusable(note, release, env_digest(env_file), live, pid):
        return False
    signal_n(pid, signal.SIGTTIN, int(note["workers"]) - 1)
    (STATE_DIR / f"{slot}.json").write_text(json.dumps({"release": release, "env": note["env"]}))
    return True


def stop(app: str, slot: str) -> int:
    """Stops the slot (and keeps it from starting at boot); nothing is parked: returns 0."""
    units = [f"{app}@{slot}.socket", f"{app}@{slot}.service"]
    subprocess.run(["systemctl", "stop", *units], capture_output=True, timeout=120)
    subprocess.run(["systemctl", "disable", "--no-reload", *units], capture_output=True)
    forget(slot)
    return 0


def park(app: str, slot: str, live: str) -> int:
    """Shrinks the drained slot's gunicorn to one worker and keeps it running, disabled at boot;
    returns how many workers it had. A slot running the new live release itself (a restart, or
    the same release rolled again for a rotated DATABASE_URL) could never be reused, and would
    keep the old credential in use: it is stopped, as is one whose release is unknown (0)."""
    note, pid = _note(slot), main_pid(app, slot)
    workers = len(children(pid)) if pid else 0
    if not workers or not note or note.get("release") == live:
        return stop(app, slot)
    subprocess.run(["systemctl", "disable", "--no-reload", f"{app}@{slot}.socket", f"{app}@{slot}.service"],
                   capture_output=True)
    signal_n(pid, signal.SIGTTOU, workers - 1)  # extra ones are ignored by gunicorn below one worker
    (STATE_DIR / f"{slot}.json").write_text(json.dumps({**note, "pid": pid, "workers": workers}))
    return workers
