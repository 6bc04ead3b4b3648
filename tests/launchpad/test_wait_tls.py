"""launchpad/wait.py's HTTPS check with SNI (issue 12): against a TLS server on 127.0.0.1 whose
certificate (made here with openssl) names rocket.test and www.rocket.test, and which, like
nginx's catch-all, rejects a handshake for any other name (unrecognized_name)."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from launchpad import wait

DOMAIN = "rocket.test"


def certificate(tmp: Path) -> tuple[Path, Path]:
    key, crt = tmp / "key.pem", tmp / "crt.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", f"/CN={DOMAIN}", "-addext", f"subjectAltName=DNS:{DOMAIN},DNS:www.{DOMAIN}",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt, key


@pytest.fixture
def tls_host(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """(base URL on 127.0.0.1, the CA file to trust, the SNI names seen)."""
    crt, key = certificate(tmp_path)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"ok"
            self.send_response(200)
            self.send_header("X-Launchpad-Release", "0123456789ab")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)

    def sni(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> int | None:
        seen.append(str(name))
        return None if name in (DOMAIN, f"www.{DOMAIN}") else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    ctx.sni_callback = sni
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", crt, seen
    finally:
        server.shutdown()
        server.server_close()


def test_sni_names_the_domain_and_the_certificate_is_verified_for_it(tls_host) -> None:
    base, ca, seen = tls_host
    result = wait.probe(f"{base}/healthz", DOMAIN, False, release="0123456789ab", sni=DOMAIN, cafile=str(ca))
    assert result.healthy, result.seen
    assert seen == [DOMAIN]


def test_a_certificate_the_client_does_not_trust_is_not_healthy(tls_host) -> None:
    base, _, _ = tls_host
    result = wait.probe(f"{base}/healthz", DOMAIN, False, sni=DOMAIN)  # system CAs: the test CA is not among them
    assert not result.healthy and "CERTIFICATE_VERIFY_FAILED" in result.seen


def test_a_host_without_a_certificate_for_the_name_is_not_healthy(tls_host) -> None:
    base, ca, _ = tls_host
    result = wait.probe(f"{base}/healthz", "other.test", False, sni="other.test", cafile=str(ca))
    assert not result.healthy and wait.NO_CERTIFICATE in result.seen


def test_an_sni_name_needs_an_https_url() -> None:
    with pytest.raises(ValueError, match="needs an https URL"):
        wait.probe("http://127.0.0.1:9/healthz", DOMAIN, False, sni=DOMAIN)


NO_CERT = "SSLError: [SSL: TLSV1_UNRECOGNIZED_NAME] tlsv1 unrecognized name"


@pytest.mark.parametrize("tls_seen, served_today, https_waited", [
    (NO_CERT, False, False),  # first host of the stack: no certificate anywhere yet, HTTP-01 once the address is here
    (NO_CERT, True, True),  # users have HTTPS today (HSTS): a host without a certificate may not take the address
    ("HTTP 200 'ok'", False, True),  # holds one: HTTPS must be right
])
def test_auto_accepts_http_only_for_a_first_host(monkeypatch, tls_seen: str, served_today: bool, https_waited: bool) -> None:
    waited: list[str] = []

    def fake_wait(url: str, *args, **kwargs) -> wait.Probe:
        waited.append(url)
        return wait.Probe(True, "HTTP 200")

    monkeypatch.setattr(wait, "wait", fake_wait)
    monkeypatch.setattr(wait, "probe", lambda *a, **k: wait.Probe(tls_seen.startswith("HTTP"), tls_seen))
    monkeypatch.setattr(wait, "serves_https", lambda name, cafile=None: served_today)
    assert wait.main(["https://203.0.113.9/healthz", "--sni", DOMAIN, "--tls", "auto", "--timeout", "5"]) == 0
    assert waited == ["http://203.0.113.9/healthz", *(["https://203.0.113.9/healthz"] if https_waited else [])]


def test_serves_https_is_a_verified_handshake_for_the_name(tls_host, monkeypatch) -> None:
    base, ca, _ = tls_host
    port = int(base.rsplit(":", 1)[1])
    real = wait.socket.create_connection
    monkeypatch.setattr(wait.socket, "create_connection", lambda addr, timeout: real(("127.0.0.1", port), timeout))
    assert wait.serves_https(DOMAIN, str(ca))
    assert not wait.serves_https(DOMAIN)  # not a CA the system trusts
    assert not wait.serves_https("other.test", str(ca))  # the name is not served
