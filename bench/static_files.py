"""Static files: a 30 KiB stylesheet and a 500 KiB image, from Nginx (as releases set it up) and from Flask.

The release's static folder is what the agent points Nginx at: a `location ^~ /static/`
aliasing the live release's folder, with Cache-Control (names carrying a content
hash: a year, immutable; other names: 5 minutes) and the security headers. Against
it, the same release's gunicorn alone (same workers) serving them through Flask's
static route. Interleaved rounds, wrk -c32 on one file at a time.

Before measuring, the headers are checked through Nginx: the bytes are the ones
written, Cache-Control as above, ETag and Last-Modified present, a conditional
GET answers 304, and X-Content-Type-Options + X-Launchpad-Release are there.
Target: Nginx ≥ 20 × Flask for both files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import measure, stats
from bench.rig import Rig

BARE_PORT = 8002
TARGET = 20.0
LEVELS = (32,)
YEAR = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"

Progress = Callable[[str], None]


def _headers(rig: Rig, url: str, extra: str = "") -> tuple[int, dict[str, str]]:
    out = rig.web.sh(f"curl -s -o /dev/null -D - --max-time 5 {extra} {url}")
    lines = out.replace("\r", "").splitlines()
    code = int(lines[0].split()[1])
    return code, {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ":" in ln)}


def check_headers(rig: Rig, files: dict[str, dict[str, Any]], flask: str) -> dict[str, Any]:
    """What a browser gets for each file, through Nginx and from Flask; `problems` lists what is wrong."""
    live = rig.web.live()[0]
    out: dict[str, Any] = {"problems": []}
    for kind, f in files.items():
        want = YEAR if kind == "css" else SHORT
        url = f"http://127.0.0.1{f['path']}"
        code, h = _headers(rig, url)
        digest = rig.web.sh(f"curl -sf --max-time 5 {url} | sha256sum").split()[0]
        cond_code, _ = _headers(rig, url, f"-H 'If-None-Match: {h.get('etag', '')}'") if h.get("etag") else (0, {})
        row = {"status": code, "cache_control": h.get("cache-control"), "etag": h.get("etag"),
               "last_modified": h.get("last-modified"), "content_type": h.get("content-type"),
               "x_content_type_options": h.get("x-content-type-options"), "release": h.get("x-launchpad-release"),
               "conditional_status": cond_code, "bytes_match": digest == f["sha256"],
               "flask_cache_control": _headers(rig, f"{flask}{f['path']}")[1].get("cache-control")}
        out[kind] = row
        checks = [(code == 200, f"status {code}"), (row["cache_control"] == want, f"Cache-Control {row['cache_control']!r}, want {want!r}"),
                  (bool(row["etag"]), "no ETag"), (bool(row["last_modified"]), "no Last-Modified"),
                  (cond_code == 304, f"If-None-Match answered {cond_code}, want 304"),
                  (row["x_content_type_options"] == "nosniff", "no X-Content-Type-Options: nosniff"),
                  (row["release"] == live, f"X-Launchpad-Release {row['release']!r}, want {live!r}"),
                  (row["bytes_match"], "served bytes differ from the file")]
        out["problems"] += [f"{kind}: {why}" for ok, why in checks if not ok]
    return out


def _server_us(row: dict[str, Any]) -> float:
    return sum(v for k, v in row["cpu_us"].items() if k != "wrk")


def run(rig: Rig, seconds: float, n_rounds: int, progress: Progress = print, levels: tuple[int, ...] = LEVELS) -> dict[str, Any]:
    files = rig.static
    bare = rig.web.bare(BARE_PORT)
    try:
        for kind, f in files.items():
            body = rig.web.sh(f"curl -sf --max-time 5 {bare}{f['path']} | sha256sum").split()[0]
            if body != f["sha256"]:
                raise RuntimeError(f"static: Flask does not serve {f['path']} as written")
        headers = check_headers(rig, files, bare)
        for p in headers["problems"]:
            progress(f"  static: header check: {p}")
        setups = [(f"nginx {kind}", f"http://127.0.0.1{f['path']}") for kind, f in files.items()] + \
                 [(f"flask {kind}", f"{bare}{f['path']}") for kind, f in files.items()]
        for _, url in setups:
            rig.web.warm(url, 16)
        sizes = ", ".join(f"{k} {f['bytes']:,} B" for k, f in files.items())
        progress(f"static: {sizes}; {n_rounds} rounds × {seconds:g} s")
        table = measure.rounds([rig.web.name], setups, levels, seconds, n_rounds, progress, "static ")
    finally:
        rig.web.stop("lp-bench-bare")
    ratios = {kind: {f"c{c}": stats.ratio(table[f"nginx {kind}"][f"c{c}"]["rps"], table[f"flask {kind}"][f"c{c}"]["rps"], 1)
                     for c in levels} for kind in files}
    # The servers' own CPU per request (the generator's share left out): what each side costs the host
    # it runs on, whatever loads it. wrk reading 500 KiB costs about as much as Nginx sending it.
    server = {kind: {f"c{c}": stats.ratio(_server_us(table[f"flask {kind}"][f"c{c}"]), _server_us(table[f"nginx {kind}"][f"c{c}"]), 1)
                     for c in levels} for kind in files}
    return {"levels": list(levels), "server_cpu_ratio": server, "seconds": seconds, "rounds": n_rounds, "files": files, "headers": headers,
            "setups": table, "ratio": ratios, "target": TARGET,
            "met": all(v >= TARGET for r in ratios.values() for v in r.values()) and not headers["problems"]}
