"""Releases on a balanced local stack, host by host (issue 14): drain, point, healthy, rejoin.

The store is the stack's one folder (launchpad/local/release.py); every web machine sees it. A
release is published without moving the stack's pointer (`releases/desired.json`), then rolled:
for each web machine in order,
  1. drain it in HAProxy (runtime API) and wait for its open requests to finish;
  2. pin it: `releases/desired/<machine>.json` = the new id (its agent follows its own pointer
     before the stack's; files/agent/launchpad_agent/store.py), and poke its agent;
  3. wait until the machine itself serves the new id healthily (X-Launchpad-Release on the
     health path), or its agent records it refused;
  4. put it back in rotation and wait for HAProxy's health check to call it UP.
The first machine that refuses stops the roll: it never left its old release (blue/green), it
rejoins, machines already switched are rolled back the same way, and every pin is removed, so
the whole stack serves the release it served before. When every machine serves the new id,
the stack's pointer moves to it and the pins go: a machine booted later follows the pointer.

A fleet with no release live yet (its first `launchpad local up`) takes the release everywhere
at once: nothing serves, so there is nothing to drain.

The loop itself is the one the clouds use too (launchpad/release/rolling.py); `LocalFleet` is
this target's adapter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launchpad import wait
from launchpad.local import balancer, fleet, machine, records
from launchpad.local.release import STATUS_FILE, ReleaseFailed, merge_history, previous_good, store_dir
from launchpad.release import rolling
from launchpad.release.manifest import Manifest, Pointer
from launchpad.release.publish import Prepared, build_dir, prepare
from launchpad.release.store import DirStore

Progress = Callable[[str], None]
POLL_S = 0.25
PINS = "desired"
"""Per-host pointers: <store>/releases/desired/<machine name>.json."""


@dataclass(frozen=True)
class Host:
    machine: str
    server: str
    """Its name in HAProxy's backend."""
    address: str


@dataclass
class Rolled:
    release: str
    seconds: float
    hosts: list[dict[str, Any]] = field(default_factory=list)
    """Per host: machine, took_s (pointed -> serving), drained_s, rejoined_s."""


def hosts(stack: str) -> list[Host]:
    found = [Host(m.name, fleet.server_name(m.name), m.address) for m in fleet.web_machines(stack)]
    if not found:
        raise ReleaseFailed(f"stack {stack}: no web machines; `sudo launchpad local up --stack {stack}` first")
    return found


