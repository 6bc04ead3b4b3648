"""DigitalOcean: the host's own key pair, and opening what the deployer sealed to it.

A droplet has no cloud identity, so the agent makes an X25519 key pair on its first run
and publishes the public half with an HMAC keyed by the stack's enrollment value: written
to the stack's enrollment bucket (enroll.py; a copy stays in /var/lib/launchpad/host-key.json),
where `pulumi up` reads it, checks the MAC and the droplet id, and seals to that key the
store's read-only Spaces key and the app's secrets: no inbound connection is needed.
Scheme x25519-hkdf-sha256-aes256gcm, exactly as the deployer's
launchpad/release/sealed.py (the release contract). Needs python3-cryptography (Debian's,
already there for cloud-init); imported only here, and the opened read key is cached in
/run so the idle pass every 2 s neither downloads nor decrypts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import urllib.parse
from pathlib import Path

from launchpad_agent.rules import Failure, log

SCHEME = "x25519-hkdf-sha256-aes256gcm"
LABEL = b"launchpad-sealed-v1:"
HOST_KEY = Path("/var/lib/launchpad/host-key")
HOST_KEY_JSON = Path("/var/lib/launchpad/host-key.json")
CREDS_CACHE = Path("/run/launchpad-agent/spaces-credentials.json")


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)
        f.write(data)
    os.replace(tmp, path)


SSH_HOST_KEY = Path("/etc/ssh/ssh_host_ed25519_key.pub")
SSH_LABEL = b"launchpad-ssh-host-key:"


def ssh_host_key() -> str | None:
    """`ssh-ed25519 AAAA...` of this host's sshd, without its comment; None before sshd made one."""
    try:
        parts = SSH_HOST_KEY.read_text().split()
    except OSError:
        return None
    return " ".join(parts[:2]) if len(parts) >= 2 and parts[0] == "ssh-ed25519" else None


def ensure_host_key(enroll_hex: str) -> tuple[bytes, bytes]:
    """(private raw, public raw); made once, kept across reboots (root 0600)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    if HOST_KEY.is_file():
        private_raw = base64.b64decode(HOST_KEY.read_text())
        private = X25519PrivateKey.from_private_bytes(private_raw)
    else:
        private = X25519PrivateKey.generate()
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat  # noqa: PLC0415
        private_raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        _write(HOST_KEY, base64.b64encode(private_raw) + b"\n", 0o600)
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    document = {"public_key": base64.b64encode(public_raw).decode(), "key_id": key_id(public_raw),
                "mac": hmac.new(bytes.fromhex(enroll_hex), public_raw, hashlib.sha256).hexdigest()}
    ssh = ssh_host_key()
    if ssh:
        # The SSH host key, under the same enrollment MAC (its own label): `pulumi up` records it
        # and `launchpad ssh/run/logs` pin it (launchpad/ops/host_key.py), no trust on first use.
        # The enrollment object (enroll.py) carries it under a MAC that also binds the droplet id.
        document["ssh_host_key"] = ssh
        document["ssh_mac"] = hmac.new(bytes.fromhex(enroll_hex), SSH_LABEL + ssh.encode(), hashlib.sha256).hexdigest()
    text = (json.dumps(document, sort_keys=True) + "\n").encode()
    if not HOST_KEY_JSON.is_file() or HOST_KEY_JSON.read_bytes() != text:
        _write(HOST_KEY_JSON, text, 0o644)
        log(f"host key {document['key_id']} recorded in {HOST_KEY_JSON} (enroll.py announces it)")
    return private_raw, public_raw


def public_get(url: str) -> tuple[int, bytes]:
    """A plain HTTPS GET (no credentials) of a sealed object: (status, body)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPSConnection(parts.netloc, timeout=30)
    try:
        conn.request("GET", parts.path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def public_of(private_raw: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    return X25519PrivateKey.from_private_bytes(private_raw).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def open_sealed(private_raw: bytes, document: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    data = json.loads(document)
    if data.get("scheme") != SCHEME:
        raise Failure("fetch", f"sealed object scheme {data.get('scheme')!r}; this agent opens {SCHEME}")
    private = X25519PrivateKey.from_private_bytes(private_raw)
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if data.get("key_id") != key_id(public_raw):
        raise Failure("fetch", f"sealed for key {data.get('key_id')}, this host's key is {key_id(public_raw)}")
    ephemeral_raw = base64.b64decode(data["ephemeral"])
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_raw + public_raw, info=LABEL + aad).derive(shared)
    try:
        return AESGCM(key).decrypt(base64.b64decode(data["nonce"]), base64.b64decode(data["ciphertext"]), aad)
    except InvalidTag:
        raise Failure("fetch", f"sealed object for {aad.decode()} does not open: tampered or sealed for another purpose") from None


def stack_of(cfg: dict) -> str:
    """The store prefix, `s3://<bucket>/<stack>`: the aad of everything sealed for this stack."""
    return cfg["store"].removeprefix("s3://").partition("/")[2].strip("/")


def spaces_credentials(cfg: dict) -> dict[str, str] | None:
    """The store's read-only Spaces key, sealed to this host; None until the deployer has
    sealed it (a new droplet waits for `pulumi up` to enroll it)."""
    try:
        return json.loads(CREDS_CACHE.read_text())
    except (OSError, ValueError):
        pass
    sec = cfg["secrets"]
    private_raw, public_raw = ensure_host_key(sec["enroll"])
    if sec.get("enrollment"):
        from launchpad_agent import enroll  # noqa: PLC0415 (until enrolled, and once per boot)
        enroll.publish(cfg, public_raw, ssh_host_key())
    kid = key_id(public_raw)
    url = sec["credentials"].rstrip("/") + f"/{kid}.sealed"
    status, body = public_get(url)
    if status in (403, 404):
        return None
    if status != 200:
        raise Failure("fetch", f"{url}: HTTP {status}")
    data = json.loads(open_sealed(private_raw, body, f"{stack_of(cfg)}/hosts/{kid}".encode()))
    creds = {"key": data["access_key_id"], "secret": data["secret_access_key"]}
    if data.get("status_access_key_id"):
        # With several droplets: the status bucket's write key (report.py publishes status.json with it).
        creds["status"] = {"key": data["status_access_key_id"], "secret": data["status_secret_access_key"]}
    CREDS_CACHE.parent.mkdir(mode=0o700, exist_ok=True)
    _write(CREDS_CACHE, json.dumps(creds).encode(), 0o600)
    return creds


def sealed_secrets(cfg: dict, store, version: str) -> dict[str, str]:
    """The app's secrets of `version`, sealed to this host."""
    private_raw, public_raw = ensure_host_key(cfg["secrets"]["enroll"])
    raw = store.get(f"secrets/{version}.{key_id(public_raw)}.sealed")
    if raw is None:
        raise Failure("fetch", f"secrets {version} are not sealed for this host ({key_id(public_raw)}) yet; "
                      "`pulumi up` seals them once it has enrolled the host", retry=True)
    values = json.loads(open_sealed(private_raw, raw, f"{stack_of(cfg)}/secrets/{version}".encode()))
    if not isinstance(values, dict):
        raise Failure("fetch", "sealed secrets are not a JSON object of NAME: value")
    return values
