"""launchpad/release/s3.py against AWS's signing example and a fake S3 on 127.0.0.1; the cloud
rollback (launchpad/cli/release_cloud.py) on top of it."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from launchpad.cli import release_cloud
from launchpad.release.manifest import new_manifest
from launchpad.release.s3 import EMPTY_SHA256, Creds, S3Store, StoreError, creds_from_env, sign
from launchpad.settings import validate


def test_signature_matches_the_aws_s3_get_object_example() -> None:
    # docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object".
    creds = Creds("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    headers = sign("GET", "examplebucket.s3.amazonaws.com", "/test.txt", "", {"Range": "bytes=0-9"}, EMPTY_SHA256,
                   creds, "us-east-1", "20130524T000000Z")
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")


def test_credentials_come_from_the_environment() -> None:
    assert creds_from_env(False, {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}) == Creds("k", "s", "t")
    assert creds_from_env(True, {"SPACES_ACCESS_KEY_ID": "k", "SPACES_SECRET_ACCESS_KEY": "s"}) == Creds("k", "s")
    with pytest.raises(StoreError, match="export-credentials"):
        creds_from_env(False, {})


class FakeS3(BaseHTTPRequestHandler):
    objects: dict[str, bytes] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _key(self) -> tuple[str, dict[str, list[str]]]:
        parts = urllib.parse.urlsplit(self.path)
        return urllib.parse.unquote(parts.path).removeprefix("/bucket/"), urllib.parse.parse_qs(parts.query)

    def do_GET(self) -> None:
        assert self.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=key/")
        key, query = self._key()
        if "list-type" in query:
            prefix = query["prefix"][0]
            body = "".join(f"<Contents><Key>{k}</Key></Contents>" for k in sorted(self.objects) if k.startswith(prefix))
            self._answer(200, f'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{body}</ListBucketResult>'.encode())
        elif key in self.objects:
            self._answer(200, self.objects[key])
        else:
            self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>")

    def do_PUT(self) -> None:
        key, _ = self._key()
        self.objects[key] = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(200, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake() -> Iterator[tuple[S3Store, dict[str, bytes]]]:
    FakeS3.objects = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    store = S3Store("s3://bucket/prod", "fra1", Creds("key", "secret"), endpoint="https://fra1.digitaloceanspaces.com",
                    connect=lambda host: http.client.HTTPConnection("127.0.0.1", port, timeout=5))
    yield store, FakeS3.objects
    server.shutdown()


def manifest(n: int, created: str):  # type: ignore[no-untyped-def]
    return new_manifest(artifact=f"{n}" * 64, artifact_bytes=1, source_hash=f"{n}" * 64, deps_hash="d" * 16, deps="none",
                        app="rocket", module="rocket:app", created=created)


def test_list_read_and_point(fake) -> None:  # type: ignore[no-untyped-def]
    store, objects = fake
    old, new = manifest(1, "2026-01-01T00:00:00Z"), manifest(2, "2026-01-02T00:00:00Z")
    for m in (old, new):
        objects[f"prod/releases/{m.id}.json"] = m.to_json().encode()
    objects["prod/releases/desired.json"] = json.dumps({"id": new.id, "at": "x"}).encode()
    objects["staging/releases/ffffffffffff.json"] = b"{}"  # another stack's prefix: not listed
    assert [m.id for m in store.list_manifests()] == [new.id, old.id]
    assert store.get_desired().id == new.id  # type: ignore[union-attr]
    store.set_desired(old.id)
    assert json.loads(objects["prod/releases/desired.json"])["id"] == old.id
    with pytest.raises(StoreError, match="is not in s3://bucket/prod"):
        store.set_desired("0123456789ab")


def test_cloud_rollback_points_at_the_release_before_the_live_one(fake, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    store, objects = fake
    ms = [manifest(1, "2026-01-01T00:00:00Z"), manifest(2, "2026-01-02T00:00:00Z"), manifest(3, "2026-01-03T00:00:00Z")]
    for m in ms:
        objects[f"prod/releases/{m.id}.json"] = m.to_json().encode()
    outputs = {"public_ip": "198.51.100.7", "release_store": {"store": "s3://bucket/prod", "region": "fra1"}}
    monkeypatch.setattr(release_cloud, "store_for", lambda settings, run=None: (store, outputs))
    monkeypatch.setattr(release_cloud, "live_release", lambda address, domain, path: ms[1].id)  # 2 is live, 3 was refused
    waited = []
    monkeypatch.setattr(release_cloud.wait, "until_healthy", lambda url, host, **k: waited.append((url, k["release"])) or 0.1)
    settings = validate({"launchpad:provider": "digitalocean"}, "prod")
    target, _ = release_cloud.rollback(settings, None, 30)
    assert target == ms[0].id and json.loads(objects["prod/releases/desired.json"])["id"] == ms[0].id
    assert waited == [("http://198.51.100.7/", ms[0].id)]


def test_store_location_comes_from_the_stack_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    out = {"public_ip": "198.51.100.7", "release_store": {"store": "s3://prod-releases-a1b2c3d/prod", "region": "eu-west-1"}}

    def run(argv):  # type: ignore[no-untyped-def]
        return subprocess.CompletedProcess(argv, 0, stdout=json.dumps(out), stderr="")

    store, _ = release_cloud.store_for(validate({"launchpad:provider": "aws"}, "prod"), run)
    assert (store.host, store.prefix, store.region) == ("prod-releases-a1b2c3d.s3.eu-west-1.amazonaws.com", "prod", "eu-west-1")
    with pytest.raises(StoreError, match="no `release_store` output"):
        release_cloud.store_for(validate({"launchpad:provider": "aws"}, "prod"),
                                lambda argv: subprocess.CompletedProcess(argv, 0, stdout="{}", stderr=""))
