"""The variants bench/gap.py measures: edits to the rendered Nginx files and the slot's gunicorn.

Each variant is the rendered stack with one thing changed (a few combine two).
`Files` holds the files as rendered in the machine, writes a variant's edits over
them (plus systemd drop-ins for the slot's gunicorn shape and socket backlog) and
puts everything back in `restore()`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.rig import InMachine

Edit = Callable[[str], str]


def sub(pattern: str, repl: str, count: int = 0) -> Edit:
    """An edit that must match: a variant that silently changes nothing would measure the baseline twice."""
    def edit(text: str) -> str:
        new, n = re.subn(pattern, repl, text, count=count)
        if n == 0:
            raise RuntimeError(f"gap: pattern {pattern!r} is not in the rendered file")
        return new
    return edit


@dataclass(frozen=True)
class Variant:
    label: str
    why: str
    main: tuple[Edit, ...] = ()
    """Edits of /etc/nginx/nginx.conf."""
    site: tuple[Edit, ...] = ()
    """Edits of /etc/nginx/sites-available/<app>."""
    live: tuple[Edit, ...] = ()
    """Edits of /etc/nginx/launchpad/<app>-live.conf (the upstream)."""
    gunicorn: str = ""
    """GUNICORN_CMD_ARGS for the slot (overrides its gunicorn.conf.py)."""
    backlog: int | None = None
    """The slot socket's Backlog= (rendered: 2048)."""
    adoptable: bool = True
    """False: measured to know its cost, never adopted (security or robustness)."""


def keepalive(n: int) -> tuple[tuple[Edit, ...], tuple[Edit, ...]]:
    """(live edits, site edits): upstream keepalive n, HTTP/1.1 and no Connection header to the upstream."""
    return ((sub(r"(upstream [\w-]+ \{[^}]*?)\n\}", rf"\1\n    keepalive {n};\n}}", 1),),
            (sub(r"(\n([ \t]*)proxy_redirect off;)", r'\1\n\2proxy_http_version 1.1;\n\2proxy_set_header Connection "";'),))


def workers(n: int | str) -> Edit:
    return sub(r"worker_processes \w+;", f"worker_processes {n};", 1)


SYNC = "--worker-class=sync --workers={}"
GTHREAD = "--worker-class=gthread --workers=2 --threads={}"
KA16, KA32 = keepalive(16), keepalive(32)

VARIANTS: tuple[Variant, ...] = (
    Variant("as rendered", "the stack exactly as Launchpad renders it"),
    Variant("nginx 1 worker", "one Nginx worker leaves gunicorn a whole core's worth of scheduling", main=(workers(1),)),
    Variant("nginx 2 workers + worker_cpu_affinity auto", "each Nginx worker bound to its own core",
            main=(workers(2), sub(r"(worker_processes 2;)", r"\1\nworker_cpu_affinity auto;", 1))),
    Variant("gunicorn sync ×2", "as many workers as cores", gunicorn=SYNC.format(2)),
    Variant("gunicorn sync ×3 (CPU+1)", "leave Nginx its share of the cores", gunicorn=SYNC.format(3)),
    Variant("gunicorn sync ×4", "one fewer than 2·CPU+1", gunicorn=SYNC.format(4)),
    Variant("nginx 1 worker + gunicorn sync ×3", "both of the above", main=(workers(1),), gunicorn=SYNC.format(3)),
    Variant("accept_mutex on", "workers take turns accepting (off by default since 1.11.3)",
            main=(sub(r"(events \{)", r"\1\n    accept_mutex on;", 1),)),
    Variant("multi_accept on", "a worker accepts every pending connection at once",
            main=(sub(r"(events \{)", r"\1\n    multi_accept on;", 1),)),
    Variant("gthread 2×2 + upstream keepalive 16", "threads, Nginx reusing upstream connections",
            live=KA16[0], site=KA16[1], gunicorn=GTHREAD.format(2)),
    Variant("gthread 2×4 + upstream keepalive 16", "threads, Nginx reusing upstream connections",
            live=KA16[0], site=KA16[1], gunicorn=GTHREAD.format(4)),
    Variant("gthread 2×8 + upstream keepalive 32", "threads, Nginx reusing upstream connections",
            live=KA32[0], site=KA32[1], gunicorn=GTHREAD.format(8)),
    Variant("gthread 2×4, no keepalive", "threads, a new upstream connection per request", gunicorn=GTHREAD.format(4)),
    Variant("slot socket Backlog=128", "systemd's default listen backlog instead of the rendered 2048", backlog=128),
    Variant("nginx listen backlog=4096", "a longer accept queue on port 80",
            site=(sub(r"listen 80 default_server;", "listen 80 default_server backlog=4096;", 1),)),
    Variant("proxy_buffer_size 16k, proxy_buffers 8 16k", "bigger upstream buffers (default 4k/8k pages)",
            site=(sub(r"(\n([ \t]*)proxy_buffering on;)", r"\1\n\2proxy_buffer_size 16k;\n\2proxy_buffers 8 16k;"),)),
    Variant("access log off", "what logging costs at all", site=(sub(r"access_log [^;]*;", "access_log off;", 1),)),
    Variant("access log unbuffered", "one write(2) per request (Debian's default)",
            site=(sub(r"access_log [^;]*;", "access_log /var/log/nginx/access.log combined;", 1),)),
    Variant("no security headers (not adoptable)", "what the five add_header lines cost",
            site=(sub(r"\n[ \t]*include /etc/nginx/launchpad/\w[\w-]*-headers.conf;", ""),), adoptable=False),
)


