"""Serving: the same Hello World behind five setups on one local machine, side by side.

All five run inside one Launchpad machine (booted exactly as `launchpad local up`
boots it, with `rateLimit: 0` so Nginx does not answer 429 to the load generator),
and the host's wrk loads each through the machine's own loopback (bench/wrk.py):
same generator, same path, same CPUs. The machine's firewall stays as rendered.

1. Flask's development server            127.0.0.1:8001
2. gunicorn alone, sync workers           127.0.0.1:8002 (2·CPU+1, gunicorn's documented rule)
   and gunicorn's literal default         127.0.0.1:8004 (one sync worker), for reference
3. gunicorn alone, best setup found       127.0.0.1:8003 (searched over sync/gthread shapes)
4. the stack as rendered                  127.0.0.1:80 (Nginx -> unix socket -> gunicorn)
5. Nginx alone, fixed 200                 127.0.0.1:8005 (the ceiling)

Then the rendered stack is re-measured with one setting changed at a time, to
record what each tuning knob is worth.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import cpu, quiet, wrk
from launchpad.local import machine

LEVELS = (32, 128)
APP_DIR = "/srv/{app}/current"
VENV = "/srv/{app}/venv/bin"
CEILING_CONF = "/etc/nginx/conf.d/lp-bench-ceiling.conf"
HTTP_CONF = "/etc/nginx/conf.d/launchpad.conf"
SITE_CONF = "/etc/nginx/sites-available/{app}"
SERVICE_DROPIN = "/etc/systemd/system/{app}.service.d/lp-bench.conf"
SOCKET_DROPIN = "/etc/systemd/system/{app}.socket.d/lp-bench.conf"
TCP_UPSTREAM = "127.0.0.1:8010"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Shape:
    """A gunicorn worker setup."""

    workers: int
    threads: int = 1

    @property
    def args(self) -> str:
        if self.threads > 1:
            return f"--workers={self.workers} --worker-class=gthread --threads={self.threads}"
        return f"--workers={self.workers} --worker-class=sync"

    @property
    def label(self) -> str:
        return f"gthread {self.workers}×{self.threads}" if self.threads > 1 else f"sync ×{self.workers}"


@dataclass(frozen=True)
class Variant:
    """The rendered stack with some settings overridden (None: as rendered)."""

    label: str
    why: str
    shape: Shape | None = None
    access_log: str | None = None
    """"debian": no server-level line (Debian's unbuffered http-level log), else the directive's value."""
    upstream_keepalive: int | None = None
    """0 removes the upstream `keepalive`; n > 0 sets it (and HTTP/1.1 to the upstream)."""
    tcp: bool = False
    proxy_buffering: bool = True


class InMachine:
    """Shell access to the bench machine."""

    def __init__(self, name: str, app: str):
        self.name, self.app = name, app

    def sh(self, script: str, check: bool = True, timeout: float = 300) -> str:
        return machine.run(self.name, ["sh", "-c", script], check=check, timeout=timeout).stdout

    def put(self, path: str, text: str) -> None:
        machine.run(self.name, ["sh", "-c", f"mkdir -p \"$(dirname {path})\" && cat > {path}"], input=text)

    def wait_200(self, url: str, timeout_s: float = 30) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            code = self.sh(f"curl -s -o /dev/null -w '%{{http_code}}' {url}", check=False).strip()
            if code == "200":
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: {url} did not answer 200 within {timeout_s:.0f} s")

    def transient(self, unit: str, port: int, command: str) -> None:
        """Run command as the app's user in a transient systemd unit, and wait until it serves."""
        self.sh(f"systemctl stop {unit} 2>/dev/null; systemctl reset-failed {unit} 2>/dev/null; true")
        self.sh(f"systemd-run --unit={unit} -p User={self.app} -p Group={self.app} "
                f"-p WorkingDirectory={APP_DIR.format(app=self.app)} --setenv=LAUNCHPAD_TRUSTED_PROXIES=0 {command}")
        try:
            self.wait_200(f"http://127.0.0.1:{port}/")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{self.sh(f'journalctl -u {unit} -n 20 --no-pager', check=False)}") from None


def host_facts(m: InMachine) -> dict[str, Any]:
    """What the rendered gunicorn.conf.py derived on this host, and the host itself."""
    venv = VENV.format(app=m.app)
    out = m.sh(f"{venv}/python -c \"ns={{}}; exec(open('/etc/{m.app}/gunicorn.conf.py').read(), ns); "
               f"print(ns['workers'], ns['worker_class'], ns.get('threads', 1), ns['_cpus'], ns['_mem_mb']())\"")
    workers, worker_class, threads, cpus, mem = out.split()
    versions = m.sh(f"{venv}/gunicorn --version; nginx -v 2>&1; {venv}/python -c 'import flask; print(\"flask\", flask.__version__)'")
    return {"workers": int(workers), "worker_class": worker_class, "threads": int(threads), "cpus": int(cpus),
            "mem_mb": int(mem), "versions": " / ".join(v.strip() for v in versions.strip().splitlines())}


def _median(results: list[wrk.WrkResult]) -> dict[str, Any]:
    """Median of each figure over rounds, plus every round's raw figures."""
    return {
        "rps": round(statistics.median(r.rps for r in results)),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 2),
        "errors": sum(r.errors for r in results),
        "cpu_us": {k: round(statistics.median(r.cpu_us.get(k, 0.0) for r in results), 1)
                   for k in sorted({k for r in results for k in r.cpu_us})},
        "runs": [r.to_dict() for r in results],
    }


