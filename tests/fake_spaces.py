"""A Spaces (S3, path-style) stand-in on loopback for the enrollment tests: PUT and GET of objects,
each request's SigV4 signature checked against the deployer's own signer (launchpad/release/s3.py)
with the one key it knows; a wrong or missing signature answers 403 SignatureDoesNotMatch, a missing
object 404, as Spaces does. Plain HTTP on 127.0.0.1: the clients' connection factory is pointed here."""

from __future__ import annotations

import http.client
import http.server
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from launchpad.release.s3 import Creds, sign

HOST = "nyc3.digitaloceanspaces.com"
REGION = "nyc3"
KEY = "DO00ENROLLTESTKEY"
SECRET = "enroll-test-secret"


@dataclass
class FakeSpaces:
    port: int = 0
    objects: dict[str, bytes] = field(default_factory=dict)
    """`/<bucket>/<key>` -> body."""
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    """(method, path, answered status)."""

    def connect(self, host: str) -> http.client.HTTPConnection:
        assert host == HOST, host  # the client addressed Spaces' endpoint, path-style
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)


def _signed_ok(method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
    auth = headers.get("authorization", "")
    found = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/s3/aws4_request, SignedHeaders=([^,]+), "
                     r"Signature=[0-9a-f]{64}$", auth)
    if not found or found.group(1) != KEY or found.group(2) != REGION:
        return False
    names = found.group(3).split(";")
    given = {n: headers.get(n, "") for n in names if n not in ("host", "x-amz-date", "x-amz-content-sha256")}
    expected = sign(method, HOST, path, "", given, headers.get("x-amz-content-sha256", ""), Creds(KEY, SECRET), REGION,
                    headers.get("x-amz-date", ""))
    import hashlib  # noqa: PLC0415
    payload_ok = headers.get("x-amz-content-sha256") == hashlib.sha256(body).hexdigest()
    return payload_ok and expected["authorization"] == auth


@contextmanager
def fake_spaces() -> Iterator[FakeSpaces]:
    spaces = FakeSpaces()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"") -> None:
            spaces.requests.append((self.command, self.path, status))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _headers(self) -> dict[str, str]:
            return {k.lower(): v for k, v in self.headers.items()}

        def do_PUT(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not _signed_ok("PUT", self.path, self._headers(), body):
                return self._answer(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
            spaces.objects[self.path] = body
            self._answer(200)

        def do_GET(self) -> None:  # noqa: N802
            if not _signed_ok("GET", self.path, self._headers(), b""):
                return self._answer(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
            if self.path not in spaces.objects:
                return self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
            self._answer(200, spaces.objects[self.path])

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    spaces.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield spaces
    finally:
        server.shutdown()
        server.server_close()
