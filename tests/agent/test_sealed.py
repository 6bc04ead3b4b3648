"""DigitalOcean sealing, both ends: what the deployer seals (launchpad/release/sealed.py)
the agent opens, and the host key document the agent publishes the deployer accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit import agent

pytest.importorskip("cryptography")
from launchpad.release import sealed as deployer  # noqa: E402

sealed = agent("sealed")
rules = agent("rules")
ENROLL = "ab" * 32


@pytest.fixture
def host_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    monkeypatch.setattr(sealed, "HOST_KEY", tmp_path / "host-key")
    monkeypatch.setattr(sealed, "HOST_KEY_JSON", tmp_path / "host-key.json")
    return sealed.ensure_host_key(ENROLL)


def test_host_key_is_made_once_and_accepted_by_the_deployer(host_key: tuple[bytes, bytes]) -> None:
    private_raw, public_raw = host_key
    assert sealed.ensure_host_key(ENROLL) == (private_raw, public_raw)
    assert oct(sealed.HOST_KEY.stat().st_mode & 0o777) == "0o600"
    assert oct(sealed.HOST_KEY_JSON.stat().st_mode & 0o777) == "0o644"
    document = sealed.HOST_KEY_JSON.read_text()
    assert deployer.verify_host_key(document, ENROLL) == public_raw
    assert json.loads(document)["key_id"] == deployer.key_id(public_raw)
    with pytest.raises(deployer.SealError):
        deployer.verify_host_key(document, "cd" * 32)


def test_agent_opens_what_the_deployer_sealed(host_key: tuple[bytes, bytes]) -> None:
    private_raw, public_raw = host_key
    aad = f"staging/secrets/{'0' * 16}".encode()
    document = deployer.seal(public_raw, b'{"SECRET_KEY": "v"}', aad, b"seed")
    assert sealed.open_sealed(private_raw, document.encode(), aad) == b'{"SECRET_KEY": "v"}'
    with pytest.raises(rules.Failure, match="does not open"):
        sealed.open_sealed(private_raw, document.encode(), b"staging/hosts/other")


def test_the_stack_is_the_store_prefix() -> None:
    assert sealed.stack_of({"store": "s3://bucket/staging"}) == "staging"