@dataclass
class Files:
    app: str
    main: str
    site: str
    live: str
    applied: tuple[str, int | None] = ("", None)
    paths: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, web: InMachine) -> Files:
        paths = {"main": "/etc/nginx/nginx.conf", "site": f"/etc/nginx/sites-available/{web.app}",
                 "live": f"/etc/nginx/launchpad/{web.app}-live.conf"}
        texts = {k: web.sh(f"cat {p}") for k, p in paths.items()}
        return cls(web.app, texts["main"], texts["site"], texts["live"], paths=paths)

    def texts(self, v: Variant) -> dict[str, str]:
        out = {"main": self.main, "site": self.site, "live": self.live}
        for key, edits in (("main", v.main), ("site", v.site), ("live", v.live)):
            for edit in edits:
                out[key] = edit(out[key])
        return out

    def apply(self, web: InMachine, v: Variant) -> None:
        for key, text in self.texts(v).items():
            web.put(self.paths[key], text)
        slot = web.live()[1]
        units = f"{self.app}@{slot}.socket {self.app}@{slot}.service"
        if (v.gunicorn, v.backlog) != self.applied:
            web.put(f"/etc/systemd/system/{self.app}@.service.d/lp-bench.conf",
                    f"[Service]\nEnvironment=\"GUNICORN_CMD_ARGS={v.gunicorn}\"\n" if v.gunicorn else "")
            web.put(f"/etc/systemd/system/{self.app}@.socket.d/lp-bench.conf",
                    f"[Socket]\nBacklog={v.backlog}\n" if v.backlog else "")
            web.sh(f"systemctl daemon-reload && systemctl stop {units} && systemctl start {units}")
            self.applied = (v.gunicorn, v.backlog)
        web.sh("nginx -t -q && systemctl reload nginx.service")
        # The old Nginx workers finish before we measure the new ones.
        end = time.monotonic() + 30
        while time.monotonic() < end and "shutting down" in web.sh("ps -eo args | grep '[n]ginx: worker' || true"):
            time.sleep(0.2)
        web.wait_200("http://127.0.0.1/")
        web.warm("http://127.0.0.1/", 50)

    def restore(self, web: InMachine) -> None:
        self.apply(web, VARIANTS[0])
        web.sh(f"rm -f /etc/systemd/system/{self.app}@.service.d/lp-bench.conf /etc/systemd/system/{self.app}@.socket.d/lp-bench.conf"
               " && systemctl daemon-reload")

CONFIRM = tuple(v for v in VARIANTS if v.label in (
    "as rendered", "gunicorn sync ×3 (CPU+1)", "nginx 1 worker + gunicorn sync ×3", "gthread 2×4 + upstream keepalive 16",
    "gthread 2×8 + upstream keepalive 32"))
"""The candidates that beat the rendered stack by about 10 % or more in a run of the full table, measured
again head to head in more rounds (`--parts confirm`): a single round's ±15 % swings decide nothing."""
