"""Boot to ready: machine start to the first "Hello World!" through Nginx.

(a) the baseline: a minimal #cloud-config that apt-installs nginx, gunicorn and
    python3-flask, writes a three-line app, a unit and a proxy site;
(b) `launchpad local up` itself (launchpad.local.stack.up): Launchpad's full bootstrap, then
    the sample app published to the stack's store as a release and rolled live by the agent
    (its venv built, health-checked, switched), since the app no longer rides in user-data;
each cold (the plain Debian base: every package comes from the mirror) and warm
(the same cloud-config on a base layer with its apt packages already installed,
launchpad.local.base.ensure_base(extra_packages=...), `launchpad local up --prebake`;
built before timing).

The clock starts before `machine.up` (overlay mount, network, nspawn, systemd,
cloud-init all count) and stops at the first 200 whose body is the app's: Debian's
nginx answers 200 with its welcome page as soon as it is installed, which is not ready.
"""

from __future__ import annotations

import re
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import yaml

from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.local.base import ensure_base
from launchpad.settings import Settings

Progress = Callable[[str], None]
BODY = b"Hello World!"

MINIMAL = """\
#cloud-config
# bench/boot.py baseline: only what serving Hello World through Nginx takes.
packages: [nginx, gunicorn, python3-flask]
write_files:
  - path: /srv/hello/hello.py
    content: |
      from flask import Flask
      app = Flask(__name__)
      @app.route("/")
      def index():
          return "Hello World!"
  - path: /etc/systemd/system/hello.service
    content: |
      [Unit]
      Description=Hello World under gunicorn
      [Service]
      User=www-data
      WorkingDirectory=/srv/hello
      ExecStart=/usr/bin/gunicorn --workers 3 --bind 127.0.0.1:8000 hello:app
      [Install]
      WantedBy=multi-user.target
  - path: /etc/hello/nginx-site
    content: |
      server {
          listen 80 default_server;
          location / { proxy_pass http://127.0.0.1:8000; proxy_set_header Host $host; }
      }
runcmd:
  - [systemctl, daemon-reload]
  - [systemctl, enable, --now, hello.service]
  - [ln, -sf, /etc/hello/nginx-site, /etc/nginx/sites-enabled/hello]
  - [rm, -f, /etc/nginx/sites-enabled/default]
  - [systemctl, reload-or-restart, nginx.service]
"""


def packages_of(user_data: str) -> list[str]:
    return [str(p) for p in (yaml.safe_load(user_data).get("packages") or [])]


def wait_app(url: str, deadline_s: float) -> float:
    """Seconds until url answers 200 with the app's body."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        try:
            with opener.open(url, timeout=2.0) as resp:
                if resp.status == 200 and BODY in resp.read():
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 with {BODY!r} within {deadline_s:.0f} s")


def _blame(name: str, top: int = 6) -> list[str]:
    out = machine.run(name, ["cloud-init", "analyze", "blame"], check=False, timeout=60).stdout
    # Lines look like "     03.21400s (modules-final/config-scripts_user)", slowest first.
    return [line.strip() for line in out.splitlines() if re.match(r"^\s*[\d.]+s \(", line)][:top]


def boot_once(name: str, user_data: str, warm: bool, progress: Progress, deadline_s: float = 600) -> dict[str, Any]:
    extra = packages_of(user_data) if warm else []
    ensure_base(progress=progress, extra_packages=extra)  # built (once) before the clock starts
    machine.down(name)
    instance = f"{name}-{int(time.time())}"
    started = time.monotonic()
    try:
        st = machine.up(machine.MachineSpec(name, user_data, instance), progress=lambda _: None, extra_packages=extra)
        systemd_s = time.monotonic() - started
        ready_s = systemd_s + wait_app(f"http://{st.address}/", deadline_s)
        machine.wait_cloud_init(name, deadline_s)
        return {"ready_s": round(ready_s, 2), "systemd_s": round(systemd_s, 2), "blame": _blame(name)}
    finally:
        machine.down(name)


def boot_launchpad(settings: Settings, user_data: str, warm: bool, progress: Progress, deadline_s: float = 900) -> dict[str, Any]:
    """`launchpad local up` from nothing to the sample app live: the bootstrap, then its first release."""
    ensure_base(progress=progress, extra_packages=packages_of(user_data) if warm else [])  # before the clock
    local_stack.down(settings.stack, progress=lambda _: None)
    started = time.monotonic()
    try:
        st = local_stack.up(settings, progress=lambda _: None, deadline_s=deadline_s, prebake=warm)
        up_s = time.monotonic() - started
        if not st.address:
            raise RuntimeError(f"stack {settings.stack}: no address after up ({st.state})")
        ready_s = up_s + wait_app(f"http://{st.address}/", deadline_s)
        return {"ready_s": round(ready_s, 2), "systemd_s": None, "blame": _blame(local_stack.web_name(settings.stack))}
    finally:
        local_stack.down(settings.stack, progress=lambda _: None)


def run(settings: Settings, full_user_data: str, rounds: int, progress: Progress = print) -> dict[str, Any]:
    """`full_user_data` is what `settings` renders: its packages are what the warm case pre-bakes."""
    cases = [("a", "cold"), ("b", "cold"), ("a", "warm"), ("b", "warm")]
    runs: dict[str, list[dict[str, Any]]] = {f"{k} {t}": [] for k, t in cases}
    for rnd in range(rounds):
        for key, temp in cases:
            warm = temp == "warm"
            if key == "a":
                r = boot_once("lp-bench-boot-a", MINIMAL, warm, progress)
            else:
                r = boot_launchpad(settings, full_user_data, warm, progress)
            runs[f"{key} {temp}"].append(r)
            progress(f"  boot round {rnd + 1} ({key}) {temp}: first 200 after {r['ready_s']:.1f} s")
    summary = {k: round(statistics.median(r["ready_s"] for r in v), 1) for k, v in runs.items()}
    return {"rounds": rounds, "median_s": summary, "runs": runs,
            "packages": {"a": packages_of(MINIMAL), "b": packages_of(full_user_data)}}
