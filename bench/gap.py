"""Close the hello-world gap: the rendered stack with one setting changed at a time, against gunicorn alone.

Hello World (`/`) on the benchmark stack. In every round: the references (the live
release's gunicorn alone on 127.0.0.1: the rendered shape, and gthread 2×4, the best
shape alone in docs/benchmarks), then each variant applied to the rendered files in the
machine (bench/gap_variants.py: Nginx workers and CPU affinity, gunicorn workers,
accept_mutex/multi_accept, upstream keepalive with gthread at several thread counts,
backlogs, proxy_buffers, access log), the stack measured, and the files restored.
Last, the physical floor: the same stack and references with wrk pinned to CPU 1 and
every process of the machine pinned to CPU 0 (taskset), so the generator's CPU leaves
both sides. The CPU per request (µs, by process) of each run gives the arithmetic.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from typing import Any

from bench import cpu, measure, stats
from bench.gap_variants import VARIANTS, Files, Variant
from bench.rig import Rig

LEVELS = (32,)
REFS = {"bare (rendered shape)": (8002, "", "lp-bench-bare"),
        "bare gthread 2×4": (8003, "--workers=2 --worker-class=gthread --threads=4", "lp-bench-bare-gthread")}
Progress = Callable[[str], None]


def pin(rig: Rig, cpus: str) -> int:
    """Every task of every process in the machine onto `cpus` (children inherit it); returns how many."""
    ns = os.readlink(f"/proc/{rig.web.init_pid()}/ns/pid")
    n = 0
    for pid in cpu.machine_ticks(rig.web.init_pid()):
        try:
            if os.readlink(f"/proc/{pid}/ns/pid") == ns:
                subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], capture_output=True, check=False)
                n += 1
        except OSError:
            continue
    return n


def run(rig: Rig, seconds: float, n_rounds: int, progress: Progress = print, levels: tuple[int, ...] = LEVELS,
        variants: tuple[Variant, ...] = VARIANTS, pinned: bool = True) -> dict[str, Any]:
    """Every variant (the first must be "as rendered") once per round, the order rotated each round so that
    no variant always runs first or last; then (`pinned`) the floor with the generator on its own core."""
    web = rig.web
    files = Files.read(web)
    refs = {name: web.bare(port, args, unit) for name, (port, args, unit) in REFS.items()}
    cpus = web.facts()["cpus"]
    raw: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def one(key: str, url: str, c: int, pinned: str | None = None) -> None:
        r = measure.run([web.name], url, c, seconds, cpus=pinned)
        raw.setdefault((key, c), []).append(r)
        progress(f"  gap {key:52s} c{c:<4d} {r['rps']:8.0f} req/s  p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}")

    try:
        for rnd in range(n_rounds):
            progress(f"gap: round {rnd + 1} of {n_rounds}")
            for c in levels:
                for name, base in refs.items():
                    one(name, base + "/", c)
            shift = rnd % len(variants)
            for v in (*variants[shift:], *variants[:shift]):
                files.apply(web, v)
                for c in levels:
                    one(v.label, "http://127.0.0.1/", c)
            files.apply(web, VARIANTS[0])
            if not pinned:
                continue
            # The floor: the generator on its own core, everything else on the other.
            progress(f"gap: pinning the machine's processes to CPU 0 ({pin(rig, '0')} processes), wrk to CPU 1")
            try:
                for c in levels:
                    one("pinned: stack as rendered", "http://127.0.0.1/", c, "1")
                    for name, base in refs.items():
                        one(f"pinned: {name}", base + "/", c, "1")
            finally:
                pin(rig, f"0-{cpus - 1}")
    finally:
        files.restore(web)
        for _, _, unit in REFS.values():
            web.stop(unit)
    table = {k: {f"c{c}": stats.median_runs(raw[(k, c)]) for c in levels} for k in dict.fromkeys(k for k, _ in raw)}
    return summarize(table, levels, cpus, variants, pinned)


def summarize(table: dict[str, dict[str, Any]], levels: tuple[int, ...], cpus: int, variants: tuple[Variant, ...],
              pinned: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"levels": list(levels), "setups": table, "variants": [], "floor": {}}
    for c in levels:
        k = f"c{c}"
        best_ref = max(REFS, key=lambda name: table[name][k]["rps"])
        base = table[VARIANTS[0].label][k]["rps"]
        for v in variants:
            row = table[v.label][k]
            out["variants"].append({"label": v.label, "why": v.why, "conns": c, "rps": row["rps"], "p99_ms": row["p99_ms"],
                                    "vs_rendered": stats.ratio(row["rps"], base), "vs_best_bare": stats.ratio(row["rps"], table[best_ref][k]["rps"]),
                                    "verdict": stats.beyond_noise(row["rps"], base), "adoptable": v.adoptable})
        if not pinned:
            continue
        stack_cpu = table[VARIANTS[0].label][k]["cpu_us"]
        bare_cpu = table[best_ref][k]["cpu_us"]
        pinned_best = max(REFS, key=lambda name: table[f"pinned: {name}"][k]["rps"])
        out["floor"][k] = {
            "best_bare": best_ref, "ratio": stats.ratio(base, table[best_ref][k]["rps"]),
            "cpu": stats.cpu_floor(bare_cpu, stack_cpu, cpus),
            "nginx_cores_at_rate": round(stack_cpu.get("nginx", 0.0) * base / 1e6, 2),
            "pinned_best_bare": pinned_best,
            "pinned_ratio": stats.ratio(table["pinned: stack as rendered"][k]["rps"], table[f"pinned: {pinned_best}"][k]["rps"]),
            "pinned_cpu": stats.cpu_floor(table[f"pinned: {pinned_best}"][k]["cpu_us"], table["pinned: stack as rendered"][k]["cpu_us"], 1),
        }
    return out
