"""DigitalOcean's adapter for the shared rolling loop (launchpad/release/rolling.py): the Load Balancer.

    fleet = DoRollFleet(DoApi(token), store, balancer_id, host_tag, rotation_tag)

The stack's Load Balancer sends to the droplets carrying the *rotation* tag (`<host tag>-lb`,
components/digitalocean/balancer.py), not the host tag: the host tag also carries the droplets'
firewalls and the database's trusted sources, which must stay while a droplet is out of rotation.
- hosts: the droplets with the host tag (`GET /v2/droplets?tag_name=`), by id;
- drain: untag (`DELETE /v2/tags/<rotation>/resources`), wait until the balancer no longer lists
  the droplet (`GET /v2/load_balancers/<id>`, `droplet_ids`), then `drain_grace_s` for requests it
  already sent there (DigitalOcean shows no per-droplet connection count);
- rejoin: tag again (`POST`), wait until the balancer lists it, then `healthy_grace_s`: the
  balancer's health check must pass `healthy_threshold` times `check_interval_seconds` (3 x 10 s)
  before it sends there, and the API shows no per-droplet health to wait on instead;
- pin / pointer / status: the store (launchpad/ops/roll_store.py; statuses in the status bucket).
The API token comes from DIGITALOCEAN_TOKEN, as the Pulumi provider takes it. Standard library
HTTP (urllib); the base URL is a parameter (tests run a fake API on 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from launchpad.ops.roll_store import RollStore, StoreFleet
from launchpad.release.rolling import Clock

API = "https://api.digitalocean.com"
DRAIN_GRACE_S = 15.0
HEALTHY_GRACE_S = 35.0
MEMBERSHIP_TIMEOUT_S = 120.0


class DoApiError(RuntimeError):
    """An API call failed; the message names the call and what DigitalOcean answered."""


class DoApi:
    def __init__(self, token: str, base: str = API, timeout: float = 30.0) -> None:
        if not token:
            raise DoApiError("DIGITALOCEAN_TOKEN is not set: the roll drives the Load Balancer through DigitalOcean's API")
        self.token, self.base, self.timeout = token, base.rstrip("/"), timeout

    @classmethod
    def from_env(cls) -> DoApi:
        return cls(os.environ.get("DIGITALOCEAN_TOKEN", ""))

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "User-Agent": "launchpad-roll"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310 - https API or the test's loopback
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise DoApiError(f"{method} {path}: HTTP {err.code} {err.read()[:300]!r}") from None
        except OSError as err:
            raise DoApiError(f"{method} {path}: {err}") from None
        return json.loads(raw) if raw.strip() else {}

    def droplet_ids(self, tag: str) -> list[str]:
        ids: list[str] = []
        page = 1
        while page <= 50:  # 200 a page: 10,000 droplets is past any stack here
            found = self.call("GET", f"/v2/droplets?tag_name={urllib.parse.quote(tag)}&per_page=200&page={page}")
            ids += [str(d["id"]) for d in found.get("droplets", [])]
            if not ((found.get("links") or {}).get("pages") or {}).get("next"):
                break
            page += 1
        return sorted(ids, key=lambda i: (len(i), i))

    def balancer_members(self, balancer_id: str) -> set[str]:
        lb = self.call("GET", f"/v2/load_balancers/{urllib.parse.quote(balancer_id)}").get("load_balancer") or {}
        return {str(i) for i in lb.get("droplet_ids") or []}

    def tag(self, tag: str, droplet: str, on: bool) -> None:
        self.call("POST" if on else "DELETE", f"/v2/tags/{urllib.parse.quote(tag)}/resources",
                  {"resources": [{"resource_id": droplet, "resource_type": "droplet"}]})


class DoRollFleet(StoreFleet):
    def __init__(self, api: DoApi, store: RollStore, balancer_id: str, host_tag: str, rotation_tag: str,
                 clock: Clock | None = None, poll_s: float = 2.0, drain_grace_s: float = DRAIN_GRACE_S,
                 healthy_grace_s: float = HEALTHY_GRACE_S, membership_timeout_s: float = MEMBERSHIP_TIMEOUT_S) -> None:
        self.api, self.store, self.balancer = api, store, balancer_id
        self.host_tag, self.rotation_tag = host_tag, rotation_tag
        self.clock = clock or Clock()
        self.poll_s, self.drain_grace_s, self.healthy_grace_s = poll_s, drain_grace_s, healthy_grace_s
        self.membership_timeout_s = membership_timeout_s

    def hosts(self) -> list[str]:
        return self.api.droplet_ids(self.host_tag)

    def _until_member(self, host: str, member: bool) -> float:
        started = self.clock.now()
        while (host in self.api.balancer_members(self.balancer)) != member:
            if self.clock.now() - started >= self.membership_timeout_s:
                raise DoApiError(f"droplet {host}: load balancer {self.balancer} still "
                                 f"{'lacks' if member else 'lists'} it after {self.membership_timeout_s:g} s")
            self.clock.sleep(self.poll_s)
        return self.clock.now() - started

    def drain(self, host: str) -> float:
        self.api.tag(self.rotation_tag, host, on=False)
        took = self._until_member(host, member=False)
        self.clock.sleep(self.drain_grace_s)
        return took + self.drain_grace_s

    def rejoin(self, host: str) -> float:
        if host in self.api.balancer_members(self.balancer):
            return 0.0  # never left (a host the roll skips): no health checks to wait for
        self.api.tag(self.rotation_tag, host, on=True)
        took = self._until_member(host, member=True)
        self.clock.sleep(self.healthy_grace_s)
        return took + self.healthy_grace_s
