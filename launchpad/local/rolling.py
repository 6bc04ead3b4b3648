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
from launchpad.local.release import STATUS_FILE, ReleaseFailed, describe_failure, merge_history, previous_good, store_dir
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


def roll(stack: str, domain: str | None, manifest: Manifest, deadline_s: float, progress: Progress = print) -> Rolled:
    store = DirStore(store_dir(stack))
    fleet_hosts = hosts(stack)
    started = time.monotonic()
    live = {h.machine: host_status(h.machine).get("live") for h in fleet_hosts}
    if not any(live.values()):
        return _everywhere(stack, domain, manifest, fleet_hosts, store, deadline_s, progress)
    pointer = store.get_desired()
    old = pointer.id if pointer else next(v for v in live.values() if v)
    result = Rolled(manifest.id, 0.0)
    done: list[Host] = []
    for h in fleet_hosts:
        if live[h.machine] == manifest.id:
            progress(f"  {h.machine}: already serves {manifest.id}")
            continue
        try:
            result.hosts.append(_one(stack, domain, h, manifest, deadline_s, progress))
        except (ReleaseFailed, TimeoutError, balancer.BalancerError) as err:
            progress(f"  {h.machine}: refused {manifest.id}; stopping the roll")
            unpin(stack, h.machine)
            _rejoin_quietly(stack, h, progress)
            _back(stack, domain, store, old, done, deadline_s, progress)
            untouched = [x.machine for x in fleet_hosts if x not in done and x != h]
            raise ReleaseFailed(f"rolling release {manifest.id} stopped at {h.machine} (host {fleet_hosts.index(h) + 1} of "
                                f"{len(fleet_hosts)}): {err}\n{h.machine} kept serving {live[h.machine]}; "
                                + (f"rolled back: {', '.join(x.machine for x in done)}; " if done else "")
                                + (f"not touched: {', '.join(untouched)}" if untouched else "no other host")) from None
        done.append(h)
    store.set_desired(manifest.id)
    for h in fleet_hosts:
        unpin(stack, h.machine)
    result.seconds = time.monotonic() - started
    return result


def _one(stack: str, domain: str | None, h: Host, manifest: Manifest, deadline_s: float, progress: Progress) -> dict[str, Any]:
    drained = balancer.drain(stack, h.server)
    progress(f"  {h.machine}: drained in {drained:.1f} s; pointing it at {manifest.id}")
    before = host_status(h.machine).get("last_failure")
    pointed = time.monotonic()
    pin(stack, h.machine, manifest.id)
    poke_machine(h.machine)
    _wait_host(h, domain, manifest, deadline_s, before, progress)
    took = time.monotonic() - pointed
    rejoined = balancer.rejoin(stack, h.server)
    progress(f"  {h.machine}: serves {manifest.id} ({took:.1f} s after it was pointed), back in rotation ({rejoined:.1f} s)")
    return {"machine": h.machine, "took_s": round(took, 2), "drained_s": round(drained, 2), "rejoined_s": round(rejoined, 2)}


def _back(stack: str, domain: str | None, store: DirStore, old: str, done: list[Host], deadline_s: float,
          progress: Progress) -> None:
    """Hosts already switched go back to `old` the same way (drained, pointed, healthy, rejoined)."""
    manifest = store.get_manifest(old)
    for h in reversed(done):
        try:
            if manifest is not None:
                _one(stack, domain, h, manifest, deadline_s, progress)
        finally:
            unpin(stack, h.machine)


def _rejoin_quietly(stack: str, h: Host, progress: Progress) -> None:
    try:
        balancer.rejoin(stack, h.server)
    except balancer.BalancerError as err:
        # Its old release may be unhealthy for reasons of its own; HAProxy keeps checking it.
        progress(f"  {h.machine}: not UP again yet ({err})")


def _everywhere(stack: str, domain: str | None, manifest: Manifest, fleet_hosts: list[Host], store: DirStore,
                deadline_s: float, progress: Progress) -> Rolled:
    started = time.monotonic()
    befores = {h.machine: host_status(h.machine).get("last_failure") for h in fleet_hosts}
    for h in fleet_hosts:
        unpin(stack, h.machine)
    store.set_desired(manifest.id)
    progress(f"  no host serves a release yet: {manifest.id} everywhere at once")
    for h in fleet_hosts:
        poke_machine(h.machine)
    result = Rolled(manifest.id, 0.0)
    for h in fleet_hosts:
        _wait_host(h, domain, manifest, max(1.0, deadline_s - (time.monotonic() - started)), befores[h.machine], progress)
        result.hosts.append({"machine": h.machine, "took_s": round(time.monotonic() - started, 2)})
        balancer.wait_status(stack, h.server, "UP", 30.0)
    result.seconds = time.monotonic() - started
    return result


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
            raise ReleaseFailed(describe_failure(failure))
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

