"""`launchpad-agent certificate sync`: the host's TLS certificate, shared through the stack's store.

Why: every host of a stack serves the same names, and a replacement host must hold a valid
certificate before it takes the address (HSTS forbids a fallback to HTTP), without asking
Let's Encrypt again (5 duplicate certificates per week). So the certificate and its key live in
a store the stack owns, and a host's certificate step (files/certificate.sh.j2) runs this first:

- candidates: the stored certificate, the one installed for nginx, and certbot's own lineage
  on this host (what certbot just obtained or renewed);
- the best one (valid for every name, matching key, latest expiry) is installed for nginx under
  `live` (root 0600 key) and, when it is newer than the stored one, pushed to the store;
- exit 0 when that one has more than `min_days` left; exit 3 when none does, so the caller
  runs certbot (DNS-01 when the stack has a zone) and calls this again to install and push.

Stores (`/etc/launchpad/certificate.json`, no secrets; the document is JSON
{"fullchain": PEM, "privkey": PEM, "not_after": epoch, "names": [...]}):
- file: a root-only folder of the stack on the local target, bind-mounted read-write;
- aws-secretsmanager: one secret the stack owns (encrypted with KMS); the host's role may
  Get/Put that secret only;
- s3: an object in a private bucket (Spaces), written with a key whose one grant is that bucket:
  from `credentials_file`, or (DigitalOcean) `sealed`: sealed to this host's own key by `pulumi up`
  (components/digitalocean/certificate_delivery.py) and fetched with a plain GET, like the
  release store's read key (sealed.py).
Standard library and the openssl command only, like the rest of the agent.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

from launchpad_agent import aws
from launchpad_agent.rules import Failure

CONFIG = Path("/etc/launchpad/certificate.json")
NEED_NEW = 3


def _openssl(args: list[str], data: str) -> str:
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, text=True)
    if done.returncode != 0:
        raise ValueError(done.stderr.strip() or f"openssl {args[0]} failed")
    return done.stdout


def inspect(fullchain: str, privkey: str) -> tuple[float, set[str]]:
    """(notAfter as epoch seconds, DNS names) of the leaf; ValueError if the key does not match it."""
    out = _openssl(["x509", "-noout", "-enddate", "-ext", "subjectAltName", "-pubkey"], fullchain)
    end = next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("notAfter="))
    names = {part.strip()[4:] for line in out.splitlines() for part in line.split(",") if part.strip().startswith("DNS:")}
    public = out[out.index("-----BEGIN PUBLIC KEY-----"):]
    if _openssl(["pkey", "-pubout"], privkey).strip() != public.strip():
        raise ValueError("the private key does not belong to the certificate")
    # openssl prints e.g. "Feb 23 20:45:01 2027 GMT" (C locale, UTC).
    when = datetime.strptime(" ".join(end.replace("GMT", "").split()), "%b %d %H:%M:%S %Y").replace(tzinfo=timezone.utc)
    return when.timestamp(), names


def _document(fullchain: str, privkey: str) -> dict | None:
    try:
        not_after, names = inspect(fullchain, privkey)
    except (ValueError, StopIteration):
        return None
    return {"fullchain": fullchain, "privkey": privkey, "not_after": not_after, "names": sorted(names)}


def _from_dir(folder: Path) -> dict | None:
    try:
        return _document((folder / "fullchain.pem").read_text(), (folder / "privkey.pem").read_text())
    except OSError:
        return None


def _from_bytes(raw: bytes | None) -> dict | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return _document(str(data["fullchain"]), str(data["privkey"]))
    except (ValueError, KeyError, TypeError):
        return None


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Atomic, never readable by others in between."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """Get/put one certificate document in the stack's store."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.kind = spec.get("kind")
        if self.kind not in ("file", "aws-secretsmanager", "s3"):
            raise Failure("certificate", f"unknown certificate store kind {self.kind!r}")

    def get(self) -> bytes | None:
        if self.kind == "file":
            try:
                return Path(self.spec["path"]).read_bytes()
            except FileNotFoundError:
                return None
        if self.kind == "aws-secretsmanager":
            status, body = self._secretsmanager("GetSecretValue", {"SecretId": self.spec["arn"]})
            if status == 400 and b"ResourceNotFoundException" in body:
                return None  # the secret exists with no value yet: no host has stored one
            if status != 200:
                raise Failure("certificate", f"Secrets Manager GetSecretValue: HTTP {status} {body[:200]!r}")
            return json.loads(body).get("SecretString", "").encode() or None
        return self._s3("GET")

    def put(self, data: bytes) -> None:
        if self.kind == "file":
            _write_private(Path(self.spec["path"]), data)
        elif self.kind == "aws-secretsmanager":
            status, body = self._secretsmanager("PutSecretValue", {"SecretId": self.spec["arn"], "SecretString": data.decode()})
            if status != 200:
                raise Failure("certificate", f"Secrets Manager PutSecretValue: HTTP {status} {body[:200]!r}")
        else:
            self._s3("PUT", data)

    def _secretsmanager(self, action: str, payload: dict) -> tuple[int, bytes]:
        return aws.secretsmanager(action, payload, self.spec["region"])

    def _s3_credentials(self) -> dict[str, str]:
        if not self.spec.get("sealed"):
            return aws.credentials(self.spec["credentials_file"])
        data = self.sealed()
        return {"key": data["access_key_id"], "secret": data["secret_access_key"]}

    def sealed(self) -> dict:
        """What `pulumi up` sealed to this droplet for its certificate: the store's key (and the DNS token)."""
        sealed = self.spec["sealed"]
        from launchpad_agent import sealed as sealing  # noqa: PLC0415 - DigitalOcean only (cryptography)

        try:
            private_raw = base64.b64decode(sealing.HOST_KEY.read_text())
        except OSError:
            raise Failure("certificate", "no host key yet (the release agent makes it at its first run)") from None
        kid = sealing.key_id(sealing.public_of(private_raw))
        url = f"{sealed['credentials'].rstrip('/')}/{kid}.certificates.sealed"
        status, body = sealing.public_get(url)
        if status != 200:
            raise Failure("certificate", f"the certificate store's key is not sealed for this host ({kid}) yet: "
                                         f"{url} answered HTTP {status}; `pulumi up` seals it once it enrolled the host")
        data: dict = json.loads(sealing.open_sealed(private_raw, body, f"{sealed['stack']}/hosts/{kid}.certificates".encode()))
        return data

    def _s3(self, method: str, data: bytes = b"") -> bytes | None:
        bucket, _, key = self.spec["url"].removeprefix("s3://").partition("/")
        region = self.spec.get("region") or "us-east-1"
        host = urllib.parse.urlsplit(self.spec["endpoint"]).netloc
        path = urllib.parse.quote(f"/{bucket}/{key}", safe="/-_.~")
        extra = {"x-amz-acl": "private", "content-type": "application/json"} if method == "PUT" else {}
        status, body = aws.call(method, host, path, "", data if method == "PUT" else b"", extra, self._s3_credentials(),
                                region, "s3")
        if method == "GET" and status in (403, 404):
            return None
        if status != 200:
            raise Failure("certificate", f"{method} s3://{bucket}/{key}: HTTP {status} {body[:200]!r}")
        return body if method == "GET" else None

