"""Releases on the local target: publish into the stack's store folder, poke the agent, wait for the id.

The store is a host folder, `/var/lib/launchpad/stacks/<stack>/store/` (root-only), that the
web machine sees read-only at /var/lib/launchpad/store (a bind mount, `binds()`); the host's
pip wheel cache is shared read-write at the same path in every machine, so tests and
rehearsals do not download the same wheels on every boot. The agent inside is the same one
a cloud host runs; here it is poked through the machine API instead of waiting for its
2-second timer.

A release is live when Nginx answers the health path with `X-Launchpad-Release: <id>`
(and a healthy status); if the agent refuses it first, its `last_failure` (stage, exit
code, output tail) from /var/lib/launchpad/release/status.json is the error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launchpad import wait
from launchpad.local import machine, records
from launchpad.release.manifest import Manifest, Pointer
from launchpad.release.publish import Prepared, build_dir, prepare, publish
from launchpad.release.rolling import failure_text
from launchpad.release.store import DirStore
from launchpad.render import release_host

STORE_IN_MACHINE = "/var/lib/launchpad/store"
PIP_CACHE = Path("/var/cache/launchpad/pip")
STATUS_FILE = "var/lib/launchpad/release/status.json"
AGENT_UNIT = "launchpad-agent.service"
POLL_S = 0.25

Progress = Callable[[str], None]


class ReleaseFailed(RuntimeError):
    """The agent refused the release; the message carries its stage, exit code and output tail."""


def web_name(stack: str) -> str:
    return f"lp-{stack}"


def store_dir(stack: str) -> Path:
    return records.STATE_ROOT / "stacks" / stack / "store"


def binds(stack: str) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(read-only, read-write) bind mounts of the web machine: host path -> machine path.
    The store already holds the release agent: the bootstrap copies it from there at first boot."""
    store_dir(stack).mkdir(parents=True, exist_ok=True, mode=0o700)
    put_agent(store_dir(stack))
    PIP_CACHE.mkdir(parents=True, exist_ok=True, mode=0o755)
    return [(store_dir(stack), STORE_IN_MACHINE)], [(PIP_CACHE, str(PIP_CACHE))]


