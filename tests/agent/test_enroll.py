"""The agent's enrollment (files/agent/launchpad_agent/enroll.py), against a Spaces stand-in on loopback
(tests/fake_spaces.py, which checks each SigV4 signature with the deployer's signer): the droplet PUTs
`<stack>/enroll/<droplet id>.json` into the enrollment bucket with the key in agent.json, once per
document, and what it wrote is what the deployer accepts (launchpad/release/enroll.py) for that droplet
id only. No network but 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import fake_spaces
from kit import agent
from launchpad.release import enroll as deployer
from launchpad.release.s3 import Creds, S3Store

pytest.importorskip("cryptography")

enroll = agent("enroll")
sealed = agent("sealed")
rules = agent("rules")
store_mod = agent("store")

ENROLL = "ab" * 32
DROPLET = "412345678"
SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheDroplet"
STORE = "s3://shop-releases-enroll/shop/enroll"


def config(key: str = fake_spaces.KEY, secret: str = fake_spaces.SECRET) -> dict:
    return {"store": "s3://shop-releases/shop", "region": fake_spaces.REGION,
            "endpoint": f"https://{fake_spaces.HOST}",
            "secrets": {"kind": "spaces-sealed", "enroll": ENROLL, "credentials": "https://x/shop/hosts/",
                        "enrollment": {"store": STORE, "enrollment_key_id": key, "enrollment_key_secret": secret}}}


@pytest.fixture
def spaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_spaces.FakeSpaces]:
    monkeypatch.setattr(sealed, "HOST_KEY", tmp_path / "host-key")
    monkeypatch.setattr(sealed, "HOST_KEY_JSON", tmp_path / "host-key.json")
    monkeypatch.setattr(sealed, "SSH_HOST_KEY", tmp_path / "ssh_host_ed25519_key.pub")
    (tmp_path / "ssh_host_ed25519_key.pub").write_text(SSH + " root@droplet\n")
    monkeypatch.setattr(enroll, "STAMP", tmp_path / "enrolled")
    monkeypatch.setattr(enroll, "DROPLET_ID", tmp_path / "run" / "droplet-id")
    asked: list[str] = []
    monkeypatch.setattr(store_mod, "_metadata", lambda path: asked.append(path) or DROPLET + "\n")
    with fake_spaces.fake_spaces() as fake:
        monkeypatch.setattr(enroll, "connect", fake.connect)
        fake.metadata_asked = asked  # type: ignore[attr-defined]
        yield fake


def deployer_store(fake: fake_spaces.FakeSpaces) -> S3Store:
    return S3Store(STORE, fake_spaces.REGION, Creds(fake_spaces.KEY, fake_spaces.SECRET), f"https://{fake_spaces.HOST}",
                   connect=fake.connect)


def test_the_droplet_puts_its_document_and_the_deployer_accepts_it(spaces: fake_spaces.FakeSpaces) -> None:
    _, public_raw = sealed.ensure_host_key(ENROLL)
    assert enroll.publish(config(), public_raw, sealed.ssh_host_key()) is True
    assert spaces.requests == [("PUT", f"/shop-releases-enroll/shop/enroll/{DROPLET}.json", 200)]
    document = json.loads(spaces.objects[f"/shop-releases-enroll/shop/enroll/{DROPLET}.json"])
    assert document["droplet_id"] == DROPLET and document["key_id"] == deployer.hashlib.sha256(public_raw).hexdigest()[:16]
    found = deployer.wait_for_enrollment(deployer_store(spaces), DROPLET, ENROLL, timeout=1, interval=0.01, need_ssh=True)
    assert (found.droplet_id, found.public_raw, found.ssh_host_key) == (DROPLET, public_raw, SSH)
    with pytest.raises(deployer.EnrollmentRefused, match="names droplet '412345678', not '999'"):
        deployer.verify(spaces.objects[f"/shop-releases-enroll/shop/enroll/{DROPLET}.json"], ENROLL, "999")


def test_published_once_per_document_and_again_when_it_changes(spaces: fake_spaces.FakeSpaces, tmp_path: Path) -> None:
    _, public_raw = sealed.ensure_host_key(ENROLL)
    assert enroll.publish(config(), public_raw, None) is True
    assert enroll.publish(config(), public_raw, None) is False  # the stamp: the 2-second pass stays quiet
    assert enroll.publish(config(), public_raw, SSH) is True  # sshd's key appeared: a new document
    assert [r[0] for r in spaces.requests] == ["PUT", "PUT"]
    assert spaces.metadata_asked == ["/metadata/v1/id"]  # type: ignore[attr-defined]  # then from /run


def test_a_refused_put_fails_the_pass_and_is_retried(spaces: fake_spaces.FakeSpaces) -> None:
    _, public_raw = sealed.ensure_host_key(ENROLL)
    with pytest.raises(rules.Failure, match=r"enrollment to s3://shop-releases-enroll/shop/enroll/412345678.json: HTTP 403"):
        enroll.publish(config(secret="wrong"), public_raw, None)
    assert not enroll.STAMP.exists() and spaces.objects == {}
    assert enroll.publish(config(), public_raw, None) is True


def test_spaces_credentials_enroll_before_looking_for_the_sealed_key(spaces: fake_spaces.FakeSpaces,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent's pass: until the deployer has sealed the read key, each pass makes sure it enrolled."""
    monkeypatch.setattr(sealed, "CREDS_CACHE", Path(str(enroll.STAMP) + "-creds"))

    class NotSealedYet:
        def __init__(self, host: str, timeout: float) -> None:
            pass

        def request(self, method: str, path: str) -> None:
            pass

        def getresponse(self):  # noqa: ANN202
            return type("R", (), {"status": 403, "read": lambda self: b""})()

        def close(self) -> None:
            pass

    monkeypatch.setattr(sealed.http.client, "HTTPSConnection", NotSealedYet)
    assert sealed.spaces_credentials(config()) is None
    assert [r[:2] for r in spaces.requests] == [("PUT", f"/shop-releases-enroll/shop/enroll/{DROPLET}.json")]


def test_no_enrollment_section_publishes_nothing(spaces: fake_spaces.FakeSpaces) -> None:
    cfg = config()
    del cfg["secrets"]["enrollment"]
    assert enroll.publish(cfg, b"\x01" * 32, None) is False and spaces.requests == []


@pytest.mark.parametrize("answer", ["", "i-0abc", "12 34", "<html>"])
def test_a_droplet_id_that_is_not_one_is_refused(spaces: fake_spaces.FakeSpaces, monkeypatch: pytest.MonkeyPatch,
                                                 answer: str) -> None:
    monkeypatch.setattr(store_mod, "_metadata", lambda path: answer)
    with pytest.raises(rules.Failure, match="not a droplet id"):
        enroll.droplet_id()
