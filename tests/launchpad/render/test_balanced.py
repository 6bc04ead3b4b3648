"""Hosts behind a balancer (issue 14), as rendered: the real nginx runs the rendered tree on loopback
in front of a stand-in app that reads X-Forwarded-* exactly as Werkzeug's ProxyFix does with the
rendered hop count (LAUNCHPAD_TRUSTED_PROXIES of the slot unit), with and without a balancer.

What must hold: `nginx -t` passes; behind the balancer the app sees the client the balancer saw,
whatever X-Forwarded-For the client wrote; a connection from outside the balancer's range is
believed about nothing; the rate limit keys on the real client; with one host nothing changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from launchpad.render import bootstrap
from launchpad.render.balanced import AWS_BALANCER_CIDRS, CONF_PATH, local_balancer_address
from launchpad.settings import validate

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None or os.geteuid() != 0, reason="needs nginx and root")

BALANCER = "127.0.0.1"
"""Stands for the balancer: the range handed to the renderer."""
OUTSIDER = "127.0.0.2"
"""A client connecting straight to the host, outside the balancer's range."""
PORT = 18480

APP = textwrap.dedent('''
    import json, os, socketserver, sys
    from http.server import BaseHTTPRequestHandler

    HOPS = int(os.environ["LAUNCHPAD_TRUSTED_PROXIES"])

    def trusted(value):
        # werkzeug.middleware.proxy_fix.ProxyFix._get_real_value: the HOPS-th value from the right,
        # only when there are at least HOPS values.
        if not value:
            return None
        values = value.split(",")
        return values[-HOPS].strip() or None if len(values) >= HOPS else None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            h = self.headers
            seen = {"remote_addr": trusted(h.get("X-Forwarded-For")) or "",
                    "scheme": trusted(h.get("X-Forwarded-Proto")) or "http",
                    "host": trusted(h.get("X-Forwarded-Host")) or h.get("Host")}
            body = json.dumps(seen).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def address_string(self):
            return "unix"
        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    Server(sys.argv[1], Handler).serve_forever()
''')


def unit_hops(tree: dict[str, str]) -> int:
    unit = next(text for path, text in tree.items() if path.endswith("@.service"))
    return int(re.search(r"LAUNCHPAD_TRUSTED_PROXIES=(\d+)", unit).group(1))  # type: ignore[union-attr]


def lay_out(tree: dict[str, str], root: Path) -> Path:
    """The host's /etc/nginx under `root`, as the bootstrap leaves it before the first release."""
    etc = root / "etc/nginx"
    for path, text in tree.items():
        if path.startswith("/etc/nginx/"):
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    for initial in (etc / "launchpad/initial").glob("*.conf"):
        shutil.copy(initial, etc / "launchpad" / initial.name)
    shutil.copy("/etc/nginx/mime.types", etc / "mime.types")
    (etc / "modules-enabled").mkdir(exist_ok=True)
    site = next((etc / "sites-available").iterdir())
    (etc / "sites-enabled").mkdir(exist_ok=True)
    shutil.copy(site, etc / "sites-enabled" / site.name)
    for conf in etc.rglob("*"):
        if conf.is_file():
            text = conf.read_text().replace("/etc/nginx/", f"{etc}/").replace("/run/", f"{root}/run/")
            text = text.replace("/var/log/nginx/", f"{root}/log/")
            text = re.sub(r"listen \[::\]:80[^;]*;\n", "", text)
            text = re.sub(r"listen 80( default_server)?;", rf"listen 127.0.0.1:{PORT}\1;", text)
            text = text.replace("user www-data;", "user root;")  # the stand-in app's socket is root's
            conf.write_text(text)
    (root / "run").mkdir(exist_ok=True)
    (root / "log").mkdir(exist_ok=True)
    return etc / "nginx.conf"


def render(config: dict, cidrs: tuple[str, ...] = ()) -> dict[str, str]:
    settings = validate(config, "t")
    return {f.path: f.content for f in bootstrap.host_files(settings, None, cidrs) if not f.b64}