def sync(cfg: dict, now: float) -> int:
    """Install the best certificate for nginx and share it; NEED_NEW when none is fresh enough."""
    names, live = set(cfg["names"]), Path(cfg["live"])
    store = Store(cfg["store"]) if cfg.get("store") else None
    stored = _from_bytes(store.get()) if store else None
    candidates = [stored, _from_dir(live), _from_dir(Path(cfg["lineage"]))]
    usable = [c for c in candidates if c and names <= set(c["names"]) and c["not_after"] > now]
    if not usable:
        print("launchpad-certificate: no valid certificate for " + ", ".join(sorted(names)) + " in the store or on this host")
        return NEED_NEW
    best = max(usable, key=lambda c: c["not_after"])
    installed = _from_dir(live)
    if installed is None or installed["fullchain"] != best["fullchain"]:
        live.mkdir(parents=True, exist_ok=True, mode=0o755)
        _write_private(live / "privkey.pem", best["privkey"].encode())
        _write_private(live / "fullchain.pem", best["fullchain"].encode(), 0o644)
        print(f"launchpad-certificate: installed the certificate valid until {best['not_after']:.0f} "
              f"({'from the store' if best is stored else 'from this host'})")
    if store is not None and (stored is None or stored["not_after"] < best["not_after"]):
        store.put(json.dumps({k: best[k] for k in ("fullchain", "privkey", "not_after", "names")}).encode())
        print("launchpad-certificate: stored the certificate for the stack's other hosts")
    days = (best["not_after"] - now) / 86400
    if days <= float(cfg.get("min_days", 30)):
        print(f"launchpad-certificate: {days:.1f} days left, at most {cfg.get('min_days', 30)}: renew")
        return NEED_NEW
    return 0


def dns_credentials(cfg: dict, out: Path) -> int:
    """certbot-dns-digitalocean's credentials file from the DNS token sealed to this droplet (root 0600)."""
    token = Store(cfg["store"]).sealed().get("dns_token") if cfg.get("store") and cfg["store"].get("sealed") else None
    if not token:
        raise Failure("certificate", "no DNS token was sealed for this droplet (launchpad:dnsToken)")
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(out, f"dns_digitalocean_token = {token}\n".encode())
    return 0


def main(argv: list[str]) -> int:
    """`sync [--config PATH]` or `dns-credentials OUT [--config PATH]`."""
    import time  # noqa: PLC0415

    path = Path(argv[argv.index("--config") + 1]) if "--config" in argv else CONFIG
    try:
        if argv[:1] == ["dns-credentials"] and len(argv) > 1:
            return dns_credentials(json.loads(path.read_text()), Path(argv[1]))
        return sync(json.loads(path.read_text()), time.time())
    except (Failure, OSError, ValueError, KeyError) as err:
        print(f"launchpad-certificate: {err}", file=sys.stderr)
        return 1
