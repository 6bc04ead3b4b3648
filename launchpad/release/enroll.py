"""Fetches a new droplet's own public key, once its agent has made one, and checks its MAC.

Run by the DigitalOcean release delivery (components/digitalocean/release_store.py) where
`pulumi up` runs, right after the droplet is created:

    LAUNCHPAD_ENROLL=<hex> python -m launchpad.release.enroll http://203.0.113.7 --host example.com

Polls `GET /.well-known/launchpad/host-key` on the droplet's own address (Nginx serves the
agent's `/var/lib/launchpad/host-key.json`) until it answers and the HMAC over the key,
keyed with the stack's enrollment value, checks out; prints the key (base64) on stdout.
The enrollment value comes in the environment, never on the command line.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import TypeVar

from launchpad.release.sealed import SealError, verify_host_key

PATH = "/.well-known/launchpad/host-key"
ENROLL_ENV = "LAUNCHPAD_ENROLL"
T = TypeVar("T")


def fetch(base_url: str, host: str | None, timeout: float = 10.0) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("GET", PATH, headers={"Host": host or parts.netloc, "User-Agent": "launchpad-enroll"})
        response = conn.getresponse()
        return response.status, response.read(8192)
    finally:
        conn.close()


def poll(base_url: str, host: str | None, check: Callable[[bytes], T], timeout: float, interval: float = 5.0, *,
         what: str = "host key", retry_on: tuple[type[Exception], ...] = (),
         refuse: tuple[type[Exception], ...] = ()) -> T:
    """`check(body)` of the first 200 answer it accepts. An answer it rejects with `retry_on` (but not
    `refuse`: a wrong MAC is never retried) is waited past, like a droplet that does not answer yet."""
    deadline = time.monotonic() + timeout
    seen = ""
    while True:
        try:
            status, body = fetch(base_url, host)
            if status == 200:
                try:
                    return check(body)
                except retry_on as err:
                    if isinstance(err, refuse):
                        raise
                    seen = str(err)
            else:
                seen = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            seen = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no {what} at {base_url}{PATH} within {timeout:g} s; last seen: {seen}")
        time.sleep(interval)


def wait_for_key(base_url: str, host: str | None, enroll_hex: str, timeout: float, interval: float = 5.0) -> bytes:
    return poll(base_url, host, lambda body: verify_host_key(body, enroll_hex), timeout, interval)


def command(argv: Sequence[str] | None, *, prog: str, doc: str, label: str,
            wait: Callable[[str, str | None, str, float], str], errors: tuple[type[Exception], ...]) -> int:
    """The command line both announcement readers share (this module and launchpad.ops.host_key):
    prints `wait(url, host, enrollment value, timeout)`, or `label: why` on stderr and exits 1."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("url", help="the droplet's own address, e.g. http://203.0.113.7")
    parser.add_argument("--host", help="Host header (the site's domain)")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    enroll = os.environ.get(ENROLL_ENV, "")
    if not enroll:
        parser.error(f"{ENROLL_ENV} is not set")
    caught: tuple[type[Exception], ...] = (TimeoutError, *errors)
    try:
        out = wait(args.url, args.host, enroll, args.timeout)
    except caught as err:
        print(f"{label}: {err}", file=sys.stderr)
        return 1
    print(out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return command(argv, prog="python -m launchpad.release.enroll", doc=__doc__ or "", label="enroll",
                   wait=lambda *a: base64.b64encode(wait_for_key(*a)).decode(), errors=(SealError,))


if __name__ == "__main__":
    sys.exit(main())
