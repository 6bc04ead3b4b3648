"""Where the CPU went during a run: processes of one machine, grouped by name.

Reads utime+stime of every process in the machine's PID namespace before and
after; the load generator (wrk, a child of ours) is counted from getrusage.
Divided by the requests served, this says how many microseconds of CPU each
layer spends per request, which is what decides the ratios on a 2-core host.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")


def machine_ticks(init_pid: int) -> dict[int, tuple[str, int]]:
    """pid -> (name, utime+stime ticks) for every live process in init_pid's PID namespace."""
    ns = os.readlink(f"/proc/{init_pid}/ns/pid")
    out: dict[int, tuple[str, int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.readlink(proc / "ns/pid") != ns:
                continue
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(proc.name)] = (name, int(fields[11]) + int(fields[12]))
    return out


def children_us() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime + ru.ru_stime) * 1e6


def per_request(before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]], wrk_us: float,
                requests: int) -> dict[str, float]:
    """Microseconds of CPU per request, by process name (processes that started mid-run count from zero)."""
    groups: dict[str, float] = {"wrk": wrk_us}
    for pid, (name, ticks) in after.items():
        start = before.get(pid, (name, 0))[1]
        groups[name] = groups.get(name, 0.0) + (ticks - start) * TICK_US
    n = max(1, requests)
    return {k: round(v / n, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v / n >= 1.0}
