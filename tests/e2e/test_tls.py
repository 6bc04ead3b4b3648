"""HTTPS end to end on the local target, with a real ACME server (Pebble) on the host.

The stack's certbot talks to Pebble on the machine's gateway address; Pebble
resolves rocket.test to the machine and fetches the http-01 challenge from its
nginx, so a certificate exists only if the whole flow works: the HTTP site
serving challenges, launchpad-certificate and its retry timer, the switch to
the .tls site, and certbot's renewal. Every check connects to the machine's
address with SNI and Host set to the domain, and trusts only Pebble's root.
"""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest

from facts import fact

from launchpad.local import machine, net
from launchpad.local import stack as local_stack
from launchpad.settings import Settings, validate

from . import pebble as pebble_server
from .update import changed_app, deploy, with_app
from machine_leftovers import leftovers

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("pebble") is None or shutil.which("unshare") is None or shutil.which("openssl") is None,
                       reason="needs Debian's pebble (ACME test server), unshare and openssl: apt-get install pebble"),
]

STACK = "tls"
WEB = local_stack.web_name(STACK)
DOMAIN = "rocket.test"
WWW = f"www.{DOMAIN}"
LIVE = f"/etc/letsencrypt/live/{DOMAIN}"
"""certbot's own copy (its lineage)."""
SERVED = f"/etc/launchpad/tls/{DOMAIN}"
"""What nginx serves: the stored certificate or certbot's, installed by launchpad-certificate."""
ENDPOINT_CA_IN_MACHINE = "/usr/local/share/ca-certificates/launchpad-test-acme.crt"
ISSUE_DEADLINE_S = 240.0  # the retry timer fires every 60 s after a failed run
CHALLENGE_LINE = re.compile(r"Attempting to validate w/ HTTP: (http://\S+/\.well-known/acme-challenge/\S+)")


@dataclass
class TlsStack:
    settings: Settings
    address: str
    host_address: str
    pebble: pebble_server.Pebble
    workdir: Path


@dataclass
class Issued:
    root: str
    """PEM of Pebble's issuing root, from its management API."""
    root_file: Path
    seconds: float
    """From trusting Pebble's endpoint in the machine to the HTTPS site being served."""


def tls_config(host_address: str) -> dict[str, Any]:
    return {"launchpad:provider": "local", "launchpad:domain": DOMAIN, "launchpad:email": f"ops@{DOMAIN}",
            "launchpad:acmeServer": f"https://{host_address}:{pebble_server.ACME_PORT}/dir"}


def planned_subnet(name: str) -> IPv4Network:
    """The subnet machine.up will pick for `name` now: certbot's --server (the
    gateway address) goes into user-data, so it is needed before the boot."""
    taken = net.host_networks() + [IPv4Network(m.subnet) for m in machine.list_machines()]
    return net.choose_subnet(name, taken)


