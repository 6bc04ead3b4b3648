"""Slow clients: fast clients' throughput and p99 while N slow clients hold connections open.

In the web machine's network namespace, bench/slowclients.py keeps N clients (100, 500)
either trickling a request one byte a second (they never finish their headers) or
reading a 1 MiB answer (`/big`, made by the app) at 1 KiB a second; meanwhile wrk -c32
measures Hello World. Two targets, interleaved in every round:
- stack: Nginx (port 80) -> gunicorn sync, as rendered (Nginx reads whole requests and
  buffers whole answers before a worker sees or leaves them);
- bare:  the same release's gunicorn sync, same workers, alone on 127.0.0.1.
Each target is also measured without slow clients in the same round (its own baseline).
Target: the stack keeps ≥ 0.9 × its unloaded req/s. What bare gunicorn does is reported.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import measure, stats
from bench.rig import Rig

BARE_PORT = 8002
COUNTS = (100, 500)
MODES = ("trickle", "slowread")
TARGET = 0.9
RAMP_S = 3.0
SETTLE_S = 20.0
SETTLE_CORES = 0.5
CONNECTIONS = 32
SCRIPT = Path(__file__).resolve().parent / "slowclients.py"

Progress = Callable[[str], None]


def start_slow(rig: Rig, port: int, n: int, mode: str, seconds: float) -> subprocess.Popen[str]:
    """The slow clients, inside the web machine's network namespace only (targets: its loopback)."""
    argv = ["nsenter", "--target", str(rig.web.init_pid()), "--net", sys.executable, str(SCRIPT),
            "--port", str(port), "--n", str(n), "--mode", mode, "--seconds", f"{seconds:g}", "--ramp", f"{RAMP_S:g}"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_slow(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """SIGTERM to our own child (by PID, via Popen), then its summary."""
    if proc.poll() is None:
        proc.terminate()
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    try:
        return stats.marked_json(out, "SLOWJSON ")
    except ValueError:
        return {"error": f"slow clients exited {proc.returncode}: {err[-500:]}"}


def recover(rig: Rig, key: str) -> float:
    """Seconds until the target answers again after its slow clients left (bare gunicorn's workers may be stuck)."""
    url = "http://127.0.0.1/" if key == "stack" else f"http://127.0.0.1:{BARE_PORT}/"
    started = time.monotonic()
    try:
        rig.web.wait_200(url, timeout_s=45)
    except RuntimeError:
        rig.web.bare(BARE_PORT)
    return round(time.monotonic() - started, 1)


def run(rig: Rig, seconds: float, n_rounds: int, progress: Progress = print,
        counts: tuple[int, ...] = COUNTS, modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    bare = rig.web.bare(BARE_PORT)
    targets = {"stack": ("http://127.0.0.1/", 80), "bare": (f"{bare}/", BARE_PORT)}
    cases = [("none", 0)] + [(mode, n) for n in counts for mode in modes]
    raw: dict[str, list[dict[str, Any]]] = {}
    try:
        for rnd in range(n_rounds):
            for key, (url, port) in targets.items():
                for mode, n in cases:
                    name = f"{key} {mode} {n}" if n else f"{key} unloaded"
                    # Bounded; stopped as soon as wrk is done. Long enough for the settle wait below.
                    proc = start_slow(rig, port, n, mode, RAMP_S + SETTLE_S + seconds + 20) if n else None
                    if proc:
                        time.sleep(RAMP_S + 1.0)
                    try:
                        # Loaded: wrk starts once the host is back under SETTLE_CORES (the slow readers'
                        # answers buffered, at most SETTLE_S): the steady state with N clients holding on.
                        r = measure.run([rig.web.name], url, CONNECTIONS, seconds, quiet_max=0.25 if not n else SETTLE_CORES,
                                        quiet_wait=None if not n else SETTLE_S)
                    finally:
                        r_slow = stop_slow(proc) if proc else {}
                    r["slow"] = r_slow
                    r["recovered_s"] = recover(rig, key) if n else 0.0
                    raw.setdefault(name, []).append(r)
                    progress(f"  slow round {rnd + 1} {name:22s} {r['rps']:9.0f} req/s  p99 {r['p99_ms']:8.2f} ms  "
                             f"errors {r['errors']}  slow: open max {r_slow.get('max_open', '-')}, "
                             f"cut {r_slow.get('closed_by_server', '-')}; answering again after {r['recovered_s']} s")
    finally:
        rig.web.stop("lp-bench-bare")
    table = {k: stats.median_runs(v) for k, v in raw.items()}
    for k, row in table.items():
        row["slow"] = [r["slow"] for r in row["runs"]]
    kept = {}
    for key in targets:
        base = table[f"{key} unloaded"]["rps"]
        kept[key] = {f"{mode} {n}": stats.ratio(table[f"{key} {mode} {n}"]["rps"], base) for mode, n in cases if n}
    return {"counts": list(counts), "modes": list(modes), "seconds": seconds, "rounds": n_rounds, "connections": CONNECTIONS,
            "setups": table, "kept": kept, "target": TARGET, "met": all(v >= TARGET for v in kept["stack"].values())}
