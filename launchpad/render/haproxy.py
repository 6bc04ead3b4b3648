"""The local balancer's HAProxy configuration and machine (launchpad:hosts > 1 on the local target).

Pure: the stack's health check and its web machines' (name, address) in, haproxy.cfg text out; and
the balancer machine's #cloud-config (Debian's haproxy package, that file). The
health check asks the app's health path (render/balanced.py) as the cloud balancers do; the
frontend appends the client's address to X-Forwarded-For (`option forwardfor`) and sets the
scheme; a request that met a dead host is retried on another one (`retry-on conn-failure
empty-response`, `option redispatch`). Hosts drain and rejoin through the runtime API socket.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from launchpad.render.balanced import health_path, healthy_codes
from launchpad.render.templates import render_template
from launchpad.settings import Settings

CONFIG_PATH = "/etc/haproxy/haproxy.cfg"
ADMIN_SOCKET = "/run/haproxy/admin.sock"
BACKEND = "hosts"
SERVER_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


@dataclass(frozen=True)
class HealthCheck:
    """What the balancer asks each web machine: the app's health path, with the Host header the
    site answers to; `strict`: only 200 counts (a health path), else any answer below 500 (`/`)."""

    path: str
    host: str
    strict: bool


def health_check(settings: Settings) -> HealthCheck:
    return HealthCheck(health_path(settings), settings.domain or "localhost", healthy_codes(settings) == "200")


def render_haproxy(settings: Settings, servers: Sequence[tuple[str, str]]) -> str:
    return render_haproxy_config(settings.stack, servers, health_check(settings))


def render_haproxy_config(stack: str, servers: Sequence[tuple[str, str]], check: HealthCheck) -> str:
    if not servers:
        raise ValueError(f"stack {stack}: no web machines to balance")
    for name, address in servers:
        if not SERVER_NAME.fullmatch(name) or not ADDRESS.fullmatch(address):
            raise ValueError(f"server {name!r} at {address!r}: expected a name like web-0 and an IPv4 address")
    if not check.path.startswith("/") or any(c.isspace() or ord(c) < 0x20 for c in check.path + check.host):
        raise ValueError(f"health check {check.path!r} (Host {check.host!r}): expected a path starting with / and a host name, no spaces")
    return render_template("haproxy.cfg.j2", stack=stack, servers=list(servers), health_path=check.path,
                           health_host=check.host, strict=check.strict)


def render_balancer_user_data(stack: str, config: str) -> str:
    """The balancer machine's #cloud-config: Debian's haproxy running `config` (render_haproxy_config)."""
    return render_template("haproxy-cloud-config.yaml.j2", stack=stack, config=config, config_path=CONFIG_PATH)


def drain_command(server: str) -> str:
    """The runtime API line that takes `server` out of the pool (open requests finish)."""
    return f"set server {BACKEND}/{server} state drain"


def ready_command(server: str) -> str:
    return f"set server {BACKEND}/{server} state ready"
