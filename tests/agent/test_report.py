"""The agent publishes its status.json for a cloud roll (files/agent/launchpad_agent/report.py):
where (AWS: `<stack>/status/<aws:userid>.json` in the store bucket; DigitalOcean: `<droplet id>.json`
in the status bucket, path-style on Spaces), when (every save_status), and that a failure never
fails the caller and is retried on the next pass. No network: the signed call is faked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kit import agent

report = agent("report")
state = agent("state")
aws = agent("aws")
sealed = agent("sealed")
store_mod = agent("store")

USERID = "AROAEXAMPLEROLEID:i-0123456789abcdef0"
STS_ANSWER = (f"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/web/"
              f"i-0123456789abcdef0</Arn><UserId>{USERID}</UserId><Account>123456789012</Account>"
              "</GetCallerIdentityResult></GetCallerIdentityResponse>").encode()
CREDS = {"key": "ASIAEXAMPLE", "secret": "secret", "token": "token"}


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []

    def fake(method: str, host: str, path: str, query: str, body: bytes, headers: dict, creds: dict, region: str,
             service: str) -> tuple[int, bytes]:
        seen.append((method, host, path, body, creds, region, service))
        return (200, STS_ANSWER) if service == "sts" else (200, b"")

    monkeypatch.setattr(report, "_call", fake)
    monkeypatch.setattr(report, "CALLER_CACHE", tmp_path / "run" / "caller-id")
    monkeypatch.setattr(aws, "credentials", lambda key_file: CREDS)
    monkeypatch.setattr(store_mod, "HOST_ID_CACHE", tmp_path / "run" / "host-id")
    return seen


AWS_CFG = {"store": "s3://shop-releases/shop", "region": "eu-west-1", "host_id": "aws",
           "status_store": "s3://shop-releases/shop/status"}


def test_aws_puts_to_its_own_userid_key_after_asking_sts_once(calls: list) -> None:
    assert report.publish(AWS_CFG, b'{"live": "aaaaaaaaaaaa"}') is True
    assert report.publish(AWS_CFG, b'{"live": "bbbbbbbbbbbb"}') is True
    sts = [c for c in calls if c[6] == "sts"]
    puts = [c for c in calls if c[6] == "s3"]
    assert len(sts) == 1 and sts[0][:2] == ("POST", "sts.eu-west-1.amazonaws.com")
    assert [p[:3] for p in puts] == [("PUT", "shop-releases.s3.eu-west-1.amazonaws.com",
                                      "/shop/status/AROAEXAMPLEROLEID%3Ai-0123456789abcdef0.json")] * 2
    assert puts[1][3] == b'{"live": "bbbbbbbbbbbb"}' and puts[0][4] == CREDS


def test_digitalocean_puts_path_style_to_the_status_bucket_with_the_sealed_status_key(calls: list,
                                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    status_key = {"key": "DO00STATUS", "secret": "s"}
    monkeypatch.setattr(sealed, "spaces_credentials", lambda cfg: {"key": "DO00READ", "secret": "r", "status": status_key})
    monkeypatch.setattr(store_mod, "_metadata", lambda path: "412345678")
    cfg = {"store": "s3://shop-releases/shop", "region": "ams3", "endpoint": "https://ams3.digitaloceanspaces.com",
           "host_id": "digitalocean", "status_store": "s3://shop-status/shop/status", "secrets": {"kind": "spaces-sealed"}}
    report.publish(cfg, b"{}")
    assert calls == [("PUT", "ams3.digitaloceanspaces.com", "/shop-status/shop/status/412345678.json", b"{}", status_key,
                      "ams3", "s3")]


def test_a_droplet_without_a_sealed_status_key_publishes_nothing(calls: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealed, "spaces_credentials", lambda cfg: {"key": "DO00READ", "secret": "r"})
    cfg = {"store": "s3://b/s", "host_id": "digitalocean", "status_store": "s3://b-status/s/status"}
    assert report.publish(cfg, b"{}") is True and calls == []


def test_no_status_store_no_publication(calls: list) -> None:
    assert report.target({"store": "s3://b/s", "host_id": "aws"}) is None and calls == []


def test_a_refused_put_raises_for_the_caller_to_retry(calls: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "_call", lambda *a: (200, STS_ANSWER) if a[-1] == "sts" else (403, b"AccessDenied"))
    with pytest.raises(report.Failure, match="HTTP 403"):
        report.publish(AWS_CFG, b"{}")


def test_save_status_publishes_and_a_failure_is_retried_when_the_next_pass_takes_the_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "agent.json"
    config.write_text(json.dumps(AWS_CFG))
    for name, path in {"CONFIG": config, "STATUS": tmp_path / "status.json", "UNPUBLISHED": tmp_path / "run" / "unpublished",
                       "LAST_ERROR": tmp_path / "run" / "last-error", "LOCK": tmp_path / "run" / "lock"}.items():
        monkeypatch.setattr(state, name, path)
    monkeypatch.setattr(state, "log", lambda *a, **k: None)
    monkeypatch.setattr(agent("rules"), "log", lambda *a, **k: None)
    published: list[bytes] = []
    down = {"now": True}

    def publish(cfg: dict, data: bytes) -> bool:
        if down["now"]:
            raise OSError("network is unreachable")
        published.append(data)
        return True

    monkeypatch.setattr(report, "publish", publish)
    state.save_status({"live": "aaaaaaaaaaaa", "history": []})  # never raises
    assert state.UNPUBLISHED.is_file() and published == []
    down["now"] = False
    fd = state.locked(False)
    assert fd is not None and not state.UNPUBLISHED.exists()
    os.close(fd)
    assert json.loads(published[0])["live"] == "aaaaaaaaaaaa"


def test_without_a_status_store_save_status_only_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "agent.json"
    config.write_text(json.dumps({"store": "file:///var/lib/launchpad/store", "host_id": "hostname"}))
    monkeypatch.setattr(state, "CONFIG", config)
    monkeypatch.setattr(state, "STATUS", tmp_path / "status.json")
    monkeypatch.setattr(state, "UNPUBLISHED", tmp_path / "unpublished")
    monkeypatch.setattr(report, "publish", lambda *a: pytest.fail("published without a status_store"))
    state.save_status({"live": None})
    assert (tmp_path / "status.json").is_file() and not (tmp_path / "unpublished").exists()


def test_the_sealed_credentials_carry_the_status_key_through_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cryptography")
    from launchpad.release import sealed as deployer

    enroll = "ab" * 32
    monkeypatch.setattr(sealed, "HOST_KEY", tmp_path / "host-key")
    monkeypatch.setattr(sealed, "HOST_KEY_JSON", tmp_path / "host-key.json")
    monkeypatch.setattr(sealed, "CREDS_CACHE", tmp_path / "run" / "spaces.json")
    monkeypatch.setattr(sealed, "log", lambda *a, **k: None)
    _, public_raw = sealed.ensure_host_key(enroll)
    kid = deployer.key_id(public_raw)
    plaintext = json.dumps({"access_key_id": "READ", "secret_access_key": "r", "status_access_key_id": "STATUS",
                            "status_secret_access_key": "s"}).encode()
    document = deployer.seal(public_raw, plaintext, f"shop/hosts/{kid}".encode(), b"seed").encode()

    class Conn:
        def __init__(self, host: str, timeout: float) -> None:
            pass

        def request(self, method: str, path: str) -> None:
            assert path.endswith(f"/shop/hosts/{kid}.sealed")

        def getresponse(self) -> Any:
            return type("R", (), {"status": 200, "read": lambda self: document})()

        def close(self) -> None:
            pass

    monkeypatch.setattr(sealed.http.client, "HTTPSConnection", Conn)
    cfg = {"store": "s3://shop-releases/shop", "secrets": {"kind": "spaces-sealed", "enroll": enroll,
                                                          "credentials": "https://shop-releases.ams3.digitaloceanspaces.com/shop/hosts/"}}
    first = sealed.spaces_credentials(cfg)
    assert first == {"key": "READ", "secret": "r", "status": {"key": "STATUS", "secret": "s"}}
    assert sealed.spaces_credentials(cfg) == first  # from the cache in /run
