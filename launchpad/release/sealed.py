"""Sealing to a host's own key: how secrets reach a DigitalOcean droplet without user-data.

A droplet has no cloud identity to authorise it, and anything in user-data is readable by
whoever can read the droplet's metadata or the account's API. So the droplet makes its own
X25519 key pair on first boot and publishes the public half (with an HMAC proving it holds
the stack's enrollment value, so no one without the stack's user-data can swap in their own
key) in the stack's enrollment bucket; `pulumi up` reads it there (launchpad/release/enroll.py)
and seals the secrets (and the bucket read key) to it. Only that droplet's private key, root-only on its disk, opens them.

Scheme `x25519-hkdf-sha256-aes256gcm` (the release contract in /work/plan.md):
ECDH(ephemeral, host) -> HKDF-SHA256 (salt = ephemeral || host public, info = label + aad)
-> AES-256-GCM with the aad bound in. Sealing is deterministic: the ephemeral key and nonce
are HMACs (keyed by `seed`, a secret kept in Pulumi's state) of the recipient, aad and
plaintext, so the same secrets sealed to the same host give the same object and `pulumi up`
shows no diff; a different plaintext gives a fresh key. Needs `cryptography` (deployer) /
python3-cryptography (host).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

SCHEME = "x25519-hkdf-sha256-aes256gcm"
LABEL = b"launchpad-sealed-v1:"


class SealError(ValueError):
    """A host key or sealed object that does not check out."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def host_key_mac(enroll_hex: str, public_raw: bytes) -> str:
    return hmac.new(bytes.fromhex(enroll_hex), public_raw, hashlib.sha256).hexdigest()


def verify_host_key(document: str | bytes, enroll_hex: str) -> bytes:
    """The raw public key from the agent's host-key.json (`mac` over the key alone), once its MAC checks out.
    Enrollment checks the enrollment document instead, whose MAC also binds the droplet id (enroll.py)."""
    try:
        data = json.loads(document)
        public_raw = base64.b64decode(data["public_key"], validate=True)
        mac = str(data["mac"])
    except (ValueError, KeyError, TypeError) as err:
        raise SealError(f"host key document is not {{public_key, key_id, mac}}: {err}") from None
    if len(public_raw) != 32:
        raise SealError(f"host public key is {len(public_raw)} bytes; X25519 keys are 32")
    if not hmac.compare_digest(mac, host_key_mac(enroll_hex, public_raw)):
        raise SealError("host key MAC does not match this stack's enrollment value: not our droplet, "
                        "or something on the path replaced the key")
    return public_raw


def _derive(shared: bytes, salt: bytes, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=LABEL + aad).derive(shared)


def seal(public_raw: bytes, plaintext: bytes, aad: bytes, seed: bytes) -> str:
    """The sealed JSON document for the holder of `public_raw`'s private key."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    material = hmac.new(seed, b"\0".join([public_raw, aad, plaintext]), hashlib.sha512).digest()
    ephemeral = X25519PrivateKey.from_private_bytes(material[:32])
    nonce = material[32:44]
    ephemeral_raw = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_raw))
    key = _derive(shared, ephemeral_raw + public_raw, aad)
    sealed = AESGCM(key).encrypt(nonce, plaintext, aad)
    return json.dumps({"scheme": SCHEME, "key_id": key_id(public_raw), "ephemeral": _b64(ephemeral_raw),
                       "nonce": _b64(nonce), "ciphertext": _b64(sealed)}, sort_keys=True)


def open_sealed(private_raw: bytes, document: str | bytes, aad: bytes) -> bytes:
    """What the host agent does with a sealed object (reference for files/agent/)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    data: dict[str, Any] = json.loads(document)
    if data.get("scheme") != SCHEME:
        raise SealError(f"sealed scheme {data.get('scheme')!r}; expected {SCHEME}")
    private = X25519PrivateKey.from_private_bytes(private_raw)
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if data.get("key_id") != key_id(public_raw):
        raise SealError(f"sealed for key {data.get('key_id')}, this host's key is {key_id(public_raw)}")
    ephemeral_raw = base64.b64decode(data["ephemeral"])
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
    key = _derive(shared, ephemeral_raw + public_raw, aad)
    try:
        return AESGCM(key).decrypt(base64.b64decode(data["nonce"]), base64.b64decode(data["ciphertext"]), aad)
    except InvalidTag:
        raise SealError("sealed object does not open: tampered, or sealed for another purpose (aad)") from None
