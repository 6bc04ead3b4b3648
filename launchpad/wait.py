"""The one health waiter: until a freshly built host answers its health check, or fail with what it last saw.

Run by the Readiness component (components/readiness.py) from where `pulumi up` runs:

    python -m launchpad.wait http://203.0.113.7/healthz --host example.com --database --timeout 900

It polls the host's own address, never the public name: DNS and the Elastic/reserved
IP still point at the old host until this check passes. Redirects are not followed
for the same reason, and no proxy is used (http.client reads no proxy settings), so a
host-local address works. Exit status 0 when healthy, 1 when the deadline passed.

With TLS on the host, `--sni example.com` checks `https://<address>/...` the way a browser
would once the address moved: SNI and Host = the domain, the certificate verified for that
name (system CAs, or `--cafile`). `--tls auto` (a host that may only get its certificate
by HTTP-01 once the address is there): HTTP health first, then HTTPS required unless the host
has no certificate at all yet (it rejects the TLS handshake for the name) and the domain is not
served over HTTPS today (a first deploy; once users have HTTPS, and HSTS, a host without one may
not take the address).

In-process callers (the local runtime) use `until_healthy`, which raises HealthTimeout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import ssl
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_TIMEOUT = 900.0
DEFAULT_INTERVAL = 5.0
REQUEST_TIMEOUT = 10.0
RELEASE_HEADER = "X-Launchpad-Release"
"""Nginx adds the live release's id to every app answer; a deploy waits for its own id."""


class _SniConnection(http.client.HTTPSConnection):
    """HTTPS to an address with a chosen SNI name, the certificate verified for that name."""

    def __init__(self, address: str, port: int | None, sni: str, context: ssl.SSLContext, timeout: float):
        super().__init__(address, port, timeout=timeout, context=context)
        self._sni = sni

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._sni)  # type: ignore[attr-defined]


NO_CERTIFICATE = "TLSV1_UNRECOGNIZED_NAME"
"""What nginx's catch-all answers a handshake for the domain while the host has no certificate."""


@dataclass(frozen=True)
class Probe:
    """One health request's outcome."""

    healthy: bool
    seen: str
    """What came back, for the failure message: status and body start, or the error."""