def measure(m: InMachine, url: str, connections: int, seconds: float, bg: list[float]) -> wrk.WrkResult:
    bg.append(quiet.wait_quiet())
    st = machine.status(m.name)
    assert st is not None and st.init_pid
    before, wrk_before = cpu.machine_ticks(st.init_pid), cpu.children_us()
    result = wrk.run(m.name, url, connections, seconds)
    result.cpu_us = cpu.per_request(before, cpu.machine_ticks(st.init_pid), cpu.children_us() - wrk_before, result.requests)
    return result


class Stack:
    """The rendered stack's files, and overrides applied on top of them."""

    def __init__(self, m: InMachine):
        self.m = m
        self.http = m.sh(f"cat {HTTP_CONF}")
        self.site = m.sh(f"cat {SITE_CONF.format(app=m.app)}")

    def _edit(self, text: str, pattern: str, repl: str, what: str, count: int = 0) -> str:
        new, n = re.subn(pattern, repl, text, count=count)
        if n == 0:
            raise RuntimeError(f"bench: could not {what}: pattern {pattern!r} not in the rendered file")
        return new

    def files(self, v: Variant) -> tuple[str, str]:
        http, site = self.http, self.site
        if v.access_log is not None:
            site = re.sub(r"\n[ \t]*access_log [^;]*;", "", site)
            if v.access_log != "debian":
                site = self._edit(site, r"(\n([ \t]*)server_name _;)", rf"\1\n\2access_log {v.access_log};", "set access_log", 1)
        if v.upstream_keepalive is not None:
            http = re.sub(r"upstream \w+ \{[^}]*\}",
                          lambda b: re.sub(r"\n[ \t]*keepalive(_timeout|_requests)? [^;]*;", "", b.group(0)), http)
            if v.upstream_keepalive > 0:
                http = self._edit(http, r"(upstream \w+ \{[^}]*?)\n\}", rf"\1\n    keepalive {v.upstream_keepalive};\n}}", "add upstream keepalive")
                if "proxy_http_version 1.1;" not in site:
                    site = self._edit(site, r"(\n([ \t]*)proxy_redirect off;)",
                                      r'\1\n\2proxy_http_version 1.1;\n\2proxy_set_header Connection "";', "use HTTP/1.1 upstream")
        if v.tcp:
            http = self._edit(http, r"server unix:[^ ;]+", f"server {TCP_UPSTREAM}", "point the upstream at TCP")
        if not v.proxy_buffering:
            site = self._edit(site, r"proxy_buffering on;", "proxy_buffering off;", "turn buffering off")
        return http, site

    def apply(self, v: Variant) -> None:
        app = self.m.app
        http, site = self.files(v)
        self.m.put(HTTP_CONF, http)
        self.m.put(SITE_CONF.format(app=app), site)
        self.m.put(SERVICE_DROPIN.format(app=app),
                   f"[Service]\nEnvironment=\"GUNICORN_CMD_ARGS={v.shape.args}\"\n" if v.shape else "")
        self.m.put(SOCKET_DROPIN.format(app=app), f"[Socket]\nListenStream=\nListenStream={TCP_UPSTREAM}\n" if v.tcp else "")
        self.m.sh(f"systemctl daemon-reload && systemctl stop {app}.service {app}.socket && "
                  f"systemctl start {app}.socket {app}.service && nginx -t -q && systemctl reload nginx.service")
        time.sleep(1.0)  # nginx's old workers finish; gunicorn's workers boot
        self.m.wait_200("http://127.0.0.1/")
        # Warm: the first requests after a restart import lazily.
        self.m.sh("for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null http://127.0.0.1/; done")

    def restore(self) -> None:
        self.apply(Variant("as rendered", ""))
        app = self.m.app
        self.m.sh(f"rm -f {SERVICE_DROPIN.format(app=app)} {SOCKET_DROPIN.format(app=app)} && systemctl daemon-reload")


