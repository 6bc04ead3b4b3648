"""A peer: Caddy (Debian's package) -> gunicorn, beside Nginx -> gunicorn, in the same rounds.

Both proxies in the same web machine send to the same gunicorn: the live release's slot
socket. Caddy runs as www-data (the only user the socket admits) from a minimal
Caddyfile (`reverse_proxy unix//run/<app>-<slot>.sock`; no access log, which is Caddy's
default, while the stack's Nginx keeps its buffered access log). The release's gunicorn
alone on 127.0.0.1 (same workers) is measured in the same rounds as the reference.
Paths: `/` (Hello World) and `/page` (the real page, bench/page.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import measure, stats
from bench.page import machines
from bench.rig import Rig

BARE_PORT = 8002
LEVELS = (32,)
PATHS = (("hello", "/"), ("page", "/page"))

Progress = Callable[[str], None]


def run(rig: Rig, seconds: float, n_rounds: int, progress: Progress = print, levels: tuple[int, ...] = LEVELS) -> dict[str, Any]:
    version = rig.web.ensure_caddy(progress)
    caddy = rig.web.caddy()
    bare = rig.web.bare(BARE_PORT)
    try:
        proxies = {"nginx": "http://127.0.0.1", "caddy": caddy, "bare": bare}
        for name, base in proxies.items():
            rig.web.warm(f"{base}/page")
            if "<tr class=" not in rig.web.sh(f"curl -sf --max-time 5 {base}/page"):
                raise RuntimeError(f"peer: {name} ({base}/page) does not serve the page")
        setups = [(f"{name} {what}", base + path) for what, path in PATHS for name, base in proxies.items()]
        progress(f"peer: caddy {version}; {n_rounds} rounds × {seconds:g} s")
        table = measure.rounds(machines(rig), setups, levels, seconds, n_rounds, progress, "peer ")
    finally:
        rig.web.stop("lp-bench-caddy")
        rig.web.stop("lp-bench-bare")
    ratios: dict[str, dict[str, float]] = {}
    for what, _ in PATHS:
        for c in levels:
            k = f"c{c}"
            bare_rps = table[f"bare {what}"][k]["rps"]
            ratios.setdefault(what, {}).update({
                f"nginx/bare {k}": stats.ratio(table[f"nginx {what}"][k]["rps"], bare_rps),
                f"caddy/bare {k}": stats.ratio(table[f"caddy {what}"][k]["rps"], bare_rps),
                f"caddy/nginx {k}": stats.ratio(table[f"caddy {what}"][k]["rps"], table[f"nginx {what}"][k]["rps"]),
            })
    return {"levels": list(levels), "seconds": seconds, "rounds": n_rounds, "caddy": version, "setups": table,
            "ratio": ratios}