def probe(url: str, host: str | None, database: bool, timeout: float = REQUEST_TIMEOUT,
          release: str | None = None, lenient: bool = False, sni: str | None = None, cafile: str | None = None) -> Probe:
    """One GET. Healthy: HTTP 200 (any answer below 500 when `lenient`, for an app without a
    health path, whose "/" may redirect or 404 and still prove it serves), with `database` the
    JSON `"database": "ok"`, with `release` the X-Launchpad-Release header naming that id."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    conn: http.client.HTTPConnection
    if sni:
        if parts.scheme != "https":
            raise ValueError(f"{url!r}: an SNI name needs an https URL")
        conn = _SniConnection(parts.hostname, parts.port, sni, ssl.create_default_context(cafile=cafile), timeout)
    else:
        conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conn_type(parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    try:
        conn.request("GET", path, headers={"Host": host or parts.netloc, "User-Agent": "launchpad-wait",
                                           "Accept": "application/json"})
        response = conn.getresponse()
        body = response.read(4096).decode(errors="replace")
    except http.client.RemoteDisconnected:
        # nginx's catch-all server answers 444: it closes the connection for unknown names.
        return Probe(False, "the connection closed without an answer (nginx drops requests for names it does not serve)")
    except (OSError, http.client.HTTPException) as exc:
        return Probe(False, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    seen = f"HTTP {response.status} {body.strip()[:300]!r}"
    if not (response.status < 500 if lenient else response.status == 200):
        return Probe(False, seen)
    if release is not None:
        live = response.getheader(RELEASE_HEADER)
        if live != release:
            return Probe(False, f"{seen} (serves release {live or 'none'}; waiting for {release})")
    if database:
        try:
            answer = json.loads(body)
        except ValueError:
            return Probe(False, f"{seen} (not JSON; expected {{\"database\": \"ok\"}})")
        if not isinstance(answer, dict) or answer.get("database") != "ok":
            return Probe(False, f"{seen} (expected \"database\": \"ok\")")
    return Probe(True, seen)


def wait(url: str, host: str | None = None, database: bool = False, timeout: float = DEFAULT_TIMEOUT,
         interval: float = DEFAULT_INTERVAL, say: Callable[[str], None] = lambda _: None,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
         release: str | None = None, lenient: bool = False, sni: str | None = None, cafile: str | None = None) -> Probe:
    """Polls `probe` until healthy or `timeout` seconds have passed; returns the last probe."""
    deadline = clock() + timeout
    last_seen = ""
    while True:
        result = probe(url, host, database, timeout=min(REQUEST_TIMEOUT, max(1.0, deadline - clock())),
                       release=release, lenient=lenient, sni=sni, cafile=cafile)
        if result.healthy or clock() >= deadline:
            return result
        if result.seen != last_seen:
            say(f"not ready yet: {result.seen}")
            last_seen = result.seen
        sleep(max(0.0, min(interval, deadline - clock())))


class HealthTimeout(TimeoutError):
    """The host did not become healthy in time; the message says what was last seen."""

    def __init__(self, message: str, last: Probe):
        super().__init__(message)
        self.last = last


def until_healthy(url: str, host: str | None = None, database: bool = False, timeout: float = DEFAULT_TIMEOUT,
                  interval: float = DEFAULT_INTERVAL, say: Callable[[str], None] = lambda _: None,
                  logs: str | None = None, clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep, release: str | None = None, lenient: bool = False,
                  sni: str | None = None, cafile: str | None = None) -> float:
    """`wait`, for in-process callers: returns the seconds it took, or raises HealthTimeout
    carrying the failure message (and `logs`, how to look at the host)."""
    started = clock()
    last = wait(url, host, database, timeout, interval, say=say, clock=clock, sleep=sleep, release=release, lenient=lenient,
                sni=sni, cafile=cafile)
    if not last.healthy:
        raise HealthTimeout(failure_message(url, host, timeout, last, logs), last)
    return clock() - started


def failure_message(url: str, host: str | None, timeout: float, last: Probe, logs: str | None) -> str:
    target = f"GET {url}" + (f" (Host: {host})" if host else "")
    lines = [f"the host did not become healthy within {timeout:g} s: {target}",
             f"last seen: {last.seen}"]
    if logs:
        lines.append(f"to look at the host: {logs}")
    lines.append("The public address was not moved: it still points at the previous host, if any.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launchpad.wait", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="health URL on the host's own address, e.g. http://203.0.113.7/healthz")
    parser.add_argument("--host", help="Host header to send (the site's domain; nginx drops other names)")
    parser.add_argument("--database", action="store_true", help='also require the JSON answer "database": "ok"')
    parser.add_argument("--release", help="also require the X-Launchpad-Release header to name this release id")
    parser.add_argument("--lenient", action="store_true", help="any answer below 500 counts (an app without a health path)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds before giving up (default %(default)s)")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between tries (default %(default)s)")
    parser.add_argument("--logs", help="how to look at the host's logs, printed on failure")
    parser.add_argument("--sni", help="HTTPS: the name sent as SNI and verified in the certificate (the domain)")
    parser.add_argument("--cafile", help="HTTPS: trust these CAs instead of the system's (a private ACME server's root)")
    parser.add_argument("--tls", choices=("required", "auto"), default="required",
                        help="with --sni: auto accepts plain HTTP health while the host has no certificate at all yet")
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.interval <= 0:
        parser.error("--timeout and --interval must be positive")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        last = _wait_cli(args, say)
    except ValueError as exc:
        parser.error(str(exc))
    if last.healthy:
        print(f"healthy: {args.url} answered {last.seen}")
        return 0
    say(failure_message(args.url, args.host, args.timeout, last, args.logs))
    return 1


def serves_https(name: str, cafile: str | None = None, timeout: float = REQUEST_TIMEOUT) -> bool:
    """Whether `name` answers a verified TLS handshake where DNS sends users today (the host holding
    the address). False when it does not resolve, nothing listens, or the certificate does not verify."""
    try:
        with socket.create_connection((name, 443), timeout=timeout) as sock:
            with ssl.create_default_context(cafile=cafile).wrap_socket(sock, server_hostname=name):
                return True
    except (OSError, ssl.SSLError):
        return False


def _wait_cli(args: argparse.Namespace, say: Callable[[str], None]) -> Probe:
    if not args.sni or args.tls == "required":
        return wait(args.url, args.host, args.database, args.timeout, args.interval, say=say, release=args.release,
                    lenient=args.lenient, sni=args.sni, cafile=args.cafile)
    # auto: the release healthy over HTTP first (the certificate step runs before it), then HTTPS
    # unless the host holds no certificate at all (first host of a stack without dnsZone: HTTP-01).
    started = time.monotonic()
    plain = urllib.parse.urlsplit(args.url)._replace(scheme="http").geturl()
    last = wait(plain, args.host, args.database, args.timeout, args.interval, say=say, release=args.release, lenient=args.lenient)
    if not last.healthy:
        return last
    tls = probe(args.url, args.host, args.database, release=args.release, lenient=args.lenient, sni=args.sni, cafile=args.cafile)
    if NO_CERTIFICATE in tls.seen:
        if not serves_https(args.sni, args.cafile):
            say(f"no certificate on the host yet and none served at {args.sni} today (first host: HTTP-01 once the "
                f"address is here): {tls.seen}")
            return last
        # Users reach the domain over HTTPS now (HSTS forbids falling back): the new host must too.
        say(f"https://{args.sni}/ is served today, so the new host must serve HTTPS before it takes the address")
    return wait(args.url, args.host, args.database, max(1.0, args.timeout - (time.monotonic() - started)), args.interval,
                say=say, release=args.release, lenient=args.lenient, sni=args.sni, cafile=args.cafile)


if __name__ == "__main__":
    sys.exit(main())
