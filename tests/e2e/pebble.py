"""Pebble (Let's Encrypt's RFC 8555 test server, Debian package `pebble`) as a
subprocess the test owns, for the local target's TLS flow.

- Its ACME endpoint is served with a certificate from a throwaway CA made here
  with openssl (the Debian package ships none); the machine under test trusts
  that CA, the way a host trusts Let's Encrypt's API through its system store.
- It resolves the test names through its own /etc/hosts: it runs in a private
  mount namespace (`unshare --mount`) with a file bind-mounted over /etc/hosts,
  so the host's resolver is never touched. `unshare` without `--fork` and
  `exec` keep one process: the pid we hold is Pebble's.
- The http-01 challenge is really fetched (no PEBBLE_VA_ALWAYS_VALID), on port 80
  of the address the names resolve to.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ACME_PORT = 14000
MANAGEMENT_PORT = 15000
BINARY = "/usr/bin/pebble"
CHALLTESTSRV = "/usr/bin/pebble-challtestsrv"
CHALLTESTSRV_MANAGEMENT_PORT = 8055
CHALLTESTSRV_DNS = "127.0.0.1:8053"
"""Pebble's DNS server in DNS-01 mode: the test server's DNS, on loopback (only Pebble asks it)."""


def make_endpoint_certificate(workdir: Path, address: str) -> tuple[Path, Path, Path]:
    """A CA and, signed by it, the certificate for Pebble's own HTTPS listeners
    on `address` (an IP SAN: certbot connects to the address, not a name).
    Returns (ca_cert, cert, key)."""
    ca_key, ca_cert = workdir / "ca.key", workdir / "ca.crt"
    key, csr, cert, ext = workdir / "pebble.key", workdir / "pebble.csr", workdir / "pebble.crt", workdir / "pebble.ext"

    def openssl(*args: str) -> None:
        proc = subprocess.run(["openssl", *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)} failed: {proc.stderr.strip()}")

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=Launchpad test ACME endpoint CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", str(ca_key), "-out", str(ca_cert))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", f"/CN={address}", "-keyout", str(key), "-out", str(csr))
    ext.write_text(f"subjectAltName=IP:{address}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
            "-days", "2", "-extfile", str(ext), "-out", str(cert))
    return ca_cert, cert, key


@dataclass
class Pebble:
    address: str
    """Where Pebble listens (the machine's host_address)."""
    workdir: Path
    endpoint_ca: Path
    """The CA of Pebble's own HTTPS endpoints (not the CA it issues from)."""
    log_path: Path
    pid: int
    _proc: subprocess.Popen[bytes]
    dns: ChallTestSrv | None = None
    """With DNS-01: the challenge test server Pebble resolves through."""

    @property
    def directory(self) -> str:
        return f"https://{self.address}:{ACME_PORT}/dir"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _get(self, port: int, path: str) -> bytes:
        ctx = ssl.create_default_context(cafile=str(self.endpoint_ca))
        with socket.create_connection((self.address, port), timeout=10) as sock:
            with ctx.wrap_socket(sock, server_hostname=self.address) as tls:
                tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.address}:{port}\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise RuntimeError(f"pebble {path}: HTTP {status.decode()}")
        if b"transfer-encoding: chunked" in head.lower():
            body = _unchunk(body)
        return body

    def issuing_root(self) -> str:
        """PEM of the root Pebble issues from (a new one every start)."""
        return self._get(MANAGEMENT_PORT, "/roots/0").decode()

    def directory_json(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self._get(ACME_PORT, "/dir"))
        return data

    def orders(self) -> int:
        """newOrder requests Pebble has answered (each certbot run that asks for a certificate)."""
        return self.log().count("POST /order-plz")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to our pid (and the challenge test server's), then SIGKILL if it lingers; reaps it."""
        _stop(self._proc, timeout)
        if self.dns is not None:
            self.dns.stop(timeout)


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


@dataclass
class ChallTestSrv:
    """pebble-challtestsrv: a DNS server answering the TXT records its HTTP management API sets
    (/set-txt, /clear-txt), the local stand-in for Route 53 / DigitalOcean DNS."""

    management: str
    """http://<address>:8055: what the machine's certbot hook calls (launchpad:dnsChallengeServer)."""
    log_path: Path
    _proc: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        _stop(self._proc, timeout)


def start_challtestsrv(workdir: Path, address: str, deadline_s: float = 10.0) -> ChallTestSrv:
    """The DNS challenge test server: management API on `address`, DNS on loopback only, no
    HTTP/TLS challenge listeners. Returns once the management API answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "challtestsrv.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [CHALLTESTSRV, "-management", f"{address}:{CHALLTESTSRV_MANAGEMENT_PORT}", "-dns01", CHALLTESTSRV_DNS,
             "-http01", "", "-https01", "", "-tlsalpn01", ""],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
    srv = ChallTestSrv(f"http://{address}:{CHALLTESTSRV_MANAGEMENT_PORT}", log_path, proc)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"pebble-challtestsrv exited {proc.returncode}:\n{srv.log()[-2000:]}")
        try:
            with socket.create_connection((address, CHALLTESTSRV_MANAGEMENT_PORT), timeout=1):
                return srv
        except OSError:
            time.sleep(0.1)
    srv.stop()
    raise RuntimeError(f"pebble-challtestsrv did not listen on {srv.management} within {deadline_s:.0f} s:\n{srv.log()[-2000:]}")


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def start(workdir: Path, address: str, names: dict[str, str], deadline_s: float = 20.0, dns01: bool = False) -> Pebble:
    """Start Pebble on `address` (ACME on 14000, management on 15000), validating
    http-01 on port 80 and tls-alpn-01 on 443 of whatever `names` (name -> IPv4)
    say. Returns once the ACME directory answers over verified TLS. `dns01`: also
    start pebble-challtestsrv (management API on `address`) and resolve through it, so
    DNS-01 challenges are validated against the TXT records the machine sets there."""
    workdir.mkdir(parents=True, exist_ok=True)
    dns = start_challtestsrv(workdir, address) if dns01 else None
    endpoint_ca, cert, key = make_endpoint_certificate(workdir, address)
    config = workdir / "pebble-config.json"
    config.write_text(json.dumps({"pebble": {
        "listenAddress": f"{address}:{ACME_PORT}",
        "managementListenAddress": f"{address}:{MANAGEMENT_PORT}",
        "certificate": str(cert),
        "privateKey": str(key),
        "httpPort": 80,
        "tlsPort": 443,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": False,
    }}, indent=2))
    hosts = workdir / "hosts"
    hosts.write_text("127.0.0.1 localhost\n" + "".join(f"{ip} {name}\n" for name, ip in names.items()))
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    # No random 0-15 s pause before validating, no deliberately rejected nonces (the test
    # times the flow), and no reuse of earlier authorizations: every order is validated.
    env.update(PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
    env.pop("PEBBLE_VA_ALWAYS_VALID", None)
    log_path = workdir / "pebble.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--",
             "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts), BINARY, "-config", str(config),
             *(["-dnsserver", CHALLTESTSRV_DNS] if dns else [])],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=workdir,
        )
    pebble = Pebble(address, workdir, endpoint_ca, log_path, proc.pid, proc, dns)
    end = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"pebble exited {proc.returncode}:\n{pebble.log()[-2000:]}")
        try:
            if "newOrder" in pebble.directory_json():
                return pebble
        except (OSError, RuntimeError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    pebble.stop()
    raise RuntimeError(f"pebble did not answer on {pebble.directory} within {deadline_s:.0f} s (last: {last}):\n{pebble.log()[-2000:]}")
