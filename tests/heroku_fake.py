"""A fake Heroku Platform API on 127.0.0.1 for the Heroku day-2 tests (tests/launchpad/ops, tests/launchpad/cli).

It answers the endpoints launchpad/ops/heroku.py uses, as Heroku documents them (version 3
JSON, `Range` for lists), records every request, and refuses requests without the token and
the version-3 Accept header. `fake` is the fixture; `api` a client pointed at it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from launchpad.ops.heroku_api import ACCEPT, HerokuApi

TOKEN = "heroku-token-for-tests"
APP = "rocket-prod-a1b2c3d"
OLD, NEW = "0123456789ab", "ba9876543210"


def release(version: int, slug: str | None, status: str = "succeeded", current: bool = False, what: str = "") -> dict[str, Any]:
    return {"id": f"rel-{version}", "version": version, "created_at": f"2026-11-2{version % 10}T10:00:00Z",
            "slug": {"id": slug} if slug else None, "status": status, "current": current,
            "description": what or f"Deploy {version}"}


# Newest first, as `Range: version ..; order=desc` asks: v5 is a config change on top of v4's code.
RELEASES = [release(5, "slug-new", current=True, what="Set DEBUG_LEVEL config vars"), release(4, "slug-new"),
            release(3, "slug-broken", status="failed"), release(2, "slug-old"), release(1, None, what="Initial release")]


@dataclass
class FakeHeroku:
    requests: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=lambda: [dict(r) for r in RELEASES])
    attach_port: int = 0
    log_lines: list[str] = field(default_factory=lambda: ["2026-11-25T10:00:00Z app[web.1]: Hello", "2026-11-25T10:00:01Z heroku[router]: at=info"])
    base: str = ""

    def answer(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"id": "unauthorized", "message": "Invalid credentials provided."}
        if headers.get("Accept") != ACCEPT:
            return 400, {"id": "bad_request", "message": "wrong Accept"}
        prefix = f"/apps/{APP}"
        if not path.startswith(prefix):
            return 404, {"id": "not_found", "message": "Couldn't find that app."}
        rest = path[len(prefix):]
        if method == "GET" and rest == "":
            return 200, {"name": APP, "web_url": f"{self.base}/site/", "region": {"name": "eu"}, "stack": {"name": "heroku-24"}}
        if method == "GET" and rest == "/formation":
            return 200, [{"type": "web", "quantity": 2, "size": "Basic"}]
        if method == "GET" and rest == "/dynos":
            return 200, [{"name": f"web.{i}", "type": "web", "state": "up", "updated_at": "2026-11-25T10:00:00Z",
                          "release": {"version": 5}} for i in (1, 2)]
        if method == "DELETE" and rest == "/dynos":
            return 202, {}
        if method == "GET" and rest == "/releases":
            count = int(headers.get("Range", "max=200").rsplit("max=", 1)[1])
            return 206, self.releases[:count]
        if method == "POST" and rest == "/releases":
            target = next(r for r in self.releases if r["id"] == body["release"])
            made = release(self.releases[0]["version"] + 1, (target["slug"] or {}).get("id"), current=True,
                           what=body.get("description", ""))
            for r in self.releases:
                r["current"] = False
            self.releases.insert(0, made)
            return 201, made
        if method == "GET" and rest.startswith("/slugs/"):
            slug = rest.rsplit("/", 1)[1]
            commits = {"slug-new": NEW, "slug-old": OLD, "slug-broken": "ffffffffffff"}
            return 200, {"id": slug, "commit": commits.get(slug)}
        if method == "POST" and rest == "/log-sessions":
            return 201, {"id": "log-1", "logplex_url": f"{self.base}/logplex/session-1"}
        if method == "POST" and rest == "/dynos":
            return 201, {"name": "run.1234", "attach_url": f"rendezvous://127.0.0.1:{self.attach_port}/secret-abc"}
        return 404, {"id": "not_found", "message": f"no fake for {method} {rest}"}


@pytest.fixture
def fake() -> Iterator[FakeHeroku]:
    state = FakeHeroku()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            headers = {k: v for k, v in self.headers.items()}
            if self.path.startswith("/site/"):
                self._send(200, b"Hello World!", {"X-Launchpad-Release": NEW})
                return
            if self.path.startswith("/logplex/"):
                self._send(200, "".join(line + "\n" for line in state.log_lines).encode(), {})
                return
            state.requests.append({"method": self.command, "path": self.path, "body": body, "headers": headers})
            status, answer = state.answer(self.command, self.path, body, headers)
            self._send(status, json.dumps(answer).encode(), {"Content-Type": "application/json"})

        def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(fake: FakeHeroku) -> HerokuApi:
    return HerokuApi(TOKEN, base_url=fake.base)
