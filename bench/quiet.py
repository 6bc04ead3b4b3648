"""How busy the host is with work that is not ours, so noisy runs are visible.

The benchmarks share a small machine (2 cores) with whatever else runs on it.
Before each measurement we sample /proc/stat for a second while the benchmark
itself is idle: that is the background load. `wait_quiet` waits (bounded) for it
to drop, and every result records the background it was measured under.
"""

from __future__ import annotations

import os
import time


def _snapshot() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def background_cores(seconds: float = 1.0) -> float:
    """Cores' worth of CPU the host spent over `seconds` (while we sent nothing)."""
    busy0, total0 = _snapshot()
    time.sleep(seconds)
    busy1, total1 = _snapshot()
    cpus = os.cpu_count() or 1
    return round((busy1 - busy0) / max(1, total1 - total0) * cpus, 2)


MAX_WAIT_S = 60.0
"""How long wait_quiet waits at most by default (`python -m bench --quiet-wait`)."""


def wait_quiet(max_cores: float = 0.25, timeout_s: float | None = None) -> float:
    """Wait until the background load is under max_cores (at most timeout_s); return the last sample."""
    timeout_s = MAX_WAIT_S if timeout_s is None else timeout_s
    end = time.monotonic() + timeout_s
    sample = background_cores()
    while sample > max_cores and time.monotonic() < end:
        sample = background_cores()
    return sample
