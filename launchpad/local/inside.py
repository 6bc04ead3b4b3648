"""Inside a running local machine: run commands, wait for systemd and cloud-init, read logs.

There is no machined/D-Bus on the host, so commands enter the machine with
nsenter through its PID 1 (all its namespaces, a clean environment) instead of
`systemd-run -M`/`machinectl shell`. Failures carry what the machine printed:
the console (before systemd is up) or /var/log/cloud-init-output.log (after).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence

from launchpad.local import records
from launchpad.local.records import MachineError, MachineState

CLOUD_INIT_LOG = "var/log/cloud-init-output.log"
MACHINE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_LOG_UNITS: tuple[str, ...] = (
    "cloud-init-local", "cloud-init", "cloud-config", "cloud-final", "nginx", "gunicorn*", "app*", "launchpad*",
)
SYSTEMD_UP = {"starting", "running", "degraded", "maintenance"}


def nsenter(init_pid: int, argv: Sequence[str], timeout: float | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run argv in the machine whose PID 1 is init_pid; a timeout answers exit 124 instead of raising."""
    cmd = ["nsenter", "--target", str(init_pid), "--all", "--root", "--wd",
           "env", "-i", f"PATH={MACHINE_PATH}", "HOME=/root", "LANG=C.UTF-8", "TERM=dumb", *argv]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, 124, stdout=str(exc.stdout or ""), stderr=f"timed out after {timeout} s")


def running(name: str) -> MachineState:
    """The machine's state, or MachineError if it does not exist or its systemd is not up."""
    records.validate_name(name)
    st = records.load(name)
    if st is None:
        known = ", ".join(m.name for m in records.list_machines()) or "none"
        raise MachineError(f"machine {name} does not exist (known: {known})")
    if not st.init_pid:
        raise MachineError(f"machine {name} is {st.state}, not running")
    return st


def run(name: str, argv: Sequence[str], check: bool = True, timeout: float | None = None,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run argv as root inside the machine (all its namespaces, clean
    environment) and return the completed process; with check, a non-zero exit
    raises MachineError carrying stdout/stderr."""
    st = running(name)
    assert st.init_pid is not None
    done = nsenter(st.init_pid, argv, timeout=timeout, input=input)
    done.args = list(argv)
    if check and done.returncode != 0:
        raise MachineError(
            f"{name}: {' '.join(argv)} exited {done.returncode}\nstdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()}"
        )
    return done


def console_tail(name: str, lines: int = 30) -> str:
    try:
        text = (records.machine_dir(name) / "console.log").read_text(errors="replace")
    except OSError:
        return "(no console log)"
    return "\n".join(text.splitlines()[-lines:])


def cloud_init_log_tail(name: str, lines: int = 40) -> str:
    path = records.machine_dir(name) / "rootfs" / CLOUD_INIT_LOG
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no /{CLOUD_INIT_LOG} yet)"
    return "\n".join(text.splitlines()[-lines:])


def wait_systemd(name: str, deadline_s: float, old_init: int | None = None) -> MachineState:
    """Until the machine's PID 1 (a new one, if old_init is given) answers
    `systemctl is-system-running` with a live state."""
    end = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < end:
        st = records.load(name)
        if st is None:
            raise MachineError(f"machine {name} disappeared while booting")
        if st.state == "stopped":
            raise MachineError(f"machine {name} stopped while booting; console:\n{console_tail(name)}")
        if st.init_pid and st.init_pid != old_init:
            done = nsenter(st.init_pid, ["systemctl", "is-system-running"], timeout=10)
            last = done.stdout.strip()
            if last in SYSTEMD_UP:
                return st
        time.sleep(0.2)
    raise MachineError(
        f"machine {name}: systemd not up after {deadline_s:.0f} s (last state {last or 'none'}); "
        f"console:\n{console_tail(name)}"
    )


def wait_cloud_init(name: str, deadline_s: float) -> None:
    """Return when cloud-init has finished all stages without error; raise
    MachineError with the tail of /var/log/cloud-init-output.log if it failed,
    the machine stopped, or the deadline passed."""
    end = time.monotonic() + deadline_s
    last = "unknown"
    while time.monotonic() < end:
        st = records.load(name)
        if st is None or st.state == "stopped":
            raise MachineError(f"machine {name} stopped before cloud-init finished:\n{cloud_init_log_tail(name)}")
        if st.init_pid:
            done = nsenter(st.init_pid, ["cloud-init", "status", "--long"], timeout=30)
            fields = dict(
                line.split(":", 1) for line in done.stdout.splitlines() if ":" in line and not line.startswith(" ")
            )
            last = fields.get("status", "").strip() or last
            if last == "done":
                return
            if last in ("error", "disabled"):
                detail = fields.get("detail", "").strip()
                raise MachineError(
                    f"cloud-init on {name} finished with status {last} ({detail}):\n{cloud_init_log_tail(name)}"
                )
        time.sleep(1.0)
    raise MachineError(
        f"cloud-init on {name} not done after {deadline_s:.0f} s (status {last}):\n{cloud_init_log_tail(name)}"
    )


def logs(name: str, units: Sequence[str] = DEFAULT_LOG_UNITS, lines: int = 200) -> str:
    """cloud-init-output.log, then (if the machine runs) the journal of the
    cloud-init, nginx and app units, else the console."""
    records.validate_name(name)
    st = records.load(name)
    if st is None:
        raise MachineError(f"machine {name} does not exist")
    parts = [f"==> /{CLOUD_INIT_LOG} <==", cloud_init_log_tail(name, lines)]
    if st.init_pid:
        argv = ["journalctl", "--no-pager", "-o", "short-iso", "-n", str(lines)]
        for unit in units:
            argv += ["-u", unit]
        done = nsenter(st.init_pid, argv, timeout=30)
        parts += [f"==> journalctl {' '.join('-u ' + u for u in units)} <==", done.stdout.strip() or done.stderr.strip()]
    else:
        parts += ["==> console (machine not running) <==", console_tail(name, lines)]
    return "\n".join(parts) + "\n"
