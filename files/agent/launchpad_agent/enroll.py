"""DigitalOcean: announces this droplet's public key to `pulumi up` through the stack's enrollment bucket.

The deployer must learn the key the droplet made (sealed.py) to seal the store's read key, the secrets
and the database to it, and needs no way into the droplet for that: behind a balancer its firewall
admits the web from the balancer alone, and one droplet should not depend on it either. So the agent
writes, the deployer reads (launchpad/release/enroll.py):

    agent.json  secrets.enrollment = {"store": "s3://<release bucket>-enroll/<stack>/enroll",
                                      "enrollment_key_id": ..., "enrollment_key_secret": ...}
    object      <store>/<droplet id>.json = {"droplet_id", "public_key", "key_id", "ssh_host_key"?, "mac"}
    mac         HMAC-SHA256(key = the stack's enrollment value,
                            msg = b"launchpad-enroll-v1:" + canonical JSON of
                                  {"droplet_id", "public_key", "ssh_host_key" ("" when none)})

The droplet id comes from the metadata service (only root reaches it: files/nftables.conf.j2). The key
may read and write that bucket and nothing else (Spaces grants are per bucket); like the enrollment
value it is in user-data, and it is no more secret: whoever holds user-data can already make a valid
MAC, and a droplet that could publish a forged key could read its own secrets anyway. What it protects
is the MAC's: that a document came from a holder of the stack's user-data, for that droplet id.
Published once per document (stamp in /var/lib/launchpad), retried on the next pass when it fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import urllib.parse
from pathlib import Path

from launchpad_agent.rules import Failure, log

LABEL = b"launchpad-enroll-v1:"
STAMP = Path("/var/lib/launchpad/enrolled")
"""sha256 of the last target + document published: a pass republishes only what changed."""
DROPLET_ID = Path("/run/launchpad-agent/droplet-id")
DROPLET_ID_RE = re.compile(r"^[0-9]{1,20}$")


def signed_message(droplet_id: str, public_b64: str, ssh_host_key: str) -> bytes:
    fields = {"droplet_id": droplet_id, "public_key": public_b64, "ssh_host_key": ssh_host_key}
    return LABEL + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def document(enroll_hex: str, droplet_id: str, public_raw: bytes, ssh_host_key: str | None) -> bytes:
    public_b64 = base64.b64encode(public_raw).decode()
    mac = hmac.new(bytes.fromhex(enroll_hex), signed_message(droplet_id, public_b64, ssh_host_key or ""),
                   hashlib.sha256).hexdigest()
    data = {"droplet_id": droplet_id, "public_key": public_b64, "key_id": hashlib.sha256(public_raw).hexdigest()[:16],
            "mac": mac}
    if ssh_host_key:
        data["ssh_host_key"] = ssh_host_key
    return (json.dumps(data, sort_keys=True) + "\n").encode()


def droplet_id() -> str:
    """This droplet's id, from the metadata service once per boot (then /run)."""
    try:
        cached = DROPLET_ID.read_text().strip()
    except OSError:
        cached = ""
    if DROPLET_ID_RE.fullmatch(cached):
        return cached
    from launchpad_agent.store import _metadata  # noqa: PLC0415
    value = _metadata("/metadata/v1/id").strip()
    if not DROPLET_ID_RE.fullmatch(value):
        raise Failure("fetch", f"droplet metadata /metadata/v1/id answered {value[:40]!r}, not a droplet id")
    DROPLET_ID.parent.mkdir(mode=0o700, exist_ok=True)
    DROPLET_ID.write_text(value + "\n")
    return value


def connect(host: str) -> http.client.HTTPConnection:
    return http.client.HTTPSConnection(host, timeout=15)


def target(cfg: dict, spec: dict, who: str) -> tuple[str, str, str]:
    """(host, URI-encoded path, s3 URL) of this droplet's object: path-style on the store's endpoint."""
    bucket, _, prefix = str(spec["store"]).removeprefix("s3://").partition("/")
    key = "/".join(p for p in (prefix.strip("/"), f"{who}.json") if p)
    endpoint = cfg.get("endpoint") or f"https://{cfg.get('region') or 'nyc3'}.digitaloceanspaces.com"
    host = urllib.parse.urlsplit(endpoint).netloc
    return host, urllib.parse.quote(f"/{bucket}/{key}", safe="/-_.~"), f"s3://{bucket}/{key}"


def publish(cfg: dict, public_raw: bytes, ssh_host_key: str | None) -> bool:
    """PUTs this droplet's enrollment document unless that exact one is already there; True when
    published now, False when nothing was to do (no `enrollment` in agent.json, or done before)."""
    sec = cfg.get("secrets") or {}
    spec = sec.get("enrollment")
    if not spec:
        return False
    who = droplet_id()
    body = document(sec["enroll"], who, public_raw, ssh_host_key)
    host, path, url = target(cfg, spec, who)
    stamp = hashlib.sha256(url.encode() + b"\0" + body).hexdigest()
    try:
        if STAMP.read_text().strip() == stamp:
            return False
    except OSError:
        pass
    from launchpad_agent.aws import _now, sign  # noqa: PLC0415
    creds = {"key": spec["enrollment_key_id"], "secret": spec["enrollment_key_secret"]}
    payload = hashlib.sha256(body).hexdigest()
    headers = sign("PUT", host, path, "", {"content-type": "application/json", "x-amz-content-sha256": payload},
                   payload, creds, cfg.get("region") or "us-east-1", "s3", _now())
    conn = connect(host)
    try:
        conn.request("PUT", path, body=body, headers=headers)
        resp = conn.getresponse()
        status, answer = resp.status, resp.read()
    except OSError as err:
        raise Failure("fetch", f"enrollment to {url}: {err}") from None
    finally:
        conn.close()
    if status != 200:
        raise Failure("fetch", f"enrollment to {url}: HTTP {status} {answer[:200]!r}")
    STAMP.parent.mkdir(parents=True, exist_ok=True)
    STAMP.write_text(stamp + "\n")
    log(f"host key {hashlib.sha256(public_raw).hexdigest()[:16]} enrolled as droplet {who} at {url}")
    return True
