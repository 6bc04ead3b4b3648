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
from collections.abc import Sequence

from launchpad.release.sealed import SealError, verify_host_key

PATH = "/.well-known/launchpad/host-key"
ENROLL_ENV = "LAUNCHPAD_ENROLL"


def fetch(base_url: str, host: str | None, timeout: float = 10.0) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("GET", PATH, headers={"Host": host or parts.netloc, "User-Agent": "launchpad-enroll"})
        response = conn.getresponse()
        return response.status, response.read(8192)
    finally:
        conn.close()


def wait_for_key(base_url: str, host: str | None, enroll_hex: str, timeout: float, interval: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    seen = ""
    while True:
        try:
            status, body = fetch(base_url, host)
            if status == 200:
                return verify_host_key(body, enroll_hex)
            seen = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            seen = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no host key at {base_url}{PATH} within {timeout:g} s; last seen: {seen}")
        time.sleep(interval)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launchpad.release.enroll", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the droplet's own address, e.g. http://203.0.113.7")
    parser.add_argument("--host", help="Host header (the site's domain)")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    enroll = os.environ.get(ENROLL_ENV, "")
    if not enroll:
        parser.error(f"{ENROLL_ENV} is not set")
    try:
        key = wait_for_key(args.url, args.host, enroll, args.timeout)
    except (TimeoutError, SealError) as err:
        print(f"enroll: {err}", file=sys.stderr)
        return 1
    print(base64.b64encode(key).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
