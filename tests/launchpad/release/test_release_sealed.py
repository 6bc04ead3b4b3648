"""Sealing secrets to a droplet's own key (launchpad/release/sealed.py)."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from launchpad.release.sealed import SealError, host_key_mac, key_id, open_sealed, seal, verify_host_key


def host() -> tuple[bytes, bytes]:
    private = X25519PrivateKey.generate()
    return private.private_bytes_raw(), private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_round_trip_deterministic_and_bound_to_the_aad() -> None:
    private, public = host()
    seed = secrets.token_bytes(32)
    plaintext = json.dumps({"SECRET_KEY": "hunter2"}).encode()
    doc = seal(public, plaintext, b"dev/secrets/abc", seed)
    assert doc == seal(public, plaintext, b"dev/secrets/abc", seed), "same input, same object: no Pulumi diff"
    assert "hunter2" not in doc and json.loads(doc)["key_id"] == key_id(public)
    assert open_sealed(private, doc, b"dev/secrets/abc") == plaintext
    with pytest.raises(SealError, match="does not open"):
        open_sealed(private, doc, b"dev/hosts/abc")
    other = seal(public, b'{"SECRET_KEY": "other"}', b"dev/secrets/abc", seed)
    assert json.loads(other)["ephemeral"] != json.loads(doc)["ephemeral"]


def test_another_host_cannot_open_it() -> None:
    _, public = host()
    other_private, _ = host()
    doc = seal(public, b"x", b"aad", b"seed")
    with pytest.raises(SealError, match="sealed for key"):
        open_sealed(other_private, doc, b"aad")


def test_host_key_document_needs_the_enrollment_mac() -> None:
    _, public = host()
    enroll = secrets.token_hex(32)
    doc = json.dumps({"public_key": base64.b64encode(public).decode(), "key_id": key_id(public),
                      "mac": host_key_mac(enroll, public)})
    assert verify_host_key(doc, enroll) == public
    with pytest.raises(SealError, match="MAC does not match"):
        verify_host_key(doc, secrets.token_hex(32))
    with pytest.raises(SealError, match="not"):
        verify_host_key("<html>", enroll)