def host_status(name: str) -> dict[str, Any]:
    """The agent's status.json on one web machine, read from its disk on the host side."""
    try:
        data = json.loads((records.machine_dir(name) / "rootfs" / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pin_path(stack: str, name: str) -> Path:
    return store_dir(stack) / "releases" / PINS / f"{name}.json"


def pin(stack: str, name: str, release_id: str) -> None:
    path = pin_path(stack, name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(Pointer.to(release_id).to_json())
    tmp.chmod(0o644)
    tmp.replace(path)


def unpin(stack: str, name: str) -> None:
    pin_path(stack, name).unlink(missing_ok=True)


def stage(store: DirStore, prepared: Prepared) -> None:
    """Everything of `publish` but the stack's pointer: the roll moves the hosts, then the pointer."""
    store.put_artifact(prepared.artifact)
    store.put_secrets(prepared.manifest.secrets.version, prepared.secrets)
    store.put_manifest(prepared.manifest)


def deploy(settings: Any, secrets: Mapping[str, str], deadline_s: float = 900.0,
           progress: Progress = print) -> tuple[Prepared, Rolled]:
    """Builds the stack's release, publishes it and rolls it host by host."""
    stack = settings.stack
    store = DirStore(store_dir(stack))
    started = time.monotonic()
    prepared = prepare(settings, build_dir(stack), secrets)
    art = prepared.artifact
    progress(f"release {prepared.manifest.id}: artifact {art.sha256[:12]} ({art.bytes / 1e6:.1f} MB, {art.files} files) "
             f"built in {time.monotonic() - started:.1f} s")
    stage(store, prepared)
    rolled = roll(stack, settings.domain, prepared.manifest, deadline_s, progress)
    store.prune(keep=max(settings.app.keep_releases * 2, 10))
    return prepared, rolled


def rollback(stack: str, domain: str | None, to: str | None, deadline_s: float = 120.0, progress: Progress = print) -> Rolled:
    """Rolls an earlier release back host by host: `to`, else the one before the first host's live one."""
    store = DirStore(store_dir(stack))
    first = hosts(stack)[0]
    target = to or previous_good(host_status(first.machine))
    if target is None:
        raise ReleaseFailed(f"stack {stack}: no earlier good release to roll back to (see `launchpad releases --stack {stack}`)")
    manifest = store.get_manifest(target)
    if manifest is None:
        known = ", ".join(m.id for m in store.list_manifests()[:10]) or "none"
        raise ReleaseFailed(f"release {target!r} is not in stack {stack}'s store; known: {known}")
    return roll(stack, domain, manifest, deadline_s, progress)


class LocalFleet:
    """The local target's adapter for the shared loop (launchpad/release/rolling.py): HAProxy's
    runtime API drains and rejoins, the agent's status is read from the machine's disk, and a
    host serves a release when a GET of the machine itself says so."""

    def __init__(self, stack: str, domain: str | None, fleet_hosts: list[Host], store: DirStore) -> None:
        self.stack, self.domain, self.store = stack, domain, store
        self.by_name = {h.machine: h for h in fleet_hosts}

    def hosts(self) -> list[str]:
        return list(self.by_name)

    def status(self, host: str) -> dict[str, Any]:
        return host_status(host)

    def drain(self, host: str) -> float:
        return balancer.drain(self.stack, self.by_name[host].server)

    def pin(self, host: str, release_id: str) -> None:
        pin(self.stack, host, release_id)

    def unpin(self, host: str) -> None:
        unpin(self.stack, host)

    def poke(self, host: str) -> None:
        poke_machine(host)

    def wait(self, host: str, manifest: Manifest, deadline_s: float, before: Any, progress: Progress) -> None:
        _wait_host(self.by_name[host], self.domain, manifest, deadline_s, before, progress)

    def rejoin(self, host: str) -> float:
        return balancer.rejoin(self.stack, self.by_name[host].server)

    def set_pointer(self, release_id: str) -> None:
        self.store.set_desired(release_id)


def roll(stack: str, domain: str | None, manifest: Manifest, deadline_s: float, progress: Progress = print) -> Rolled:
    store = DirStore(store_dir(stack))
    fleet_hosts = hosts(stack)
    pointer = store.get_desired()
    live = [v for v in (host_status(h.machine).get("live") for h in fleet_hosts) if v]
    old_id = pointer.id if pointer else (live[0] if live else None)
    old = store.get_manifest(old_id) if old_id else None
    try:
        done = rolling.roll(LocalFleet(stack, domain, fleet_hosts, store), manifest, old, deadline_s, progress)
    except rolling.RollStopped as err:
        raise ReleaseFailed(str(err)) from None
    return Rolled(done.release, done.seconds, [{"machine": h.pop("host"), **h} for h in done.hosts])


def poke_machine(name: str) -> None:
    machine.run(name, ["systemctl", "start", "--no-block", "launchpad-agent.service"])


def _wait_host(h: Host, domain: str | None, manifest: Manifest, deadline_s: float, before: Any, progress: Progress) -> None:
    url = f"http://{h.address}{manifest.health_path or '/'}"
    started = time.monotonic()
    last = wait.Probe(False, "nothing yet")
    said = ""
    while time.monotonic() - started < deadline_s:
        failure = host_status(h.machine).get("last_failure")
        if isinstance(failure, dict) and failure.get("id") == manifest.id and failure != before:
            raise ReleaseFailed(rolling.failure_text(failure))
        last = wait.probe(url, domain, database=False, release=manifest.id, lenient=manifest.health_path is None, timeout=5.0)
        if last.healthy:
            return
        if last.seen != said:
            progress(f"  {h.machine}: waiting for {manifest.id}: {last.seen}")
            said = last.seen
        time.sleep(POLL_S)
    raise TimeoutError(f"{h.machine}: release {manifest.id} not live within {deadline_s:g} s: GET {url}; last seen: {last.seen}")


def history(stack: str) -> list[dict[str, Any]]:
    """The store's releases, newest first, with the first host's view and where each one is live."""
    store = DirStore(store_dir(stack))
    statuses = {h.machine: host_status(h.machine) for h in hosts(stack)}
    first = next(iter(statuses.values()))
    rows = merge_history(store.list_manifests(), first, store.get_desired())
    for row in rows:
        row["live_on"] = [name for name, st in statuses.items() if st.get("live") == row["id"]]
        row["live"] = bool(row["live_on"])
    return rows


def live_releases(stack: str) -> dict[str, str | None]:
    """Each web machine's live release (what `launchpad status` shows per host)."""
    return {h.machine: host_status(h.machine).get("live") for h in hosts(stack)}

