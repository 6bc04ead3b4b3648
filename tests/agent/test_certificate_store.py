"""`launchpad-agent certificate sync` (files/agent/launchpad_agent/certificate.py) with a file store:
which certificate it installs for nginx, when it stores one, and when it asks for a new one (exit 3).
Certificates are made here with openssl (self-signed, the names and lifetimes each case needs)."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from pathlib import Path

import pytest

from kit import agent

certificate = agent("certificate")
aws = agent("aws")
DOMAIN = "rocket.test"
NAMES = [DOMAIN, f"www.{DOMAIN}"]


def make(tmp: Path, name: str, days: int, names: list[str] = NAMES) -> tuple[str, str]:
    key, crt = tmp / f"{name}.key", tmp / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", str(days), "-subj", f"/CN={names[0]}", "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names),
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt.read_text(), key.read_text()


def put_dir(folder: Path, pair: tuple[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fullchain.pem").write_text(pair[0])
    (folder / "privkey.pem").write_text(pair[1])


@pytest.fixture
def cfg(tmp_path: Path) -> dict:
    return {"domain": DOMAIN, "names": NAMES, "live": str(tmp_path / "live"), "lineage": str(tmp_path / "lineage"),
            "min_days": 30, "store": {"kind": "file", "path": str(tmp_path / "store" / f"{DOMAIN}.json")}}


def stored(cfg: dict) -> dict:
    return json.loads(Path(cfg["store"]["path"]).read_text())


def test_nothing_anywhere_asks_for_a_new_certificate(cfg: dict) -> None:
    assert certificate.sync(cfg, time.time()) == certificate.NEED_NEW
    assert not Path(cfg["live"]).exists() and not Path(cfg["store"]["path"]).exists()


def test_a_stored_certificate_is_installed_without_asking_anyone(cfg: dict, tmp_path: Path) -> None:
    pair = make(tmp_path, "a", 90)
    Path(cfg["store"]["path"]).parent.mkdir(mode=0o700)
    Path(cfg["store"]["path"]).write_text(json.dumps({"fullchain": pair[0], "privkey": pair[1]}))
    assert certificate.sync(cfg, time.time()) == 0
    live = Path(cfg["live"])
    assert (live / "fullchain.pem").read_text() == pair[0]
    assert (live / "privkey.pem").stat().st_mode & 0o777 == 0o600


def test_what_certbot_obtained_is_installed_and_stored_root_only(cfg: dict, tmp_path: Path) -> None:
    pair = make(tmp_path, "a", 90)
    put_dir(Path(cfg["lineage"]), pair)
    assert certificate.sync(cfg, time.time()) == 0
    doc = stored(cfg)
    assert (doc["fullchain"], doc["privkey"]) == pair and set(doc["names"]) == set(NAMES)
    assert Path(cfg["store"]["path"]).stat().st_mode & 0o777 == 0o600
    assert (Path(cfg["live"]) / "fullchain.pem").read_text() == pair[0]


def test_the_newest_wins_and_replaces_an_older_stored_one(cfg: dict, tmp_path: Path) -> None:
    old, new = make(tmp_path, "old", 40), make(tmp_path, "new", 90)
    Path(cfg["store"]["path"]).parent.mkdir(mode=0o700)
    Path(cfg["store"]["path"]).write_text(json.dumps({"fullchain": old[0], "privkey": old[1]}))
    put_dir(Path(cfg["lineage"]), new)
    assert certificate.sync(cfg, time.time()) == 0
    assert stored(cfg)["fullchain"] == new[0]
    assert (Path(cfg["live"]) / "fullchain.pem").read_text() == new[0]


def test_thirty_days_or_fewer_left_is_installed_but_asks_for_renewal(cfg: dict, tmp_path: Path) -> None:
    pair = make(tmp_path, "a", 20)
    put_dir(Path(cfg["lineage"]), pair)
    assert certificate.sync(cfg, time.time()) == certificate.NEED_NEW
    assert (Path(cfg["live"]) / "fullchain.pem").read_text() == pair[0]  # still served until renewed


@pytest.mark.parametrize("case", ["missing www", "foreign key", "expired"])
def test_unusable_certificates_are_never_installed(cfg: dict, tmp_path: Path, case: str) -> None:
    if case == "missing www":
        pair = make(tmp_path, "a", 90, [DOMAIN])
    elif case == "foreign key":
        pair = (make(tmp_path, "a", 90)[0], make(tmp_path, "b", 90)[1])
    else:
        pair = make(tmp_path, "a", 1)
    put_dir(Path(cfg["lineage"]), pair)
    later = time.time() + (2 * 86400 if case == "expired" else 0)
    assert certificate.sync(cfg, later) == certificate.NEED_NEW
    assert not Path(cfg["live"]).exists() and not Path(cfg["store"]["path"]).exists()


def test_secretsmanager_store_signs_get_and_put_for_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict]] = []

    class Conn:
        def __init__(self, host: str, timeout: float) -> None:
            self.host = host

        def request(self, method: str, path: str, body: bytes, headers: dict) -> None:
            calls.append((headers["x-amz-target"], json.loads(body)))
            assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKID/")
            assert "/eu-west-1/secretsmanager/aws4_request" in headers["authorization"]

        def getresponse(self):
            class R:
                status = 400 if len(calls) == 1 else 200

                def read(self) -> bytes:
                    return b'{"__type":"ResourceNotFoundException"}' if self.status == 400 else b"{}"
            return R()

        def close(self) -> None:
            pass

    monkeypatch.setattr(http.client, "HTTPSConnection", Conn)
    monkeypatch.setattr(aws, "credentials", lambda _: {"key": "AKID", "secret": "s", "token": "t"})
    store = certificate.Store({"kind": "aws-secretsmanager", "arn": "arn:aws:secretsmanager:eu-west-1:1:secret:c", "region": "eu-west-1"})
    assert store.get() is None  # a secret with no value yet: no host stored one
    store.put(b'{"fullchain": "x"}')
    assert [c[0] for c in calls] == ["secretsmanager.GetSecretValue", "secretsmanager.PutSecretValue"]
    assert calls[1][1] == {"SecretId": "arn:aws:secretsmanager:eu-west-1:1:secret:c", "SecretString": '{"fullchain": "x"}'}


def test_spaces_store_key_comes_sealed_to_this_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DigitalOcean: the certificate bucket's key is fetched (plain GET) and opened with the host's own key."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    from launchpad.release.sealed import key_id, seal

    sealing = agent("sealed")
    private = X25519PrivateKey.generate()
    private_raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    host_key = tmp_path / "host-key"
    host_key.write_text(base64.b64encode(private_raw).decode())
    monkeypatch.setattr(sealing, "HOST_KEY", host_key)
    kid = key_id(public_raw)
    body = seal(public_raw, json.dumps({"access_key_id": "DO00CERT", "secret_access_key": "s3cr3t"}).encode(),
                f"prod/hosts/{kid}.certificates".encode(), b"seed").encode()
    asked: list[str] = []

    class Conn:
        def __init__(self, host: str, timeout: float) -> None:
            self.host = host

        def request(self, method: str, path: str) -> None:
            asked.append(f"{method} https://{self.host}{path}")

        def getresponse(self):
            class R:
                status = 200

                def read(self) -> bytes:
                    return body
            return R()

        def close(self) -> None:
            pass

    monkeypatch.setattr(http.client, "HTTPSConnection", Conn)
    store = certificate.Store({"kind": "s3", "url": "s3://prod-certificates/prod/rocket.test.json", "region": "nyc3",
                               "endpoint": "https://nyc3.digitaloceanspaces.com",
                               "sealed": {"credentials": "https://prod-releases.nyc3.digitaloceanspaces.com/prod/hosts/", "stack": "prod"}})
    assert store._s3_credentials() == {"key": "DO00CERT", "secret": "s3cr3t"}
    assert asked == [f"GET https://prod-releases.nyc3.digitaloceanspaces.com/prod/hosts/{kid}.certificates.sealed"]
    # Sealed for another purpose (the store's read key's aad): refused.
    body = seal(public_raw, b"{}", f"prod/hosts/{kid}".encode(), b"seed").encode()
    with pytest.raises(agent("rules").Failure):
        store._s3_credentials()


def test_dns_credentials_file_from_the_sealed_token_is_root_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "run" / "digitalocean.ini"
    monkeypatch.setattr(certificate.Store, "sealed", lambda self: {"access_key_id": "k", "secret_access_key": "s", "dns_token": "dop_v1_t"})
    cfg = {"store": {"kind": "s3", "sealed": {"credentials": "https://x/", "stack": "prod"}}}
    assert certificate.dns_credentials(cfg, out) == 0
    assert out.read_text() == "dns_digitalocean_token = dop_v1_t\n"
    assert out.stat().st_mode & 0o777 == 0o600 and out.parent.stat().st_mode & 0o777 == 0o700
    monkeypatch.setattr(certificate.Store, "sealed", lambda self: {"access_key_id": "k", "secret_access_key": "s"})
    with pytest.raises(agent("rules").Failure, match="no DNS token"):
        certificate.dns_credentials(cfg, out)
