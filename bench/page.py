"""Real page: a Jinja2 template with 40 rows from PostgreSQL, through the stack and from gunicorn alone.

`/page` of the benchmark app (bench/apps/page) reads 40 rows from the stack's
PostgreSQL machine over its link and renders them: the shape of a real list page.
Two setups in the same web machine, measured in interleaved rounds:
- stack: Nginx -> the live slot's unix socket -> gunicorn, as rendered;
- bare:  the same release's gunicorn (same venv, config, workers, sandbox) on 127.0.0.1.
The database machine's CPU counts too (`db:` processes): it shares the host's cores.
Target: stack ≥ 0.95 × bare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import measure, stats
from bench.rig import Rig
from launchpad.local import stack as local_stack

BARE_PORT = 8002
TARGET = 0.95
LEVELS = (32, 128)

Progress = Callable[[str], None]


def machines(rig: Rig) -> list[str]:
    return [rig.web.name, local_stack.db_name(rig.settings.stack)]


def check_same_page(rig: Rig, urls: dict[str, str]) -> int:
    """Both setups answer the same page (same length, the rows in it); returns its size in bytes."""
    sizes = {}
    for key, url in urls.items():
        rig.web.warm(url)
        body = rig.web.sh(f"curl -sf --max-time 5 {url}")
        if body.count("<tr class=") != 40:
            raise RuntimeError(f"page: {key} ({url}) did not render 40 rows: {body[:300]!r}")
        sizes[key] = len(body.encode())
    if len(set(sizes.values())) != 1:
        raise RuntimeError(f"page: the setups answer different pages: {sizes}")
    return next(iter(sizes.values()))


def run(rig: Rig, seconds: float, n_rounds: int, progress: Progress = print, levels: tuple[int, ...] = LEVELS) -> dict[str, Any]:
    bare = rig.web.bare(BARE_PORT)
    try:
        setups = [("stack", "http://127.0.0.1/page"), ("bare", f"{bare}/page")]
        size = check_same_page(rig, dict(setups))
        progress(f"page: /page is {size:,} bytes, 40 rows; {n_rounds} rounds × {seconds:g} s")
        table = measure.rounds(machines(rig), setups, levels, seconds, n_rounds, progress, "page ")
    finally:
        rig.web.stop("lp-bench-bare")
    ratios = {f"c{c}": stats.ratio(table["stack"][f"c{c}"]["rps"], table["bare"][f"c{c}"]["rps"]) for c in levels}
    return {"levels": list(levels), "seconds": seconds, "rounds": n_rounds, "bytes": size, "rows": 40,
            "setups": table, "ratio": ratios, "target": TARGET,
            "met": all(v >= TARGET for v in ratios.values()), "host": rig.web.facts()}
