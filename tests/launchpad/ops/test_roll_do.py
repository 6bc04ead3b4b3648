"""launchpad/ops/roll_do.py against a fake DigitalOcean API on 127.0.0.1: the droplet leaves the
Load Balancer by losing the rotation tag (never the host tag, which carries its firewalls), the
balancer's membership is waited for both ways, and a whole roll drives the API in order."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from launchpad.ops.roll_do import DoApi, DoApiError, DoRollFleet
from launchpad.release.manifest import new_manifest
from clock import FakeClock
from launchpad.release.rolling import Clock, roll

HOST_TAG, ROTATION, LB = "lp-shop", "lp-shop-lb", "lb-1234"


class FakeDo:
    """Droplets 11, 12 with the host tag; the balancer lists whoever carries the rotation tag,
    `lag` reads after the change (the API catches up)."""

    def __init__(self, lag: int = 1) -> None:
        self.rotation = {"11", "12"}
        self.members = set(self.rotation)
        self.lag, self.pending = lag, 0
        self.calls: list[tuple[str, str, Any]] = []

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        self.calls.append((method, path, body))
        if method == "GET" and path.startswith("/v2/droplets?tag_name=lp-shop&"):
            return 200, {"droplets": [{"id": 12}, {"id": 11}], "links": {}}
        if method == "GET" and path == f"/v2/load_balancers/{LB}":
            if self.pending:
                self.pending -= 1
            else:
                self.members = set(self.rotation)
            return 200, {"load_balancer": {"id": LB, "droplet_ids": [int(i) for i in sorted(self.members)]}}
        if path == f"/v2/tags/{ROTATION}/resources" and method in ("POST", "DELETE"):
            ids = {r["resource_id"] for r in body["resources"] if r["resource_type"] == "droplet"}
            self.rotation = self.rotation | ids if method == "POST" else self.rotation - ids
            self.pending = self.lag
            return 204, {}
        return 404, {"id": "not_found", "message": f"{method} {path}"}


@pytest.fixture
def api() -> Iterator[tuple[DoApi, FakeDo]]:
    fake = FakeDo()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            assert self.headers["Authorization"] == "Bearer tok"
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            code, answer = fake.handle(self.command, self.path, body)
            raw = json.dumps(answer).encode() if code != 204 else b""
            self.send_response(code)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield DoApi("tok", base=f"http://127.0.0.1:{server.server_address[1]}"), fake
    finally:
        server.shutdown()
        server.server_close()


class Store:
    """The store half (roll_store.RollStore's methods the fleet uses), in memory: agents switch when pinned."""

    def __init__(self, live: str) -> None:
        self.live = {"11": live, "12": live}
        self.log: list[tuple[str, ...]] = []

    def status(self, host: str) -> dict[str, Any]:
        return {"live": self.live[host]}

    def pin(self, host: str, rid: str) -> None:
        self.log.append(("pin", host, rid))
        self.live[host] = rid

    def unpin(self, host: str) -> None:
        self.log.append(("unpin", host))

    def set_pointer(self, rid: str) -> None:
        self.log.append(("pointer", rid))


def fleet(api: DoApi, store: Any, clock: Clock) -> DoRollFleet:
    return DoRollFleet(api, store, LB, HOST_TAG, ROTATION, clock=clock, poll_s=1, drain_grace_s=15, healthy_grace_s=35)


def test_the_api_needs_a_token() -> None:
    with pytest.raises(DoApiError, match="DIGITALOCEAN_TOKEN"):
        DoApi("")


def test_drain_untags_the_rotation_tag_only_and_waits_until_the_balancer_lets_go(api) -> None:
    client, fake = api
    clock = FakeClock()
    took = fleet(client, Store("x"), clock).drain("11")
    assert fake.calls[0] == ("DELETE", f"/v2/tags/{ROTATION}/resources",
                             {"resources": [{"resource_id": "11", "resource_type": "droplet"}]})
    assert not any(HOST_TAG + "/" in c[1] for c in fake.calls)
    assert fake.members == {"12"} and took == 1 + 15


def test_rejoin_tags_again_and_waits_for_membership_then_the_health_checks(api) -> None:
    client, fake = api
    fake.rotation, fake.members = {"12"}, {"12"}
    took = fleet(client, Store("x"), FakeClock()).rejoin("11")
    assert fake.calls[0][0:2] == ("GET", f"/v2/load_balancers/{LB}")
    assert fake.calls[1][0:2] == ("POST", f"/v2/tags/{ROTATION}/resources") and fake.members == {"11", "12"}
    assert took == 1 + 35


def test_rejoining_a_droplet_that_never_left_costs_no_wait(api) -> None:
    client, fake = api
    assert fleet(client, Store("x"), FakeClock()).rejoin("11") == 0
    assert [c[0] for c in fake.calls] == ["GET"]


def test_a_balancer_that_never_lets_go_fails_the_drain(api) -> None:
    client, fake = api
    fake.lag = 10_000
    f = fleet(client, Store("x"), FakeClock())
    f.membership_timeout_s = 5
    with pytest.raises(DoApiError, match="still lists it after 5 s"):
        f.drain("11")


def test_a_roll_over_two_droplets_in_order(api) -> None:
    client, fake = api
    old = new_manifest(artifact="a" * 64, artifact_bytes=1, source_hash="b" * 64, deps_hash="c" * 16, deps="none",
                       app="rocket", module="rocket:app", env={}, secrets=None, release_command=None, health_path=None,
                       static={}, writable=(), workers=None, threads=None, keep=5)
    new = new_manifest(artifact="d" * 64, artifact_bytes=1, source_hash="b" * 64, deps_hash="c" * 16, deps="none",
                       app="rocket", module="rocket:app", env={}, secrets=None, release_command=None, health_path=None,
                       static={}, writable=(), workers=None, threads=None, keep=5)
    store = Store(old.id)
    clock = FakeClock()
    rolled = roll(fleet(client, store, clock), new, old, 60, progress=lambda _: None, clock=clock)
    assert [h["host"] for h in rolled.hosts] == ["11", "12"]
    tags = [(m, b["resources"][0]["resource_id"]) for m, p, b in fake.calls if p.startswith("/v2/tags/")]
    assert tags == [("DELETE", "11"), ("POST", "11"), ("DELETE", "12"), ("POST", "12")]
    assert store.log == [("pin", "11", new.id), ("pin", "12", new.id), ("pointer", new.id), ("unpin", "11"), ("unpin", "12")]
    assert fake.members == {"11", "12"}
