"""Reads a droplet's enrollment from the stack's enrollment bucket and checks it: no way into the droplet.

The droplet's agent writes `<stack>/enroll/<droplet id>.json` into the private bucket
`<release bucket>-enroll` (files/agent/launchpad_agent/enroll.py) with the bucket-scoped key in its
user-data; `pulumi up` polls that object with the same key (components/digitalocean/enroll_bucket.py)
right after the droplet is created, and accepts it only when its droplet id is the one it created and
its MAC, keyed with the stack's enrollment value, covers that id, the public key and the SSH host key:

    mac = HMAC-SHA256(enroll, b"launchpad-enroll-v1:" + canonical JSON of
                      {"droplet_id", "public_key", "ssh_host_key" ("" when none)})

    LAUNCHPAD_ENROLL=<hex> LAUNCHPAD_ENROLL_ACCESS_KEY_ID=<key> LAUNCHPAD_ENROLL_SECRET_ACCESS_KEY=<secret> \\
        python -m launchpad.release.enroll s3://shop-releases-enroll/shop/enroll 412345678 \\
        --endpoint https://nyc3.digitaloceanspaces.com --region nyc3 [--timeout 900]

prints the droplet's X25519 public key (base64); launchpad.ops.host_key prints its SSH host key
from the same document. Absent (the droplet still boots) or unreadable (a new key Spaces does not
know yet): polled every few seconds until the deadline, then an error naming the object and what it
last saw. A wrong MAC or another droplet's id: refused at once, never retried (the droplet writes its
document once; anything else there was put there by someone else). Secrets come in the environment,
never on the command line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from launchpad.release.s3 import Creds, S3Store, StoreError

ENROLL_ENV = "LAUNCHPAD_ENROLL"
KEY_ENV = "LAUNCHPAD_ENROLL_ACCESS_KEY_ID"
SECRET_ENV = "LAUNCHPAD_ENROLL_SECRET_ACCESS_KEY"
LABEL = b"launchpad-enroll-v1:"


class EnrollmentError(ValueError):
    """An enrollment document that is not complete (yet): waited past."""


class EnrollmentRefused(EnrollmentError):
    """A wrong MAC or another droplet's document: never retried."""


@dataclass(frozen=True)
class Enrollment:
    droplet_id: str
    public_raw: bytes
    ssh_host_key: str | None

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()


def enrollment_mac(enroll_hex: str, droplet_id: str, public_b64: str, ssh_host_key: str) -> str:
    fields = {"droplet_id": droplet_id, "public_key": public_b64, "ssh_host_key": ssh_host_key}
    message = LABEL + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(bytes.fromhex(enroll_hex), message, hashlib.sha256).hexdigest()


def verify(document: bytes | str, enroll_hex: str, droplet_id: str, *, need_ssh: bool = False) -> Enrollment:
    """The enrollment of droplet `droplet_id`, once its id and MAC check out."""
    try:
        data = json.loads(document)
        seen_id, public_b64, mac = str(data["droplet_id"]), str(data["public_key"]), str(data["mac"])
        ssh = data.get("ssh_host_key")
        public_raw = base64.b64decode(public_b64, validate=True)
    except (ValueError, KeyError, TypeError) as err:
        raise EnrollmentError(f"not an enrollment document {{droplet_id, public_key, key_id, mac}}: {err}") from None
    if seen_id != str(droplet_id):
        raise EnrollmentRefused(f"the document names droplet {seen_id!r}, not {droplet_id!r}: another droplet's, "
                                "copied here")
    if len(public_raw) != 32:
        raise EnrollmentRefused(f"public_key is {len(public_raw)} bytes; X25519 keys are 32")
    if not hmac.compare_digest(mac, enrollment_mac(enroll_hex, seen_id, public_b64, str(ssh or ""))):
        raise EnrollmentRefused("the MAC does not match this stack's enrollment value: not written by our droplet")
    if ssh is not None and (len(str(ssh).split()) != 2 or not str(ssh).startswith("ssh-ed25519 ")):
        raise EnrollmentRefused(f"ssh_host_key {str(ssh)[:40]!r} is not an ssh-ed25519 public key line")
    if need_ssh and not ssh:
        raise EnrollmentError("no ssh_host_key in the document yet (sshd had made none when the agent wrote it)")
    return Enrollment(seen_id, public_raw, str(ssh) if ssh else None)


def poll(get: Callable[[], bytes | None], check: Callable[[bytes], Enrollment], timeout: float, interval: float,
         where: str, *, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> Enrollment:
    """`check(get())` once it accepts; absent, unreadable or incomplete: again every `interval`
    until `timeout`, then TimeoutError naming `where` and what it saw last."""
    deadline = clock() + timeout
    seen = "nothing"
    while True:
        try:
            body = get()
            if body is not None:
                return check(body)
            seen = "absent: the droplet has not enrolled yet"
        except EnrollmentRefused as err:
            raise EnrollmentRefused(f"{where}: {err}") from None
        except (EnrollmentError, StoreError, OSError) as err:
            seen = f"{type(err).__name__}: {err}"
        if clock() >= deadline:
            raise TimeoutError(f"no enrollment at {where} within {timeout:g} s; last seen: {seen}. "
                               "Does the droplet boot (its console, `journalctl -u launchpad-agent`)?")
        sleep(interval)


def wait_for_enrollment(store: S3Store, droplet_id: str, enroll_hex: str, timeout: float, interval: float = 5.0,
                        *, need_ssh: bool = False) -> Enrollment:
    key = f"{droplet_id}.json"
    return poll(lambda: store.get(key), lambda body: verify(body, enroll_hex, droplet_id, need_ssh=need_ssh),
                timeout, interval, f"{store.url}/{key}")


def command(argv: Sequence[str] | None, *, prog: str, doc: str, label: str, need_ssh: bool,
            out: Callable[[Enrollment], str], environ: Mapping[str, str] | None = None,
            store_factory: Callable[..., S3Store] = S3Store) -> int:
    """The command line both readers share (this module and launchpad.ops.host_key): prints
    `out(enrollment)`, or `label: why` on stderr and exits 1."""
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("store", help="s3://<release bucket>-enroll/<stack>/enroll")
    parser.add_argument("droplet", help="the droplet's id")
    parser.add_argument("--endpoint", required=True, help="https://<region>.digitaloceanspaces.com")
    parser.add_argument("--region", required=True)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args(argv)
    missing = [name for name in (ENROLL_ENV, KEY_ENV, SECRET_ENV) if not env.get(name)]
    if missing:
        parser.error(f"{', '.join(missing)} not set: the enrollment value and the enrollment bucket's key")
    store = store_factory(args.store, args.region, Creds(env[KEY_ENV], env[SECRET_ENV]), args.endpoint)
    try:
        found = wait_for_enrollment(store, args.droplet, env[ENROLL_ENV], args.timeout, args.interval, need_ssh=need_ssh)
    except (TimeoutError, EnrollmentError) as err:
        print(f"{label}: {err}", file=sys.stderr)
        return 1
    print(out(found))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return command(argv, prog="python -m launchpad.release.enroll", doc=__doc__ or "", label="enroll",
                   need_ssh=False, out=lambda found: found.public_b64)


if __name__ == "__main__":
    sys.exit(main())
