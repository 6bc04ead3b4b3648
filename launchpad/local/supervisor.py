"""Keeps one local machine's systemd-nspawn alive across reboots.

Run as `python -m launchpad.local.supervisor --detach STATE_DIR`. A reboot
inside an nspawn container ends systemd-nspawn with exit code 133 and nobody
starts it again (there is no machined/systemd on the host to do it), so this
small process does: it starts nspawn with the argv recorded in
STATE_DIR/state.json, starts it again on 133, and on SIGTERM passes SIGTERM to
nspawn (a clean shutdown of the machine) and exits. Any other exit of nspawn
(`poweroff` inside, a crash) ends the supervisor too: the machine is "stopped".

`--detach` double-forks (setsid) and prints the supervisor's pid, so the caller
(the CLI, a test) is not its parent: the CLI may exit, and a test that stops it
does not leave a zombie behind. Status goes to STATE_DIR/runtime.json (through
records.py, the one writer of both records); the machine's console to
STATE_DIR/console.log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from launchpad.local import net, records

REBOOT_EXIT = 133
STOP_TIMEOUT_S = 60.0
# More reboots than this within the window is a boot loop, not a user's reboot.
MAX_QUICK_REBOOTS = 5
QUICK_WINDOW_S = 30.0


def supervise(state_dir: Path) -> int:
    record = records.read_state(state_dir)
    if "nspawn_argv" not in record:
        raise RuntimeError(f"{state_dir / records.STATE_FILE}: no nspawn_argv recorded (missing or unreadable)")
    argv: list[str] = record["nspawn_argv"]
    stopping = False
    child: subprocess.Popen[bytes] | None = None
    stop_requested_at = 0.0

    def on_term(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping, stop_requested_at
        if not stopping:
            stopping = True
            stop_requested_at = time.monotonic()
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    boots = 0
    reboots: list[float] = []
    records.update_runtime(state_dir, supervisor_pid=os.getpid(), phase="starting", boots=0, nspawn_pid=None)
    while not stopping:
        # The namespace and veth outlive nspawn; re-check them anyway so a
        # machine restarted after a host reboot (empty /run/netns) gets them back.
        net.ensure_link(record["netns"], record["interface"], net.IPv4Network(record["subnet"]))
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        boots += 1
        records.update_runtime(state_dir, phase="running", nspawn_pid=child.pid, boots=boots)
        if stopping:  # SIGTERM landed between the loop test and Popen
            child.send_signal(signal.SIGTERM)
        while True:
            try:
                code = child.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - stop_requested_at > STOP_TIMEOUT_S:
                    child.kill()
        records.update_runtime(state_dir, phase="rebooting" if code == REBOOT_EXIT else "stopped",
                       nspawn_pid=None, last_exit=code)
        if code != REBOOT_EXIT or stopping:
            return 0 if stopping else code
        now = time.monotonic()
        reboots = [t for t in reboots if now - t < QUICK_WINDOW_S] + [now]
        if len(reboots) > MAX_QUICK_REBOOTS:
            records.update_runtime(state_dir, phase="stopped", error="boot loop: too many reboots in a row")
            return 1
        print(f"launchpad supervisor: machine rebooted (nspawn exit {code}), starting it again", flush=True)
    return 0


def _detach(state_dir: Path) -> int:
    read_fd, write_fd = os.pipe()
    if os.fork() > 0:
        os.close(write_fd)
        # The grandchild's pid, once it exists.
        with os.fdopen(read_fd) as r:
            pid = r.read().strip()
        print(pid, flush=True)
        return 0 if pid else 1
    os.close(read_fd)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDONLY)
    console = os.open(state_dir / "console.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(devnull, 0)
    os.dup2(console, 1)
    os.dup2(console, 2)
    os.write(write_fd, f"{os.getpid()}\n".encode())
    os.close(write_fd)
    try:
        code = supervise(state_dir)
    except BaseException as exc:  # the console log is the only place anyone will see it
        print(f"launchpad supervisor crashed: {exc!r}", flush=True)
        records.update_runtime(state_dir, phase="stopped", error=repr(exc))
        code = 1
    os._exit(code)


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--detach"]
    if len(args) != 1:
        print("usage: python -m launchpad.local.supervisor [--detach] STATE_DIR", file=sys.stderr)
        return 2
    state_dir = Path(args[0])
    if "--detach" in argv:
        return _detach(state_dir)
    return supervise(state_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
