"""The local balancer's HAProxy config (render/haproxy.py): `haproxy -c` accepts it, and HAProxy from Debian
running it on loopback health-checks each host on the health path, appends the client to X-Forwarded-For,
retries a request that met a dead host on a live one, and drains a host through its runtime API."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from launchpad.render.haproxy import (ADMIN_SOCKET, CONFIG_PATH, HealthCheck, drain_command, ready_command, render_balancer_user_data,
                                      render_haproxy, render_haproxy_config)
from launchpad.settings import validate

needs_haproxy = pytest.mark.skipif(shutil.which("haproxy") is None or os.geteuid() != 0, reason="needs haproxy (Debian) and root")

FRONT = 18580
HOSTS = {"web-0": 18581, "web-1": 18582, "web-2": 18583}

BACKEND = textwrap.dedent('''
    import json, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    NAME = sys.argv[1]
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            body = json.dumps({"host": NAME, "xff": self.headers.get_all("X-Forwarded-For"),
                               "proto": self.headers.get("X-Forwarded-Proto")}).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a): pass
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
''')


def config(tmp: Path, servers) -> Path:
    text = render_haproxy(validate({"launchpad:hosts": 3, "launchpad:app": {"healthPath": "/healthz"}}, "t"), servers)
    text = (text.replace("bind :80", f"bind 127.0.0.1:{FRONT}").replace(ADMIN_SOCKET, str(tmp / "admin.sock"))
            .replace("log /dev/log local0 notice", "").replace("user haproxy\n", "").replace("group haproxy\n", ""))
    for name, port in HOSTS.items():
        text = text.replace(f"server {name} 127.0.0.1:80 check", f"server {name} 127.0.0.1:{port} check")
    path = tmp / "haproxy.cfg"
    path.write_text(text)
    return path


def get(headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{FRONT}/", headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def admin(tmp: Path, line: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(tmp / "admin.sock"))
        s.sendall(line.encode() + b"\n")
        return s.recv(65536).decode()


@pytest.fixture
def balancer(tmp_path: Path) -> Iterator[tuple[Path, dict[str, subprocess.Popen]]]:
    (tmp_path / "backend.py").write_text(BACKEND)
    backends = {name: subprocess.Popen([sys.executable, str(tmp_path / "backend.py"), name, str(port)]) for name, port in HOSTS.items()}
    cfg = config(tmp_path, [(name, "127.0.0.1") for name in HOSTS])
    check = subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proxy = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            if len({get()["host"] for _ in range(6)}) == 3:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "haproxy did not bring every host up"
        time.sleep(0.2)
    yield tmp_path, backends
    for proc in [proxy, *backends.values()]:
        proc.terminate()
        proc.wait(timeout=10)


@needs_haproxy
def test_the_debian_config_checks_and_asks_the_health_path() -> None:
    text = render_haproxy(validate({"launchpad:hosts": 2}, "t"), [("web-0", "10.213.0.2"), ("web-1", "10.213.0.6")])
    assert "http-check send meth GET uri / ver HTTP/1.1 hdr Host localhost" in text and "rstatus ^[234]" in text
    assert "option forwardfor" in text and "server web-1 10.213.0.6:80 check" in text
    with pytest.raises(ValueError, match="expected a name like web-0"):
        render_haproxy(validate({"launchpad:hosts": 2}, "t"), [("web 0; x", "10.213.0.2")])


@needs_haproxy
def test_client_address_is_appended_and_the_scheme_is_the_balancers(balancer) -> None:
    seen = get({"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"})
    assert seen["xff"][-1].endswith("127.0.0.1") and seen["proto"] == "http"


@needs_haproxy
def test_a_killed_host_costs_no_request(balancer) -> None:
    tmp, backends = balancer
    backends["web-1"].kill()
    backends["web-1"].wait()
    # Straight away, before the health check noticed: connection refused -> retried on another host.
    answers = [get()["host"] for _ in range(60)]
    assert "web-1" not in answers and len(answers) == 60


@needs_haproxy
def test_drain_and_rejoin_through_the_runtime_api(balancer) -> None:
    tmp, _ = balancer
    admin(tmp, drain_command("web-2"))
    assert "web-2" not in {get()["host"] for _ in range(30)}
    admin(tmp, ready_command("web-2"))
    assert "web-2" in {get()["host"] for _ in range(30)}


def test_the_balancer_machine_installs_debians_haproxy_with_that_config(tmp_path: Path) -> None:
    import yaml

    config = render_haproxy_config("t", [("web-0", "10.213.0.2"), ("web-1", "10.213.0.6")], HealthCheck("/healthz", "rocket.test", True))
    assert "http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host rocket.test" in config
    assert "http-check expect status 200" in config
    text = render_balancer_user_data("t", config)
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    assert data["packages"] == ["haproxy"] and data["package_update"] is True
    [written] = data["write_files"]
    assert (written["path"], written["defer"], written["content"]) == (CONFIG_PATH, True, config)
    assert data["runcmd"][-1] == ["systemctl", "reload-or-restart", "haproxy.service"]
    if shutil.which("haproxy"):
        (tmp_path / "h.cfg").write_text(config.replace("user haproxy\n", "").replace("group haproxy\n", "")
                                        .replace(ADMIN_SOCKET, str(tmp_path / "admin.sock")))
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(tmp_path / "h.cfg")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("check", [HealthCheck("healthz", "h", True), HealthCheck("/a b", "h", True), HealthCheck("/", "h\nx", False)])
def test_a_health_check_that_would_break_the_config_is_refused(check: HealthCheck) -> None:
    with pytest.raises(ValueError, match="expected a path starting with / and a host name"):
        render_haproxy_config("t", [("web-0", "10.213.0.2")], check)
