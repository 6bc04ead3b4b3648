"""`launchpad releases|rollback` on a cloud stack (aws, digitalocean): the store in its bucket.

The stack's `release_store` output says where the store is (`pulumi stack output`); the
manifests come from the bucket, the live release from the host itself (the
X-Launchpad-Release header on its public address). A rollback rewrites the desired pointer
with the deployer's credentials (launchpad/release/s3.py) and waits until the host serves
that id: the agent polls every 2 s, so this takes seconds, with no `pulumi up`.

A stack with several hosts behind a balancer (its `rollout` output) rolls back host by host
instead, the way `pulumi up` rolls a release: `python -m launchpad.ops.roll` in a process of its
own (it loads boto3, which the CLI never does), its progress on this terminal. `published`
reads what each host's agent last published (its live release), for `launchpad status`.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from typing import Any

from launchpad import wait
from launchpad.local.release import merge_history
from launchpad.ops.connect import Runner, capture, stack_outputs
from launchpad.release.manifest import Manifest
from launchpad.release.s3 import S3Store, StoreError, creds_from_env
from launchpad.settings import Settings

OUTPUT = "release_store"
ROLLOUT = "rollout"


class RollFailed(RuntimeError):
    """The host-by-host roll stopped; its own message (which host, why, what each serves) was printed."""


def _roll(outputs: dict[str, Any], extra: list[str], capture_stderr: bool = False) -> subprocess.CompletedProcess[str]:
    from launchpad.ops.roll import args_from_output

    try:
        args = args_from_output(dict(outputs[ROLLOUT]))
    except ValueError as err:
        raise StoreError(str(err)) from None
    return subprocess.run([sys.executable, "-m", "launchpad.ops.roll", *args, *extra], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE if capture_stderr else None, text=True, check=False)


def published(settings: Settings, run: Runner = capture) -> dict[str, dict[str, Any]]:
    """host id -> the status its agent last published ({} for a stack without a balancer)."""
    outputs = stack_outputs(settings.stack, run)
    if not isinstance(outputs.get(ROLLOUT), dict):
        return {}
    done = _roll(outputs, ["--status"], capture_stderr=True)
    if done.returncode != 0:
        raise StoreError(f"reading the hosts' published status: {(done.stderr or '').strip()[-500:]}")
    data = json.loads(done.stdout or "{}")
    return data if isinstance(data, dict) else {}


def store_for(settings: Settings, run: Runner = capture) -> tuple[S3Store, dict[str, Any]]:
    outputs = stack_outputs(settings.stack, run)
    where = outputs.get(OUTPUT)
    if not isinstance(where, dict) or not str(where.get("store", "")).startswith("s3://"):
        raise StoreError(f"stack {settings.stack} has no `{OUTPUT}` output yet: run `pulumi up --stack {settings.stack}` first")
    spaces = bool(where.get("endpoint"))
    store = S3Store(str(where["store"]), str(where.get("region") or settings.resolved_region), creds_from_env(spaces),
                    endpoint=where.get("endpoint"))
    return store, outputs


def live_release(address: str, domain: str | None, path: str | None) -> str | None:
    """The release the host serves, from the X-Launchpad-Release header Nginx adds (None: none yet, or no answer)."""
    conn = http.client.HTTPConnection(address, 80, timeout=10)
    try:
        conn.request("GET", path or "/", headers={"Host": domain or address, "User-Agent": "launchpad-releases"})
        resp = conn.getresponse()
        resp.read(1024)
        live = resp.getheader(wait.RELEASE_HEADER)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    return live if live and live != "none" else None


def history(settings: Settings, run: Runner = capture) -> list[dict[str, Any]]:
    """The store's releases, newest first; behind a balancer each row also says on which hosts it is
    live (`live_on`, from what their agents published), since the balancer's answer names one host's."""
    store, outputs = store_for(settings, run)
    manifests = store.list_manifests()
    live = live_release(str(outputs.get("public_ip")), settings.domain, settings.app.health_path)
    rows = merge_history(manifests, {"live": live, "history": []}, store.get_desired())
    if isinstance(outputs.get(ROLLOUT), dict):
        statuses = published(settings, run)
        for row in rows:
            row["live_on"] = sorted(host for host, st in statuses.items() if st.get("live") == row["id"])
            row["live"] = bool(row["live_on"])
    return rows


def previous(manifests: list[Manifest], live: str | None) -> str | None:
    """The newest release published before the live one."""
    ids = [m.id for m in manifests]
    if live in ids:
        older = ids[ids.index(live) + 1:]
        return older[0] if older else None
    return ids[1] if len(ids) > 1 else None


def rollback(settings: Settings, to: str | None, deadline_s: float, run: Runner = capture) -> tuple[str, float]:
    store, outputs = store_for(settings, run)
    address = str(outputs.get("public_ip"))
    manifests = store.list_manifests()
    target = to or previous(manifests, live_release(address, settings.domain, settings.app.health_path))
    if target is None:
        raise StoreError(f"stack {settings.stack}: no earlier release to roll back to (`launchpad releases --stack {settings.stack}`)")
    manifest = next((m for m in manifests if m.id == target), None) or store.get_manifest(target)
    if manifest is None:
        raise StoreError(f"release {target!r} is not in {store.url}")
    started = time.monotonic()
    if isinstance(outputs.get(ROLLOUT), dict):  # several hosts: one by one through the balancer
        if _roll(outputs, ["--release", target, "--timeout", str(deadline_s)]).returncode != 0:
            raise RollFailed(f"the roll back to {target} stopped; see above")
        return target, time.monotonic() - started
    store.set_desired(target)
    url = f"http://{address}{manifest.health_path or '/'}"
    wait.until_healthy(url, settings.domain, timeout=deadline_s, interval=0.5, release=target,
                       lenient=manifest.health_path is None)
    return target, time.monotonic() - started
