"""The local balancer's HAProxy configuration (launchpad:hosts > 1 on the local target).

Pure: the stack's settings and its web machines' (name, address) in, haproxy.cfg text out. The
health check asks the app's health path (render/balanced.py) as the cloud balancers do; the
frontend appends the client's address to X-Forwarded-For (`option forwardfor`) and sets the
scheme; a request that met a dead host is retried on another one (`retry-on conn-failure
empty-response`, `option redispatch`). Hosts drain and rejoin through the runtime API socket.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from launchpad.render.balanced import health_path, healthy_codes
from launchpad.render.templates import render_template
from launchpad.settings import Settings

CONFIG_PATH = "/etc/haproxy/haproxy.cfg"
ADMIN_SOCKET = "/run/haproxy/admin.sock"
BACKEND = "hosts"
SERVER_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def render_haproxy(settings: Settings, servers: Sequence[tuple[str, str]]) -> str:
    if not servers:
        raise ValueError(f"stack {settings.stack}: no web machines to balance")
    for name, address in servers:
        if not SERVER_NAME.fullmatch(name) or not ADDRESS.fullmatch(address):
            raise ValueError(f"server {name!r} at {address!r}: expected a name like web-0 and an IPv4 address")
    return render_template("haproxy.cfg.j2", stack=settings.stack, servers=list(servers), health_path=health_path(settings),
                           health_host=settings.domain or "localhost", strict=healthy_codes(settings) == "200")


def drain_command(server: str) -> str:
    """The runtime API line that takes `server` out of the pool (open requests finish)."""
    return f"set server {BACKEND}/{server} state drain"


def ready_command(server: str) -> str:
    return f"set server {BACKEND}/{server} state ready"
