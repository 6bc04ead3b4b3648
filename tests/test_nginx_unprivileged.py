"""tests/nginx_unprivileged.py: what a non-root `nginx -t` run changes, and that root's run changes nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from nginx_unprivileged import Unprivileged

SITE = """server {
    listen 80 default_server;
    listen [::]:80 default_server;
    access_log /var/log/nginx/access.log combined buffer=64k flush=1s;
}
server {
    listen 443 ssl http2;
    listen 127.0.0.1:80;
    listen 8080;
    listen unix:/run/app.sock;
}
"""


def test_root_runs_see_the_config_unchanged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert Unprivileged(tmp_path).conf(SITE) == SITE


def test_non_root_runs_move_privileged_ports_and_logs_consistently(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1001)
    run = Unprivileged(tmp_path)
    out = run.conf(SITE)
    again = run.conf("server { listen 80; }")  # another file of the same nginx -t run
    ports = [m.group(1) for m in re.finditer(r"listen (?:\[::\]:|127\.0\.0\.1:)?(\w+)", out)]
    http, https = run.ports[80], run.ports[443]
    assert ports == [str(http), str(http), str(https), str(http), "8080", "unix"]
    assert http != https and min(http, https) >= 1024
    assert again == f"server {{ listen {http}; }}"
    assert "/var/log/nginx/" not in out and f"access_log {tmp_path}/log/access.log combined" in out
    assert (tmp_path / "log").is_dir()
