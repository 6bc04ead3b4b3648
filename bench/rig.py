"""The machines the release-era benchmarks run on, and shell access into them.

`up()` boots one Launchpad stack exactly as `launchpad local up` does (web machine +
PostgreSQL machine, the app shipped as a release through the store and the on-host
agent), with the benchmark app (bench/apps/page) copied to a scratch folder first,
because the benchmarks write its static files there and bench/release_time.py edits
it. `rateLimit: 0`: every load generator connection comes from one address.

Beside the stack, inside the same web machine, a benchmark can start:
- `bare()`: the live release's own gunicorn (same venv, same rendered gunicorn.conf.py,
  same sandbox block as the slot unit) listening on 127.0.0.1:<port> instead of the
  slot's unix socket: "gunicorn alone, same workers";
- `caddy()`: Debian's Caddy (installed on first use) proxying to the live slot's socket.
Transient units are named lp-bench-*; `stop()` ends them.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import assets
from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.settings import Settings, validate

ROOT = Path(__file__).resolve().parent.parent
APP_SOURCE = ROOT / "bench" / "apps" / "page"
SCRATCH = ROOT / ".launchpad" / "bench"
STACK = "benchpage"  # machines lp-benchpage and lp-benchpage-db
APP = "page"
STATUS = "/var/lib/launchpad/release/status.json"
CADDY_PORT = 8006

Progress = Callable[[str], None]


def app_dir() -> Path:
    return SCRATCH / APP


def config() -> dict[str, Any]:
    return {
        "launchpad:provider": "local",
        "launchpad:rateLimit": 0,
        "launchpad:database": {"enabled": True},
        "launchpad:app": {"path": str(app_dir()), "module": "page:app", "healthPath": "/healthz",
                          "release": "python seed.py"},
    }


def prepare_app() -> dict[str, Any]:
    """The benchmark app in its scratch folder, static files written (deterministic bytes)."""
    dest = app_dir()
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(APP_SOURCE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static"))
    return assets.write_static(dest / "static")


def settings() -> Settings:
    return validate(config(), STACK)


class InMachine:
    """Shell access to a running machine (root, all its namespaces)."""

    def __init__(self, name: str, app: str = APP):
        self.name, self.app = name, app

    def sh(self, script: str, check: bool = True, timeout: float = 300) -> str:
        return machine.run(self.name, ["sh", "-c", script], check=check, timeout=timeout).stdout

    def put(self, path: str, text: str) -> None:
        machine.run(self.name, ["sh", "-c", f"mkdir -p \"$(dirname {path})\" && cat > {path}"], input=text)

    def init_pid(self) -> int:
        st = machine.status(self.name)
        if st is None or not st.init_pid:
            raise RuntimeError(f"machine {self.name} is not running")
        return st.init_pid

    def code(self, url: str) -> str:
        return self.sh(f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 {url}", check=False).strip()

    def wait_200(self, url: str, timeout_s: float = 60) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.code(url) == "200":
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: {url} did not answer 200 within {timeout_s:.0f} s")

    def warm(self, url: str, n: int = 40) -> None:
        """Requests 8 at a time, so every worker meets url once before it is measured: the first
        request of a worker imports lazily, opens its database connection, compiles the template."""
        self.sh(f"seq {n} | xargs -P 8 -I@ curl -s -o /dev/null --max-time 10 {url}", check=False, timeout=120)

    # -- the live release
    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.sh(f"cat {STATUS}"))
        return data

    def live(self) -> tuple[str, str]:
        """(release id, slot) of the live release."""
        st = self.status()
        if not st.get("live"):
            raise RuntimeError(f"{self.name}: no live release in {STATUS}: {st.get('last_failure')}")
        return str(st["live"]), str(st["slot"])

    def socket(self) -> str:
        return f"/run/{self.app}-{self.live()[1]}.sock"

    def facts(self) -> dict[str, Any]:
        """The live slot's gunicorn shape (from its processes: the rendered config decides), CPUs and versions."""
        rid, slot = self.live()
        main = self.sh(f"systemctl show -P MainPID {self.app}@{slot}.service").strip()
        kids = self.sh(f"pgrep -P {main} || true").split()
        threads = int(self.sh(f"ls /proc/{kids[0]}/task | wc -l").strip()) if kids else 0
        venv = f"/srv/{self.app}/releases/{rid}/.launchpad-venv/bin"
        versions = self.sh(f"{venv}/gunicorn --version; nginx -v 2>&1; "
                           f"{venv}/python -c 'import flask, psycopg; print(\"flask\", flask.__version__, \"/ psycopg\", psycopg.__version__)'; "
                           "psql --version 2>/dev/null || true", check=False)
        return {"workers": len(kids), "threads": threads, "shape": f"{'gthread' if threads > 1 else 'sync'} ×{len(kids)}"
                + (f"×{threads}" if threads > 1 else ""), "cpus": int(self.sh("nproc").strip()),
                "versions": " / ".join(v.strip() for v in versions.strip().splitlines() if v.strip())}

    def sandbox(self) -> list[str]:
        """The slot unit's sandbox block, as systemd-run properties (what the agent does for release commands)."""
        text = self.sh(f"cat /etc/systemd/system/{self.app}@.service")
        block = text.split("# sandbox: begin", 1)[1].split("# sandbox: end", 1)[0]
        return [ln.strip() for ln in block.splitlines() if "=" in ln and not ln.strip().startswith("#")]

    # -- transient servers beside the stack
    def transient(self, unit: str, argv: str, props: list[str], url: str, env: dict[str, str] | None = None) -> None:
        self.stop(unit)
        quoted = " ".join(f"-p '{p}'" for p in props) + " " + " ".join(f"--setenv={k}={v}" for k, v in (env or {}).items())
        self.sh(f"systemd-run --quiet --unit={unit} {quoted} {argv}")
        try:
            self.wait_200(url)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{self.sh(f'journalctl -u {unit} -n 30 --no-pager', check=False)}") from None
        self.warm(url)

    def stop(self, unit: str) -> None:
        self.sh(f"systemctl stop {unit} 2>/dev/null; systemctl reset-failed {unit} 2>/dev/null; true", check=False)

    def bare(self, port: int, extra_args: str = "", unit: str = "lp-bench-bare") -> str:
        """The live release's gunicorn on 127.0.0.1:port: same venv, config, env file and sandbox as
        its slot; the command line overrides only the bind (and `extra_args`, e.g. a worker shape)."""
        rid, _ = self.live()
        rel = f"/srv/{self.app}/releases/{rid}"
        props = [f"User={self.app}", f"Group={self.app}", f"WorkingDirectory={rel}",
                 f"EnvironmentFile=/etc/launchpad/releases/{rid}.env", f"StateDirectory={self.app}", *self.sandbox()]
        # Nothing in front of it: no proxy headers to trust.
        argv = (f"{rel}/.launchpad-venv/bin/gunicorn --config /etc/{self.app}/gunicorn.conf.py --bind 127.0.0.1:{port} "
                f"{extra_args} page:app")
        self.transient(unit, argv, props, f"http://127.0.0.1:{port}/",
                       {"LAUNCHPAD_TRUSTED_PROXIES": "0", "PYTHONDONTWRITEBYTECODE": "1"})
        return f"http://127.0.0.1:{port}"

    def ensure_caddy(self, progress: Progress) -> str:
        """Debian's caddy package, installed without starting its own service (it would want port 80)."""
        have = self.sh("command -v caddy || true").strip()
        if not have:
            progress("  installing caddy (Debian package) in the machine")
            self.sh("printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && "
                    "(apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q caddy >/dev/null); "
                    "rc=$?; rm -f /usr/sbin/policy-rc.d; systemctl disable --now caddy.service >/dev/null 2>&1; exit $rc",
                    timeout=600)
        return self.sh("caddy version").strip().split()[0]

    def caddy(self, port: int = CADDY_PORT) -> str:
        """Caddy -> the live slot's socket on 127.0.0.1:port, as www-data (the only user the socket admits)."""
        conf = (f"# Written by bench/rig.py: Caddy in front of the live slot, like Nginx in the stack.\n"
                "{\n\tadmin off\n\tauto_https off\n}\n"
                f"http://127.0.0.1:{port} {{\n\treverse_proxy unix/{self.socket()}\n}}\n")
        self.put("/etc/lp-bench/Caddyfile", conf)
        props = ["User=www-data", "Group=www-data", "PrivateTmp=yes", "LimitNOFILE=65536", "AmbientCapabilities="]
        self.transient("lp-bench-caddy", "/usr/bin/caddy run --config /etc/lp-bench/Caddyfile --adapter caddyfile",
                       props, f"http://127.0.0.1:{port}/", {"HOME": "/tmp", "XDG_DATA_HOME": "/tmp", "XDG_CONFIG_HOME": "/tmp"})
        return f"http://127.0.0.1:{port}"


@dataclass
class Rig:
    settings: Settings
    web: InMachine
    address: str
    static: dict[str, Any]
    """What assets.write_static wrote: file names, sizes, hashes."""


def up(progress: Progress = print) -> Rig:
    """The benchmark stack, booted and serving its first release (a running one is reused)."""
    static = prepare_app()
    s = settings()
    st = local_stack.up(s, progress=progress)
    if not st.address:
        raise RuntimeError(f"stack {STACK}: no address after up: {st}")
    web = InMachine(local_stack.web_name(STACK))
    web.wait_200("http://127.0.0.1/healthz")
    web.warm("http://127.0.0.1/page")
    return Rig(s, web, st.address, static)


def down(progress: Progress = print) -> None:
    local_stack.down(STACK, progress=progress)
