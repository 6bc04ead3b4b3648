"""Release time: seconds from `launchpad deploy` starting to the new code answering, and failed requests meanwhile.

Each release changes the benchmark app's code (version.py); "changed" releases also
change requirements.txt (a new dependency pin), so the agent builds a new venv (wheels
from the host's shared pip cache) instead of reusing the live one. The deploy is the
one `launchpad deploy --stack benchpage` runs (launchpad.local.release.deploy: build the
artifact, publish to the store, poke the agent, wait for the release id through Nginx).

Clocks, from the moment the deploy starts:
- new code: the first answer of `GET /version` (polled every 50 ms through Nginx on the
  machine's address) naming the new version;
- returned: when deploy returned (the release id seen on the health path).
The agent's own steps (fetched, installed, release command, slot started/healthy,
switched) come from its journal. A steady load (3 threads, 100 req/s in all, a new
connection per request, from the host to the machine's address) runs from before the
deploy until the agent has retired the old slot; every answer other than 200 and every
socket error counts as failed. Unchanged and changed releases alternate.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import stats
from bench.rig import Rig, app_dir
from launchpad.local import release as local_release
from launchpad.release.publish import stack_secrets

Progress = Callable[[str], None]
STEP = re.compile(r"([0-9a-f]{12}): (fetched|installed|database writable|release command done|slot \w started|slot \w was parked"
                  r"|slot \w healthy|live on slot \w|slot \w \(\w+\) (?:stopped|parked)).*?\(([\d.]+) s\)", re.DOTALL)
"""The agent's journal lines: `<id>: <step> ... (<seconds since the previous step> s)`."""


@dataclass
class Load:
    """Bounded steady GETs to a local machine's address; stops at max_seconds at the latest."""

    address: str
    rate: float = 100.0
    threads: int = 3
    max_seconds: float = 600.0
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _loop(self) -> None:
        interval, end = self.threads / self.rate, time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < end:
            started = time.monotonic()
            conn = http.client.HTTPConnection(self.address, 80, timeout=10)
            try:
                conn.request("GET", "/")
                resp = conn.getresponse()
                resp.read()
                bad = None if resp.status == 200 else f"HTTP {resp.status}"
            except OSError as exc:
                bad = type(exc).__name__
            finally:
                conn.close()
            with self._lock:
                self.sent += 1
                if bad:
                    self.failed.append(bad)
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def __enter__(self) -> Load:
        self._workers = [threading.Thread(target=self._loop, daemon=True) for _ in range(self.threads)]
        for t in self._workers:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(15)


def first_seen(address: str, marker: str, stop: threading.Event, out: dict[str, float], t0: float) -> None:
    """Polls GET /version every 50 ms; records when it first names marker (bounded by stop)."""
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection(address, 80, timeout=2)
            conn.request("GET", "/version")
            body = conn.getresponse().read().decode(errors="replace")
            conn.close()
            if body.strip() == marker:
                out["new_code_s"] = time.monotonic() - t0
                return
        except OSError:
            pass
        stop.wait(0.05)


def change_app(marker: str, deps: bool) -> None:
    folder = app_dir()
    (folder / "version.py").write_text(f'"""Which code is live (rewritten by bench/release_time.py)."""\nVERSION = "{marker}"\n')
    req = folder / "requirements.txt"
    base = "\n".join(ln for ln in req.read_text().splitlines() if not ln.startswith(("six", "# bench")))
    req.write_text(base.rstrip() + "\n" + (f"six~=1.16\n# bench: dependency change {marker}\n" if deps else ""))


def agent_steps(rig: Rig, rid: str, since: str) -> dict[str, float]:
    log = rig.web.sh(f"journalctl -u launchpad-agent.service --since '{since}' -o cat --no-pager", check=False)
    names = {"live on slot": "switched", "slot was parked": "slot woken"}
    out = {}
    for m in STEP.finditer(log):
        if m.group(1) == rid:
            step = re.sub(r"^slot \w \(\w+\) (stopped|parked)$", r"old slot \1", m.group(2))
            step = re.sub(r"^slot \w (started|healthy|was parked)$", r"slot \1", step)
            step = re.sub(r"^live on slot \w$", "live on slot", step)
            out[names.get(step, step)] = float(m.group(3))
    return out


def agent_idle(rig: Rig, timeout_s: float = 120) -> None:
    """Until the agent's deploy has finished (old slot retired, status recorded)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if rig.web.sh("systemctl is-active launchpad-agent.service || true").strip() in ("inactive", "failed"):
            return
        time.sleep(0.2)


def once(rig: Rig, marker: str, deps: bool, progress: Progress) -> dict[str, Any]:
    change_app(marker, deps)
    secrets = stack_secrets(rig.settings)
    since = rig.web.sh("date '+%Y-%m-%d %H:%M:%S'").strip()
    seen: dict[str, float] = {}
    stop = threading.Event()
    with Load(rig.address) as load:
        time.sleep(1.0)
        t0 = time.monotonic()
        poller = threading.Thread(target=first_seen, args=(rig.address, marker, stop, seen, t0), daemon=True)
        poller.start()
        prepared, live = local_release.deploy(rig.settings, secrets, rig.address, 600, progress=lambda _: None)
        returned = time.monotonic() - t0
        poller.join(30)
        stop.set()
        agent_idle(rig)
        time.sleep(1.0)
    status = rig.web.status()
    took = next((h.get("took_s") for h in status.get("history", []) if h.get("id") == prepared.manifest.id), None)
    return {"marker": marker, "deps_changed": deps, "release": prepared.manifest.id, "new_code_s": round(seen.get("new_code_s", -1), 2),
            "returned_s": round(returned, 2), "agent_took_s": took, "steps": agent_steps(rig, prepared.manifest.id, since),
            "requests": load.sent, "failed": len(load.failed), "failures": sorted(set(load.failed))}


def run(rig: Rig, n_each: int, progress: Progress = print) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"unchanged": [], "changed": []}
    for i in range(n_each):
        for case in ("unchanged", "changed"):
            r = once(rig, f"v{int(time.time())}-{i}-{case}", case == "changed", progress)
            runs[case].append(r)
            progress(f"  release {i + 1} deps {case:9s} {r['release']}: new code after {r['new_code_s']:.2f} s "
                     f"(deploy returned {r['returned_s']:.2f} s, agent {r['agent_took_s']} s); "
                     f"{r['failed']} of {r['requests']} requests failed {r['failures'] or ''}")
    summary = {}
    for case, rs in runs.items():
        secs = [r["new_code_s"] for r in rs if r["new_code_s"] >= 0]
        summary[case] = {"p50_s": round(stats.percentile(secs, 50), 2) if secs else None, "max_s": max(secs) if secs else None,
                         "failed": sum(r["failed"] for r in rs), "requests": sum(r["requests"] for r in rs),
                         "not_seen": sum(1 for r in rs if r["new_code_s"] < 0)}
    return {"n_each": n_each, "summary": summary, "runs": runs,
            "met": all(s["failed"] == 0 and s["not_seen"] == 0 for s in summary.values())}