def search_best(m: InMachine, cpus: int, seconds: float, progress: Progress) -> tuple[Shape, list[dict[str, Any]]]:
    """gunicorn alone on 127.0.0.1:8003: a few sync and gthread shapes; best = highest geometric mean of req/s over the levels."""
    shapes = [Shape(2 * cpus + 1), Shape(2 * cpus), Shape(cpus + 1), Shape(cpus, 4), Shape(cpus, 8), Shape(2 * cpus, 2),
              Shape(2 * cpus + 1, 4)]
    venv = VENV.format(app=m.app)
    table = []
    for shape in shapes:
        m.transient("lp-bench-search", 8003, f"{venv}/gunicorn --no-control-socket {shape.args} -b 127.0.0.1:8003 rocket:app")
        row: dict[str, Any] = {"shape": shape.label, "workers": shape.workers, "threads": shape.threads}
        for c in LEVELS:
            bg: list[float] = []
            r = measure(m, "http://127.0.0.1:8003/", c, seconds, bg)
            row[f"c{c}"] = {"rps": round(r.rps), "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "errors": r.errors, "background_cores": bg[0]}
            progress(f"  search {shape.label:14s} c{c:<4d} {r.rps:8.0f} req/s  p99 {r.p99_ms:6.1f} ms")
        row["score"] = round(math.sqrt(row[f"c{LEVELS[0]}"]["rps"] * row[f"c{LEVELS[1]}"]["rps"]))
        table.append(row)
        m.sh("systemctl stop lp-bench-search")
    best = max(table, key=lambda r: r["score"])
    return Shape(best["workers"], best["threads"]), table


def ceiling_conf(site: str) -> str:
    # Same nginx, same http-level settings and the same access log as the app site: only the proxying is gone.
    log = re.search(r"\n[ \t]*(access_log [^;]*;)", site)
    return ("# Written by bench/serving.py: the ceiling, Nginx answering by itself.\n"
            "server {\n    listen 127.0.0.1:8005;\n"
            + (f"    {log.group(1)}\n" if log else "")
            + "    default_type text/plain;\n    location / { return 200 \"Hello World!\"; }\n}\n")


def run(machine_name: str, app: str, seconds: float, rounds: int, variants: list[Variant],
        tuning_rounds: int = 2, progress: Progress = print) -> dict[str, Any]:
    m = InMachine(machine_name, app)
    facts = host_facts(m)
    cpus = facts["cpus"]
    progress(f"serving: host {cpus} CPUs, {facts['mem_mb']} MiB; rendered gunicorn: {facts['worker_class']} "
             f"×{facts['workers']} (threads {facts['threads']}); {facts['versions']}")
    stack = Stack(m)
    venv = VENV.format(app=app)

    progress("serving: searching the best gunicorn-alone setup")
    best, search = search_best(m, cpus, max(5.0, seconds / 2), progress)
    progress(f"serving: best gunicorn alone: {best.label}")

    default = Shape(2 * cpus + 1)
    m.transient("lp-bench-flask", 8001, f"{venv}/flask --app rocket:app run --host 127.0.0.1 --port 8001")
    m.transient("lp-bench-gunicorn-default", 8002, f"{venv}/gunicorn --no-control-socket {default.args} -b 127.0.0.1:8002 rocket:app")
    m.transient("lp-bench-gunicorn-one", 8004, f"{venv}/gunicorn --no-control-socket -b 127.0.0.1:8004 rocket:app")
    m.transient("lp-bench-gunicorn-best", 8003, f"{venv}/gunicorn --no-control-socket {best.args} -b 127.0.0.1:8003 rocket:app")
    m.put(CEILING_CONF, ceiling_conf(stack.site))
    m.sh("nginx -t -q && systemctl reload nginx.service")
    time.sleep(1.0)
    m.wait_200("http://127.0.0.1:8005/")

    setups = [
        ("1", "Flask development server", "http://127.0.0.1:8001/"),
        ("2", f"gunicorn alone, {default.label} (2·CPU+1)", "http://127.0.0.1:8002/"),
        ("2'", "gunicorn alone, literal default (sync ×1)", "http://127.0.0.1:8004/"),
        ("3", f"gunicorn alone, best: {best.label}", "http://127.0.0.1:8003/"),
        ("4", f"Launchpad stack as rendered: Nginx → unix socket → gunicorn {facts['worker_class']} ×{facts['workers']}"
              + (f"×{facts['threads']}" if facts["threads"] > 1 else ""), "http://127.0.0.1/"),
        ("5", "Nginx alone, fixed 200 (ceiling)", "http://127.0.0.1:8005/"),
    ]
    raw: dict[tuple[str, int], list[wrk.WrkResult]] = {(k, c): [] for k, _, _ in setups for c in LEVELS}
    background: list[float] = []
    for rnd in range(rounds):
        # Interleaved: each round measures every setup back to back, so a noisy
        # minute on the host touches all of them instead of one.
        for c in LEVELS:
            for key, label, url in setups:
                r = measure(m, url, c, seconds, background)
                raw[(key, c)].append(r)
                progress(f"  round {rnd + 1} c{c:<4d} {key:2s} {r.rps:9.0f} req/s  p50 {r.p50_ms:6.2f}  p99 {r.p99_ms:6.2f} ms"
                         f"  errors {r.errors}  (background {background[-1]:.2f} cores)")
    table = [{"key": k, "label": label, **{f"c{c}": _median(raw[(k, c)]) for c in LEVELS}} for k, label, _ in setups]
    for unit in ("lp-bench-flask", "lp-bench-gunicorn-default", "lp-bench-gunicorn-one", "lp-bench-gunicorn-best"):
        m.sh(f"systemctl stop {unit}", check=False)

    progress("serving: one setting at a time on the rendered stack")
    tuning_raw: dict[tuple[str, int], list[wrk.WrkResult]] = {(v.label, c): [] for v in variants for c in LEVELS}
    try:
        for rnd in range(tuning_rounds):
            for v in variants:
                stack.apply(v)
                for c in LEVELS:
                    r = measure(m, "http://127.0.0.1/", c, seconds, background)
                    tuning_raw[(v.label, c)].append(r)
                    progress(f"  round {rnd + 1} {v.label:44s} c{c:<4d} {r.rps:8.0f} req/s  p99 {r.p99_ms:6.1f} ms  errors {r.errors}")
    finally:
        stack.restore()
        m.sh(f"rm -f {CEILING_CONF} && systemctl reload nginx.service", check=False)
    tuning = [{"label": v.label, "why": v.why, **{f"c{c}": _median(tuning_raw[(v.label, c)]) for c in LEVELS}} for v in variants]
    return {"host": facts, "levels": list(LEVELS), "seconds": seconds, "rounds": rounds, "tuning_rounds": tuning_rounds, "best": best.label,
            "search": search, "setups": table, "tuning": tuning, "background_cores": background}


def ratios(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    by = {row["key"]: row for row in result["setups"]}
    out: dict[str, dict[str, float]] = {}
    for c in result["levels"]:
        k = f"c{c}"
        four = by["4"][k]
        out[k] = {
            "4/3": round(four["rps"] / by["3"][k]["rps"], 2),
            "4/1": round(four["rps"] / by["1"][k]["rps"], 2),
            "4/5": round(four["rps"] / by["5"][k]["rps"], 3),
            "p99 4/3": round(four["p99_ms"] / by["3"][k]["p99_ms"], 2),
        }
    return out
