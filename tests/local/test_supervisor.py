"""launchpad/local/supervisor.py with a fake nspawn: restart on 133, stop otherwise, SIGTERM forwarding."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# The real supervisor creates the machine's veth before each boot; here it must not.
RUNNER = (
    "import sys; import launchpad.local.net as n; n.ensure_link = lambda *a: None; "
    "from launchpad.local.supervisor import main; sys.exit(main(sys.argv[1:]))"
)


def _state_dir(tmp_path: Path, script: str) -> Path:
    fake = tmp_path / "fake-nspawn.py"
    fake.write_text(script)
    (tmp_path / "state.json").write_text(json.dumps({
        "nspawn_argv": [sys.executable, str(fake), str(tmp_path)],
        "netns": "unused", "interface": "unused", "subnet": "10.213.0.0/30",
    }))
    return tmp_path


def _runtime(d: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((d / "runtime.json").read_text())
    return data


def test_restarts_on_reboot_exit_code_and_stops_on_poweroff(tmp_path: Path) -> None:
    # Exits 133 (reboot) twice, then 0 (poweroff).
    d = _state_dir(tmp_path, (
        "import sys, pathlib\n"
        "c = pathlib.Path(sys.argv[1], 'boots'); n = int(c.read_text()) if c.exists() else 0\n"
        "c.write_text(str(n + 1)); sys.exit(133 if n < 2 else 0)\n"
    ))
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(d)], timeout=30)
    assert proc.returncode == 0
    assert (d / "boots").read_text() == "3"
    runtime = _runtime(d)
    assert runtime["boots"] == 3 and runtime["phase"] == "stopped" and runtime["last_exit"] == 0


def test_a_boot_loop_ends_the_supervisor(tmp_path: Path) -> None:
    d = _state_dir(tmp_path, "import sys; sys.exit(133)\n")
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(d)], timeout=30)
    assert proc.returncode == 1
    assert "boot loop" in str(_runtime(d)["error"])


def test_sigterm_is_passed_to_nspawn_and_nothing_restarts(tmp_path: Path) -> None:
    # The fake records the SIGTERM and exits 133, as if it were rebooting: the
    # supervisor must still not start it again.
    d = _state_dir(tmp_path, (
        "import signal, sys, time, pathlib\n"
        "def term(*_):\n"
        "    pathlib.Path(sys.argv[1], 'got-sigterm').write_text('1'); sys.exit(133)\n"
        "signal.signal(signal.SIGTERM, term)\n"
        "pathlib.Path(sys.argv[1], 'started').write_text('1')\n"
        "time.sleep(60)\n"
    ))
    sup = subprocess.Popen([sys.executable, "-c", RUNNER, str(d)])
    end = time.monotonic() + 20
    while not (d / "started").exists() and time.monotonic() < end:
        time.sleep(0.05)
    nspawn_pid = _runtime(d)["nspawn_pid"]
    assert isinstance(nspawn_pid, int)
    sup.send_signal(signal.SIGTERM)
    assert sup.wait(timeout=20) == 0
    assert (d / "got-sigterm").exists()
    assert _runtime(d)["boots"] == 1
    assert not os.path.exists(f"/proc/{nspawn_pid}")  # reaped, not orphaned


def test_detach_prints_the_pid_of_a_process_that_is_not_our_child(tmp_path: Path) -> None:
    d = _state_dir(tmp_path, "import time; time.sleep(60)\n")
    runner = RUNNER.replace("main(sys.argv[1:])", "main(['--detach'] + sys.argv[1:])")
    out = subprocess.run([sys.executable, "-c", runner, str(d)], capture_output=True, text=True, timeout=20)
    pid = int(out.stdout.strip())
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(stat[1]) != os.getpid()  # parent is not us: no zombie when it dies
        assert int(stat[3]) != os.getsid(0)  # its own session: our terminal's signals do not reach it
    finally:
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 20
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < end:
            time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")
