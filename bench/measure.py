"""One wrk run with the CPU it cost, by process, across the stack's machines; and interleaved rounds.

Like bench/serving.py's measure, but the CPU account covers every machine given
(the web machine and the PostgreSQL machine share the host's 2 cores): process
names from the database machine are prefixed `db:`. `rounds()` runs every setup
back to back in each round, so a noisy minute on the host touches all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bench import cpu, quiet, stats, wrk
from launchpad.local import machine

Progress = Callable[[str], None]


def _ticks(names: Sequence[str]) -> dict[tuple[str, int], tuple[str, int]]:
    out: dict[tuple[str, int], tuple[str, int]] = {}
    for i, name in enumerate(names):
        st = machine.status(name)
        if st is None or not st.init_pid:
            continue
        prefix = "" if i == 0 else "db:"
        for pid, (proc, ticks) in cpu.machine_ticks(st.init_pid).items():
            out[(name, pid)] = (prefix + proc, ticks)
    return out


def run(machines: Sequence[str], url: str, connections: int, seconds: float, cpus: str | None = None,
        quiet_max: float = 0.25, quiet_wait: float | None = None) -> dict[str, Any]:
    """wrk from inside machines[0]'s network namespace; CPU µs per request by process over all machines."""
    background = quiet.wait_quiet(quiet_max, quiet_wait)
    before, wrk_before = _ticks(machines), cpu.children_us()
    r = wrk.run(machines[0], url, connections, seconds, cpus=cpus)
    after = _ticks(machines)
    # cpu.per_request keys by pid; ours by (machine, pid): flatten with distinct keys.
    keys = {k: i for i, k in enumerate(sorted(set(before) | set(after)))}
    r.cpu_us = cpu.per_request({keys[k]: v for k, v in before.items()}, {keys[k]: v for k, v in after.items()},
                               cpu.children_us() - wrk_before, r.requests)
    out = r.to_dict()
    out["background_cores"] = background
    return out


def rounds(machines: Sequence[str], setups: Sequence[tuple[str, str]], levels: Sequence[int], seconds: float,
           n_rounds: int, progress: Progress, label: str = "", before_each: Callable[[str], None] | None = None,
           cpus: str | None = None) -> dict[str, dict[str, Any]]:
    """{setup key: {"c<conns>": median_runs(...)}} over n_rounds interleaved rounds of every (setup, level)."""
    raw: dict[tuple[str, int], list[dict[str, Any]]] = {(k, c): [] for k, _ in setups for c in levels}
    for rnd in range(n_rounds):
        for c in levels:
            for key, url in setups:
                if before_each:
                    before_each(key)
                r = run(machines, url, c, seconds, cpus=cpus)
                raw[(key, c)].append(r)
                progress(f"  {label}round {rnd + 1} c{c:<4d} {key:28s} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:6.2f}  "
                         f"p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  (background {r['background_cores']:.2f})")
    return {k: {f"c{c}": stats.median_runs(raw[(k, c)]) for c in levels} for k, _ in setups}
