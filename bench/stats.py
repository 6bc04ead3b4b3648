"""Pure helpers the benchmark parts share: percentiles, medians over rounds, ratios, verdicts, parsing.

No I/O here, so tests/bench/test_stats.py checks them without a machine.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (numpy's default)."""
    data = sorted(values)
    if not data:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q={q}: expected 0..100")
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def median_runs(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Median of each wrk figure over rounds (errors summed), with every round kept raw."""
    if not runs:
        raise ValueError("median of no runs")
    cpu_keys = sorted({k for r in runs for k in r.get("cpu_us", {})})
    return {
        "rps": round(statistics.median(r["rps"] for r in runs)),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "errors": sum(int(r["errors"]) for r in runs),
        "cpu_us": {k: round(statistics.median(r.get("cpu_us", {}).get(k, 0.0) for r in runs), 1) for k in cpu_keys},
        "spread": spread([r["rps"] for r in runs]),
        "runs": [dict(r) for r in runs],
    }


def spread(values: Sequence[float]) -> float:
    """(max - min) / median: how far the rounds disagree (0.1 = ±5 % around the median)."""
    if not values:
        return 0.0
    mid = statistics.median(values)
    return round((max(values) - min(values)) / mid, 3) if mid else 0.0


def ratio(a: float, b: float, digits: int = 2) -> float:
    """a / b, rounded; 0 when b is 0 (nothing served)."""
    return round(a / b, digits) if b else 0.0


def verdict(value: float, target: float, at_least: bool = True) -> str:
    ok = value >= target if at_least else value <= target
    return "met" if ok else "not met"


def beyond_noise(value: float, reference: float, noise: float = 0.10) -> int:
    """+1 if value beats reference by more than noise (a fraction), -1 if it loses by more, else 0."""
    if reference <= 0:
        return 0
    # To 0.1 %: 2794 over 2540 is +10.0 %, at the edge of the noise, not beyond it (float says +10.0000001 %).
    change = round(value / reference - 1, 3)
    return 1 if change > noise else (-1 if change < -noise else 0)


def marked_json(text: str, mark: str) -> dict[str, Any]:
    """The JSON object on the last line of text starting with mark (how our helper programs report)."""
    lines = [ln for ln in text.splitlines() if ln.startswith(mark)]
    if not lines:
        raise ValueError(f"no line starting {mark!r} in output: {text[-500:]!r}")
    data = json.loads(lines[-1][len(mark):])
    if not isinstance(data, dict):
        raise ValueError(f"{mark!r} line is not a JSON object: {lines[-1][:200]!r}")
    return data


def cpu_floor(cpu_bare: Mapping[str, float], cpu_stack: Mapping[str, float], cores: float,
              generator: str = "wrk") -> dict[str, float]:
    """The ratio the CPU per request allows: throughput is cores / (µs per request).

    shared: the generator on the same cores as the servers (what the table measures);
    pinned: the generator on its own core, servers on the rest (`cores - 1`), so its
    cost leaves both sides. Also Nginx's (or any proxy's) share of the stack's cost.
    """
    bare_all, stack_all = sum(cpu_bare.values()), sum(cpu_stack.values())
    bare_srv = bare_all - cpu_bare.get(generator, 0.0)
    stack_srv = stack_all - cpu_stack.get(generator, 0.0)
    proxy = sum(v for k, v in cpu_stack.items() if k in ("nginx", "caddy"))
    return {
        "bare_us": round(bare_all, 1), "stack_us": round(stack_all, 1), "proxy_us": round(proxy, 1),
        "bare_server_us": round(bare_srv, 1), "stack_server_us": round(stack_srv, 1),
        "shared_ratio": ratio(bare_all, stack_all, 3),
        "pinned_ratio": ratio(bare_srv, stack_srv, 3),
        "max_rps_bare": round(cores * 1e6 / bare_all) if bare_all else 0,
        "max_rps_stack": round(cores * 1e6 / stack_all) if stack_all else 0,
        # Everything the stack adds per request (the proxy, and what gunicorn spends more behind it),
        # against what a ratio of 0.9 allows it to add: bare / 0.9 - bare.
        "added_us": round(stack_all - bare_all, 1),
        "budget_us_for_0.9": round(bare_all / 0.9 - bare_all, 1),
    }
