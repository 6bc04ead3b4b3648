"""wrk, run inside a local machine's network namespace, read back as numbers.

The host's wrk binary enters only the machine's network namespace (`nsenter -n`):
every setup is loaded through the machine's own loopback, by the same generator,
over the same path. A Lua `done` hook prints the summary as JSON, so nothing
depends on wrk's human-readable units.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from launchpad.local import machine

MARK = "WRKJSON "
DONE_HOOK = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('%s{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    "MARK", summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
""".replace("MARK", MARK)


@dataclass
class WrkResult:
    url: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    """Socket errors (connect, read, write, timeout) plus non-2xx/3xx answers."""
    cpu_us: dict[str, float] = field(default_factory=dict)
    """CPU microseconds per request by process name, when the caller measured it (bench/cpu.py)."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _hook() -> Path:
    path = Path(tempfile.gettempdir()) / "lp-bench-wrk-done.lua"
    path.write_text(DONE_HOOK)
    return path


def run(machine_name: str, url: str, connections: int, seconds: float = 10.0, threads: int = 2,
        host_header: str | None = None, cpus: str | None = None) -> WrkResult:
    """One bounded wrk run against url, from inside the machine's network namespace;
    `cpus` pins wrk to those CPUs (taskset list, e.g. "1")."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed on the host: apt-get install wrk")
    st = machine.status(machine_name)
    if st is None or not st.init_pid:
        raise RuntimeError(f"machine {machine_name} is not running")
    argv = ["nsenter", "--target", str(st.init_pid), "--net", *(["taskset", "-c", cpus] if cpus else []),
            "wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s",
            "--timeout", "5s", "-s", str(_hook())]
    if host_header:
        argv += ["-H", f"Host: {host_header}"]
    argv.append(url)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk against {url} failed (exit {proc.returncode}): {proc.stdout[-1500:]} {proc.stderr[-1500:]}")
    data = json.loads(line[len(MARK):])
    secs = data["duration_us"] / 1e6
    errors = data["connect"] + data["read"] + data["write"] + data["timeout"] + data["status"]
    return WrkResult(url=url, connections=connections, seconds=round(secs, 2), requests=data["requests"],
                     rps=round(data["requests"] / secs, 1), p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                     errors=errors)
