"""`nginx -t` as a non-root user (a hosted CI runner): what only root may do, moved aside.

nginx -t binds every `listen` address and opens every log file. Without root, ports
below 1024 and /var/log/nginx/ are refused, which says nothing about the config under
test. So, for a non-root run only, each privileged port maps to one free high port (the
same number always to the same port, so nginx still sees duplicate listeners and
default servers as the host would), and log paths under /var/log/nginx/ point into the
scratch directory. As root the text is returned unchanged. Used by tests/render_checks.py
and tests/launchpad/safety/oracles.py.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

LISTEN = re.compile(r"(\blisten\s+(?:(?:\[[^\]]*\]|[\w.-]+):)?)(\d+)(?=[\s;])")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


class Unprivileged:
    """One `nginx -t` run's rewrites: call `conf(text)` on every file of that run."""

    def __init__(self, scratch: Path) -> None:
        self.active = os.geteuid() != 0
        self.scratch = scratch
        self.ports: dict[int, int] = {}

    def _port(self, match: re.Match[str]) -> str:
        port = int(match.group(2))
        if port >= 1024:
            return match.group(0)
        if port not in self.ports:
            self.ports[port] = _free_port()
        return f"{match.group(1)}{self.ports[port]}"

    def conf(self, text: str) -> str:
        if not self.active:
            return text
        logs = self.scratch / "log"
        logs.mkdir(parents=True, exist_ok=True)
        return LISTEN.sub(self._port, text.replace("/var/log/nginx/", f"{logs}/"))
