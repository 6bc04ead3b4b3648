"""Redeploy under load: requests failed while a changed app ships as a release and gunicorn reloads.

wrk keeps a steady closed-loop load on the rendered stack (through Nginx, on the
machine's loopback) while a new release of the app (one line changed) ships the way an
update reaches a host: `launchpad deploy` (launchpad.local.release.deploy: artifact built
and published to the stack's store, the agent rolls it into the idle blue/green slot,
health-checks it, switches Nginx, drains the old slot). Then two `systemctl reload`s (HUP)
of the live slot. Every non-2xx answer and socket error counts.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import wrk
from bench.serving import InMachine
from launchpad.local import machine
from launchpad.local import release as local_release
from launchpad.release.publish import stack_secrets
from launchpad.settings import validate

HELLO = b'return "Hello World!"'


def changed_app(app: Path, dest: Path, marker: str) -> Path:
    """A copy of the app with its Hello World line changed."""
    shutil.copytree(app, dest, ignore=shutil.ignore_patterns("__pycache__", ".venv", ".git"))
    for code in dest.rglob("rocket.py"):
        body = code.read_bytes()
        if HELLO in body:
            code.write_bytes(body.replace(HELLO, f'return "Hello World! {marker}"'.encode()))
            return dest
    raise RuntimeError("redeploy: the sample app's Hello World line was not found to change")


def run(m: InMachine, app_path: Path, connections: int = 32, seconds: float = 30.0, progress: Any = print) -> dict[str, Any]:
    stack = m.name.removeprefix("lp-")
    state = machine.status(m.name)
    if state is None or not state.address:
        raise RuntimeError(f"redeploy: machine {m.name} is not running")
    marker = f"v{int(time.time())}"
    with tempfile.TemporaryDirectory(prefix="lp-redeploy-") as tmp:
        # rateLimit 0: wrk's connections all come from one address.
        settings = validate({"launchpad:provider": "local", "launchpad:rateLimit": 0,
                             "launchpad:app": {"path": str(changed_app(app_path, Path(tmp) / "app", marker))}}, stack)
        box: dict[str, wrk.WrkResult] = {}
        load = threading.Thread(target=lambda: box.setdefault("r", wrk.run(m.name, "http://127.0.0.1/", connections, seconds)))
        load.start()
        time.sleep(4)
        started = time.monotonic()
        prepared, live = local_release.deploy(settings, stack_secrets(settings), state.address, progress=lambda line: None)
        deploy_s = time.monotonic() - started
    served = ""
    end = time.monotonic() + 20
    while marker not in served and time.monotonic() < end:
        served = m.sh("curl -s http://127.0.0.1/", check=False)
        time.sleep(0.2)
    new_code_s = time.monotonic() - started
    slot = (local_release.host_status(stack) or {}).get("slot")
    for _ in range(2):
        time.sleep(3)
        m.sh(f"systemctl reload {m.app}@{slot}.service")
    load.join()
    r = box["r"]
    progress(f"  redeploy: {r.requests} requests in {r.seconds:.0f} s, {r.errors} failed; release {live.release} live "
             f"{deploy_s:.1f} s after deploy started, new code served after {new_code_s:.1f} s")
    return {"connections": connections, "seconds": r.seconds, "requests": r.requests, "failed": r.errors,
            "rps": round(r.rps), "p99_ms": r.p99_ms, "deploy_s": round(deploy_s, 1), "new_code_after_s": round(new_code_s, 1),
            "new_code_served": marker in served, "reloads": 2, "release": live.release,
            "artifact_bytes": prepared.artifact.bytes, "how": "release"}