def http_get(address: str, host: str, path: str = "/") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(address, 80, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def tls_context(root_file: Path | None, minimum: ssl.TLSVersion | None = None,
                maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(root_file)) if root_file else ssl.create_default_context()
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def handshake(address: str, sni: str | None, ctx: ssl.SSLContext) -> tuple[str | None, dict[str, Any], str | None]:
    """TLS to address:443 with the given SNI; (protocol, peer certificate, ALPN)."""
    with socket.create_connection((address, 443), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=sni) as tls:
            return tls.version(), tls.getpeercert() or {}, tls.selected_alpn_protocol()


def https_get(address: str, host: str, path: str, ctx: ssl.SSLContext) -> tuple[int, dict[str, str], bytes]:
    """GET over TLS to `address`, as a client that resolved `host` there (curl --resolve)."""
    with socket.create_connection((address, 443), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            resp = http.client.HTTPResponse(tls)
            resp.begin()
            try:
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
            finally:
                resp.close()


def names(cert: dict[str, Any], field: str) -> dict[str, str]:
    return {k: v for rdn in cert.get(field, ()) for k, v in rdn}


def challenges_seen(pebble: pebble_server.Pebble) -> list[str]:
    return CHALLENGE_LINE.findall(pebble.log())


def served_serial(address: str, root_file: Path) -> str:
    return str(handshake(address, DOMAIN, tls_context(root_file))[1]["serialNumber"])


def machine_diagnostics() -> str:
    parts = []
    for argv in (["systemctl", "list-timers", "--all", "--no-pager"],
                 ["journalctl", "--no-pager", "-n", "60", "-u", "launchpad-certificate.service", "-u", "launchpad-certificate.timer"],
                 ["readlink", "/etc/nginx/sites-enabled/rocket"]):
        proc = machine.run(WEB, argv, check=False, timeout=30)
        parts.append(f"$ {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsStack]:
    """The `tls` stack (domain, email, acmeServer = Pebble on the gateway) and
    Pebble itself, both torn down afterwards, leaving nothing behind."""
    local_stack.down(STACK, progress=print)  # a previous run's machine would shift the planned address
    subnet = planned_subnet(WEB)
    host_address, address = str(net.host_address(subnet)), str(net.machine_address(subnet))
    settings = validate(tls_config(host_address), STACK)
    assert settings.tls
    workdir = tmp_path_factory.mktemp("pebble")
    state: machine.MachineState | None = None
    pebble: pebble_server.Pebble | None = None
    try:
        started = time.monotonic()
        # Pebble is not up yet: the first certbot run (cloud-init's deploy) fails and the timer takes over.
        local_stack.up(settings, progress=print)
        fact(f"stack up (HTTP healthy) in {time.monotonic() - started:.1f} s")
        state = machine.status(WEB)
        assert state is not None
        assert (state.host_address, state.address) == (host_address, address), \
            f"the machine got {state.subnet}, not the planned {subnet}: certbot's --server points elsewhere"
        # Pebble listens on the gateway, which exists only once the machine's link is up.
        pebble = pebble_server.start(workdir, host_address, {DOMAIN: address, WWW: address})
        fact(f"pebble pid {pebble.pid} at {pebble.directory}, log {pebble.log_path}")
        yield TlsStack(settings, address, host_address, pebble, workdir)
    finally:
        if pebble is not None:
            pebble.stop()
        local_stack.down(STACK, progress=print)
        assert state is not None and leftovers(state) == []


@pytest.fixture(scope="module")
def issued(tls_stack: TlsStack) -> Issued:
    """Trust Pebble's endpoint in the machine, then let launchpad-certificate.timer
    (not a manual start) obtain the certificate and switch nginx to HTTPS."""
    web = WEB
    machine.run(web, ["sh", "-c", f"cat > {ENDPOINT_CA_IN_MACHINE} && update-ca-certificates"],
                input=tls_stack.pebble.endpoint_ca.read_text())
    started = time.monotonic()
    root = tls_stack.pebble.issuing_root()
    root_file = tls_stack.workdir / "pebble-root.pem"
    root_file.write_text(root)
    ctx = tls_context(root_file)
    last = ""
    while time.monotonic() - started < ISSUE_DEADLINE_S:
        try:
            status, _, body = https_get(tls_stack.address, DOMAIN, "/", ctx)
            if (status, body) == (200, b"Hello World!"):
                seconds = time.monotonic() - started
                fact(f"certificate issued and HTTPS served {seconds:.1f} s after the machine trusted Pebble (by the timer)")
                return Issued(root, root_file, seconds)
            last = f"HTTP {status}"
        except (OSError, ssl.SSLError) as exc:
            last = str(exc)
        time.sleep(2)
    pytest.fail(f"no HTTPS on {DOMAIN} within {ISSUE_DEADLINE_S:.0f} s (last: {last})\n{machine_diagnostics()}\n"
                f"pebble log tail:\n{tls_stack.pebble.log()[-3000:]}")


# Before the certificate: HTTP serves challenges and health, everything else goes to HTTPS on the apex.

def test_before_certificate_http_redirects_to_https_apex_in_one_hop(tls_stack: TlsStack) -> None:
    for folder in (LIVE, SERVED):
        assert machine.run(WEB, ["test", "-e", f"{folder}/fullchain.pem"], check=False).returncode != 0, "certificate exists already"
    status, headers, _ = http_get(tls_stack.address, DOMAIN, "/")
    assert (status, headers.get("location")) == (301, f"https://{DOMAIN}/")
    status, headers, _ = http_get(tls_stack.address, WWW, "/x")
    assert (status, headers.get("location")) == (301, f"https://{DOMAIN}/x")


def test_before_certificate_health_and_challenges_stay_on_http(tls_stack: TlsStack) -> None:
    status, _, body = http_get(tls_stack.address, DOMAIN, "/healthz")
    assert status == 200 and b"ok" in body
    # The challenge path is answered from the webroot, not redirected (a 404 for an unknown token).
    status, headers, _ = http_get(tls_stack.address, DOMAIN, "/.well-known/acme-challenge/no-such-token")
    assert status == 404 and "location" not in headers


def test_before_certificate_no_https_site_answers(tls_stack: TlsStack) -> None:
    # Only the catch-all listens on 443 and it refuses every handshake.
    ctx = tls_context(None)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with pytest.raises(ssl.SSLError):
        handshake(tls_stack.address, DOMAIN, ctx)


# After: the timer got the certificate from Pebble and nginx serves the .tls site.

def test_https_serves_the_app_with_a_pebble_certificate(tls_stack: TlsStack, issued: Issued) -> None:
    ctx = tls_context(issued.root_file)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    protocol, cert, alpn = handshake(tls_stack.address, DOMAIN, ctx)  # verified: chain to Pebble's root, name rocket.test
    issuer = names(cert, "issuer")
    sans = sorted(v for k, v in cert.get("subjectAltName", ()) if k == "DNS")
    fact(f"issuer: {issuer.get('commonName')}; SANs: {sans}; {protocol}; ALPN {alpn}; "
          f"valid {cert.get('notBefore')} .. {cert.get('notAfter')}")
    assert issuer.get("commonName", "").startswith("Pebble Intermediate CA")
    assert sans == [DOMAIN, WWW]
    assert alpn == "h2"
    status, headers, body = https_get(tls_stack.address, DOMAIN, "/", tls_context(issued.root_file))
    assert (status, body) == (200, b"Hello World!")
    assert headers.get("strict-transport-security", "").startswith("max-age=")
    fact(f"Strict-Transport-Security: {headers['strict-transport-security']}")


def test_https_www_redirects_to_the_apex_in_one_hop(tls_stack: TlsStack, issued: Issued) -> None:
    ctx = tls_context(issued.root_file)
    status, headers, _ = https_get(tls_stack.address, WWW, "/x", ctx)  # the certificate also names www
    assert (status, headers.get("location")) == (301, f"https://{DOMAIN}/x")
    assert "strict-transport-security" in headers
    status, headers, _ = https_get(tls_stack.address, DOMAIN, "/", ctx)
    assert status == 200 and "location" not in headers


def test_http_still_redirects_once_https_is_on(tls_stack: TlsStack, issued: Issued) -> None:
    status, headers, _ = http_get(tls_stack.address, DOMAIN, "/a?b=1")
    assert (status, headers.get("location")) == (301, f"https://{DOMAIN}/a?b=1")
    assert http_get(tls_stack.address, DOMAIN, "/healthz")[0] == 200


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_accepted(tls_stack: TlsStack, issued: Issued, version: ssl.TLSVersion) -> None:
    protocol, _, _ = handshake(tls_stack.address, DOMAIN, tls_context(issued.root_file, version, version))
    fact(f"{version.name}: negotiated {protocol}")
    assert protocol == {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name]


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused_by_the_server(tls_stack: TlsStack, issued: Issued) -> None:
    ctx = tls_context(issued.root_file, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
    # OpenSSL 3 forbids TLS 1.1 on the client too at the default security level; lower it so
    # a TLS 1.1 hello really goes out and the refusal is the server's.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as refused:
        handshake(tls_stack.address, DOMAIN, ctx)
    fact(f"TLS 1.1: {refused.value.reason} ({refused.value})")
    assert refused.value.reason in {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION"}


@pytest.mark.parametrize("sni", ["evil.example", None])
def test_unknown_or_missing_sni_is_rejected(tls_stack: TlsStack, issued: Issued, sni: str | None) -> None:
    ctx = tls_context(None)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # any certificate would do: none must come
    with pytest.raises(ssl.SSLError) as rejected:
        handshake(tls_stack.address, sni, ctx)
    fact(f"SNI {sni}: {rejected.value.reason}")
    assert rejected.value.reason == "TLSV1_UNRECOGNIZED_NAME"


def test_pebble_fetched_the_http01_challenges_from_the_machine(tls_stack: TlsStack, issued: Issued) -> None:
    fetched = challenges_seen(tls_stack.pebble)
    fact(f"pebble validated {len(fetched)} http-01 challenge(s): {fetched}")
    hosts = {re.sub(r"^http://([^/:]+).*", r"\1", url) for url in fetched}
    assert hosts == {DOMAIN, WWW}
    # ...and the machine's nginx answered them, to Pebble on the gateway.
    access = machine.run(WEB, ["cat", "/var/log/nginx/access.log"]).stdout
    answered = [line for line in access.splitlines()
                if line.startswith(tls_stack.host_address + " ") and "/.well-known/acme-challenge/" in line and '" 200 ' in line]
    assert len(answered) >= 2


def test_certificate_timer_is_done_and_certbot_renewal_is_armed(tls_stack: TlsStack, issued: Issued) -> None:
    run = lambda *argv: machine.run(WEB, list(argv), check=False).stdout.strip()  # noqa: E731
    assert run("readlink", "/etc/nginx/sites-enabled/rocket") == "/etc/nginx/sites-available/rocket.tls"
    assert run("systemctl", "is-enabled", "launchpad-certificate.timer") == "disabled"
    assert run("systemctl", "is-enabled", "certbot.timer") == "enabled"
    assert run("systemctl", "is-active", "certbot.timer") == "active"
    # certbot's renewals go through the deploy hook: installed for nginx, stored for the stack, served.
    assert machine.run(WEB, ["test", "-x", "/etc/letsencrypt/renewal-hooks/deploy/launchpad"], check=False).returncode == 0
    # The daily refresh/renewal from the stack's store, and the HTTP-01 certificate stored there (root-only).
    assert run("systemctl", "is-enabled", "launchpad-certificate-renew.timer") == "enabled"
    stored = local_stack.STACKS_DIR / STACK / "certificates" / f"{DOMAIN}.json"
    assert stored.is_file() and stored.stat().st_mode & 0o777 == 0o600
    assert run("readlink", "-f", f"{SERVED}/fullchain.pem") == f"{SERVED}/fullchain.pem"  # a copy, not certbot's symlink
    renewal = run("cat", f"/etc/letsencrypt/renewal/{DOMAIN}.conf")
    assert f"server = {tls_stack.settings.acme_server}" in renewal


def test_certbot_renew_dry_run_succeeds(tls_stack: TlsStack, issued: Issued) -> None:
    before = len(challenges_seen(tls_stack.pebble))
    started = time.monotonic()
    out = machine.run(WEB, ["certbot", "renew", "--dry-run", "--no-random-sleep-on-renew",
                            "--server", str(tls_stack.settings.acme_server)], check=False, timeout=180)
    fact(f"certbot renew --dry-run: exit {out.returncode} in {time.monotonic() - started:.1f} s")
    assert out.returncode == 0, out.stdout + out.stderr
    assert len(challenges_seen(tls_stack.pebble)) > before  # validated again, for real


def test_renewal_deploy_hook_reloads_nginx_with_the_new_certificate(tls_stack: TlsStack, issued: Issued) -> None:
    old = served_serial(tls_stack.address, issued.root_file)
    out = machine.run(WEB, ["certbot", "renew", "--force-renewal", "--no-random-sleep-on-renew"], check=False, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    deadline = time.monotonic() + 20
    new = old
    while new == old and time.monotonic() < deadline:
        time.sleep(0.5)
        new = served_serial(tls_stack.address, issued.root_file)
    fact(f"forced renewal: served serial {old} -> {new}")
    assert new != old


def test_a_release_keeps_https_up_and_the_retry_timer_off(tls_stack: TlsStack, issued: Issued, tmp_path: Path) -> None:
    """An app update (`launchpad deploy`: a new release, blue/green) on a host that has its
    certificate: HTTPS answers throughout, the new code is served over it, and the certificate
    retry timer stays off. Then the bootstrap run again (what a re-run of cloud-init's last step
    does) changes nothing: still the .tls site, still no timer."""
    ctx = tls_context(issued.root_file)
    stop = threading.Event()
    refused: list[str] = []
    statuses: list[int] = []

    def probe() -> None:
        while not stop.is_set():
            try:
                statuses.append(https_get(tls_stack.address, DOMAIN, "/healthz", ctx)[0])
            except (OSError, ssl.SSLError) as exc:
                refused.append(f"{time.monotonic():.2f} {exc}")
            time.sleep(0.1)  # 10 r/s: under the stack's rate limit

    marker = f"tls{int(time.time())}"
    settings = with_app(tls_config(tls_stack.host_address), STACK, changed_app(tmp_path / "app", marker))
    thread = threading.Thread(target=probe)
    thread.start()
    try:
        started = time.monotonic()
        release = deploy(settings)
        fact(f"release {release} on the TLS stack live {time.monotonic() - started:.1f} s after `launchpad deploy`")
        time.sleep(2)
    finally:
        stop.set()
        thread.join()
    fact(f"release: {len(statuses)} HTTPS probes answered ({sorted(set(statuses))}), {len(refused)} failed at TLS/TCP")
    assert refused == [] and set(statuses) == {200}
    status, headers, body = https_get(tls_stack.address, DOMAIN, "/", ctx)
    assert (status, body) == (200, f"Hello World! {marker}".encode()) and headers["x-launchpad-release"] == release
    assert headers.get("strict-transport-security", "").startswith("max-age=")
    out = machine.run(WEB, ["/usr/local/sbin/launchpad-bootstrap"], check=False, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert https_get(tls_stack.address, DOMAIN, "/", ctx)[2] == f"Hello World! {marker}".encode()
    assert machine.run(WEB, ["readlink", "/etc/nginx/sites-enabled/rocket"]).stdout.strip() == "/etc/nginx/sites-available/rocket.tls"
    # The retry timer is for a host still waiting for its certificate, not re-armed by a release.
    for verb, state in (("is-enabled", "disabled"), ("is-active", "inactive")):
        assert machine.run(WEB, ["systemctl", verb, "launchpad-certificate.timer"], check=False).stdout.strip() == state