class Site:
    def __init__(self, root: Path):
        self.root = root

    def get(self, path: str = "/", headers: dict[str, str] | None = None, source: str = BALANCER) -> tuple[int, dict]:
        conn = socket.create_connection(("127.0.0.1", PORT), timeout=5, source_address=(source, 0))
        lines = [f"GET {path} HTTP/1.1", "Host: rocket.example.com", "Connection: close",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
        conn.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {}


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(tree: dict[str, str]) -> Site:
        conf = lay_out(tree, tmp_path)
        check = subprocess.run(["nginx", "-t", "-q", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        (tmp_path / "app.py").write_text(APP)
        live = (tmp_path / "etc/nginx/launchpad").glob("*-live.conf")
        sock = re.search(r"unix:(\S+?);?\s", next(live).read_text()).group(1)  # type: ignore[union-attr]
        Path(sock).parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "LAUNCHPAD_TRUSTED_PROXIES": str(unit_hops(tree))}
        procs.append(subprocess.Popen([sys.executable, str(tmp_path / "app.py"), sock], env=env))
        procs.append(subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"]))
        deadline = time.monotonic() + 10
        while not (Path(sock).exists() and _port_open()):
            assert time.monotonic() < deadline, "nginx or the app did not start"
            time.sleep(0.05)
        return Site(tmp_path)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _port_open() -> bool:
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
        return True
    except OSError:
        return False


BEHIND = {"launchpad:hosts": 3, "launchpad:rateLimit": 5}


def test_behind_the_balancer_the_app_sees_the_client_the_balancer_saw(serve) -> None:
    tree = render(BEHIND, (f"{BALANCER}/32",))
    assert unit_hops(tree) == 2
    site = serve(tree)
    # The balancer appends the client it saw (198.51.100.9) to whatever the client sent.
    status, seen = site.get("/", {"X-Forwarded-For": "6.6.6.6, 7.7.7.7, 198.51.100.9", "X-Forwarded-Proto": "https"})
    assert status == 200 and seen == {"remote_addr": "198.51.100.9", "scheme": "https", "host": "rocket.example.com"}
    # A client writing X-Forwarded-Proto itself: the balancer's own entry (last) wins.
    assert site.get("/", {"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https, http"})[1]["scheme"] == "http"


def test_a_direct_connection_outside_the_balancer_range_is_believed_about_nothing(serve) -> None:
    site = serve(render(BEHIND, (f"{BALANCER}/32",)))
    status, seen = site.get("/", {"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https",
                                  "X-Forwarded-Host": "evil.test"}, source=OUTSIDER)
    assert status == 200 and seen == {"remote_addr": OUTSIDER, "scheme": "http", "host": "rocket.example.com"}


def test_the_rate_limit_keys_on_the_real_client_not_the_balancer(serve) -> None:
    site = serve(render(BEHIND, (f"{BALANCER}/32",)))
    # rateLimit 5 r/s, burst 10: a flood from one client meets 429 ...
    codes = [site.get("/", {"X-Forwarded-For": "198.51.100.1"})[0] for _ in range(30)]
    assert 429 in codes and codes[:5] == [200] * 5
    # ... while another client behind the same balancer is still served, and a forged XFF does not
    # move the flooding client into a fresh bucket.
    assert site.get("/", {"X-Forwarded-For": "198.51.100.2"})[0] == 200
    assert site.get("/", {"X-Forwarded-For": "203.0.113.50, 198.51.100.1"})[0] == 429


def test_one_host_keeps_a_single_hop_and_its_old_headers(serve) -> None:
    tree = render({"launchpad:rateLimit": 0})
    assert unit_hops(tree) == 1 and CONF_PATH not in tree
    assert "$proxy_add_x_forwarded_for" in tree["/etc/nginx/sites-available/rocket"]
    site = serve(tree)
    # One hop: the address nginx saw, whatever the client claims.
    assert site.get("/", {"X-Forwarded-For": "198.51.100.9"}, source=OUTSIDER)[1]["remote_addr"] == OUTSIDER


@pytest.mark.parametrize("config, cidrs", [
    ({"launchpad:provider": "aws", "launchpad:hosts": 2}, AWS_BALANCER_CIDRS),
    ({"launchpad:provider": "aws", "launchpad:hosts": 2, "launchpad:domain": "rocket.example.com",
      "launchpad:dnsZone": "example.com", "launchpad:email": "ops@example.com"}, AWS_BALANCER_CIDRS),
    ({"launchpad:provider": "digitalocean", "launchpad:hosts": 3, "launchpad:domain": "rocket.example.com"}, ("10.116.0.0/20",)),
    ({"launchpad:hosts": 3}, ()),
])
def test_each_provider_trusts_exactly_its_balancer_range(config: dict, cidrs: tuple[str, ...], tmp_path: Path) -> None:
    settings = validate(config, "t")
    tree = render(config, cidrs if settings.provider == "digitalocean" else ())
    expected = cidrs or (f"{local_balancer_address('t')}/32",)
    conf = tree[CONF_PATH]
    assert re.findall(r"^set_real_ip_from (\S+);$", conf, re.M) == list(expected)
    assert "real_ip_header X-Forwarded-For;" in conf and "real_ip_recursive on;" in conf
    site = tree["/etc/nginx/sites-available/rocket"]
    assert 'X-Forwarded-For "$remote_addr, $realip_remote_addr"' in site and "$proxy_add_x_forwarded_for" not in site
    # No certbot on the hosts: TLS, when there is any, is the balancer's; HSTS then still goes out.
    assert not any("certificate" in path for path in tree)
    headers = next(text for path, text in tree.items() if path.endswith("-headers.conf"))
    assert ("Strict-Transport-Security" in headers) == settings.https
    if settings.domain:
        assert f"return 301 {'https' if settings.https else 'http'}://rocket.example.com$request_uri;" in site
    conf_path = lay_out(tree, tmp_path)
    check = subprocess.run(["nginx", "-t", "-q", "-c", str(conf_path), "-p", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