def put_agent(store: Path) -> Path:
    """The release agent at the store's `agent/<sha256>.pyz` (as the cloud stores hold it), which
    the bootstrap runs only if its sha256 is the one pinned in user-data. Written once per agent
    version, atomically: a machine booting meanwhile never copies half a file."""
    target = store / release_host.agent_key()
    if not target.is_file():
        target.parent.mkdir(mode=0o700, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(release_host.agent_pyz())
        tmp.chmod(0o644)
        tmp.replace(target)
    return target


def host_status(stack: str) -> dict[str, Any] | None:
    """The agent's status.json, read from the machine's disk on the host side."""
    path = records.machine_dir(web_name(stack)) / "rootfs" / STATUS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _failed_since(status: Mapping[str, Any] | None, release_id: str, before: Any) -> Mapping[str, Any] | None:
    if not status:
        return None
    failure = status.get("last_failure")
    if isinstance(failure, dict) and failure.get("id") == release_id and failure != before:
        return failure
    return None


def poke(stack: str) -> None:
    """Start the agent's sync now (it also runs every 2 s); --no-block: a deploy may take a while."""
    machine.run(web_name(stack), ["systemctl", "start", "--no-block", AGENT_UNIT])


@dataclass(frozen=True)
class Live:
    release: str
    seconds: float
    url: str


def wait_live(stack: str, address: str, domain: str | None, manifest: Manifest, deadline_s: float,
              before: Any = None, progress: Progress = print) -> Live:
    """Until Nginx serves `manifest.id` healthily, or the agent records it refused; seconds taken."""
    path = manifest.health_path or "/"
    url = f"http://{address}{path}"
    started = time.monotonic()
    last = wait.Probe(False, "nothing yet")
    said = ""
    while time.monotonic() - started < deadline_s:
        failure = _failed_since(host_status(stack), manifest.id, before)
        if failure is not None:
            raise ReleaseFailed(failure_text(failure))
        last = wait.probe(url, domain, database=False, release=manifest.id, lenient=manifest.health_path is None,
                          timeout=5.0)
        if last.healthy:
            return Live(manifest.id, time.monotonic() - started, url)
        if last.seen != said:
            progress(f"  waiting for release {manifest.id}: {last.seen}")
            said = last.seen
        time.sleep(POLL_S)
    status = host_status(stack) or {}
    raise TimeoutError(f"release {manifest.id} not live within {deadline_s:g} s: GET {url}"
                       + (f" (Host: {domain})" if domain else "") + f"\nlast seen: {last.seen}\n"
                       f"host says: live {status.get('live')!r}; see `sudo launchpad local logs --stack {stack}`")


def roll(stack: str, address: str, domain: str | None, manifest: Manifest, deadline_s: float,
         point: Callable[[], Pointer], progress: Progress = print) -> Live:
    """Points the store at `manifest` (via `point`), pokes the agent and waits for it to be live."""
    before = (host_status(stack) or {}).get("last_failure")
    point()
    poke(stack)
    return wait_live(stack, address, domain, manifest, deadline_s, before, progress)


def deploy(settings: Any, secrets: Mapping[str, str], address: str, deadline_s: float = 900.0,
           progress: Progress = print) -> tuple[Prepared, Live]:
    """Builds the stack's release, publishes it to the store and waits for it to be live."""
    stack = settings.stack
    store = DirStore(store_dir(stack))
    started = time.monotonic()
    # Built where `pulumi up` builds it too (an unchanged app is not packed twice), then copied
    # into the store's artifacts/<sha256>.tar.gz, where the agent looks.
    prepared = prepare(settings, build_dir(stack), secrets)
    art = prepared.artifact
    progress(f"release {prepared.manifest.id}: artifact {art.sha256[:12]} ({art.bytes / 1e6:.1f} MB, {art.files} files, "
             f"deps {art.deps} {art.deps_hash}) built in {time.monotonic() - started:.1f} s")
    live = roll(stack, address, settings.domain, prepared.manifest, deadline_s, lambda: publish(store, prepared), progress)
    store.prune(keep=max(settings.app.keep_releases * 2, 10))
    return prepared, live


def rollback(stack: str, address: str, domain: str | None, to: str | None, deadline_s: float = 60.0,
             progress: Progress = print) -> Live:
    """Makes an earlier release live: `to`, else the newest release before the live one that the host ran."""
    store = DirStore(store_dir(stack))
    status = host_status(stack) or {}
    target = to or previous_good(status)
    if target is None:
        raise ReleaseFailed(f"stack {stack}: no earlier good release to roll back to (see `launchpad releases --stack {stack}`)")
    manifest = store.get_manifest(target)
    if manifest is None:
        known = ", ".join(m.id for m in store.list_manifests()[:10]) or "none"
        raise ReleaseFailed(f"release {target!r} is not in stack {stack}'s store; known: {known}")
    return roll(stack, address, domain, manifest, deadline_s, lambda: store.set_desired(target), progress)


def previous_good(status: Mapping[str, Any]) -> str | None:
    live = status.get("live")
    entries = sorted(status.get("history") or [], key=lambda e: str(e.get("at") or ""), reverse=True)
    for entry in entries:
        if entry.get("id") != live and entry.get("status") in ("previous", "live"):
            return str(entry["id"])
    return None


def history(stack: str) -> list[dict[str, Any]]:
    """Every release the store knows, newest first, with what the host says of it."""
    store = DirStore(store_dir(stack)) if store_dir(stack).is_dir() else None
    status = host_status(stack) or {}
    return merge_history(store.list_manifests() if store else [], status,
                         store.get_desired() if store else None)


def merge_history(manifests: list[Manifest], status: Mapping[str, Any], desired: Pointer | None) -> list[dict[str, Any]]:
    on_host = {str(e.get("id")): e for e in status.get("history") or []}
    rows = []
    for m in manifests:
        host = on_host.get(m.id, {})
        rows.append({
            "id": m.id, "created": m.created, "source_hash": m.source_hash, "deps_hash": m.deps_hash,
            "deployed_at": host.get("at"), "status": host.get("status", "published"), "took_s": host.get("took_s"),
            "live": m.id == status.get("live"), "desired": desired is not None and desired.id == m.id,
        })
    return rows
