"""Redeploy under load: requests failed while the app code is updated and gunicorn reloaded.

wrk keeps a steady closed-loop load on the rendered stack (through Nginx, on the
machine's loopback) while a new release of the app (one line changed) is pushed
the way an update reaches a host: the packed app replaced, then
/usr/local/sbin/launchpad-deploy (new release dir, `current` symlink swap, HUP).
Then two plain `systemctl reload`s. Every non-2xx answer and socket error counts.
"""

from __future__ import annotations

import base64
import io
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import wrk
from bench.serving import InMachine
from launchpad import app_bundle
from launchpad.local import machine

TARBALL = "/var/lib/launchpad/app.tar.gz"


def packed_update(app: Path, marker: str) -> str:
    """The app with its Hello World line changed, packed as user-data carries it."""
    data = base64.b64decode(app_bundle.pack_b64(app))
    out = io.BytesIO()
    changed = False
    with tarfile.open(fileobj=io.BytesIO(data)) as src, tarfile.open(fileobj=out, mode="w:gz") as dst:
        for member in src.getmembers():
            f = src.extractfile(member)
            body = f.read() if f else b""
            if member.name.endswith("rocket.py"):
                new = body.replace(b'return "Hello World!"', f'return "Hello World! {marker}"'.encode())
                changed = new != body
                body, member.size = new, len(new)
            dst.addfile(member, io.BytesIO(body) if member.isfile() else None)
    if not changed:
        raise RuntimeError("redeploy: the sample app's Hello World line was not found to change")
    return base64.b64encode(out.getvalue()).decode()


def run(m: InMachine, app_path: Path, connections: int = 32, seconds: float = 30.0, progress: Any = print) -> dict[str, Any]:
    marker = f"v{int(time.time())}"
    update = packed_update(app_path, marker)
    box: dict[str, wrk.WrkResult] = {}
    load = threading.Thread(target=lambda: box.setdefault("r", wrk.run(m.name, "http://127.0.0.1/", connections, seconds)))
    load.start()
    time.sleep(4)
    started = time.monotonic()
    machine.run(m.name, ["sh", "-c", f"base64 -d > {TARBALL}.new && mv {TARBALL}.new {TARBALL}"], input=update)
    m.sh("/usr/local/sbin/launchpad-deploy")
    deploy_s = time.monotonic() - started
    served = ""
    end = time.monotonic() + 20
    while marker not in served and time.monotonic() < end:
        served = m.sh("curl -s http://127.0.0.1/", check=False)
        time.sleep(0.2)
    new_code_s = time.monotonic() - started
    for _ in range(2):
        time.sleep(3)
        m.sh(f"systemctl reload {m.app}.service")
    load.join()
    r = box["r"]
    progress(f"  redeploy: {r.requests} requests in {r.seconds:.0f} s, {r.errors} failed; deploy took {deploy_s:.1f} s, "
             f"new code served after {new_code_s:.1f} s")
    return {"connections": connections, "seconds": r.seconds, "requests": r.requests, "failed": r.errors,
            "rps": round(r.rps), "p99_ms": r.p99_ms, "deploy_s": round(deploy_s, 1), "new_code_after_s": round(new_code_s, 1),
            "new_code_served": marker in served, "reloads": 3}
