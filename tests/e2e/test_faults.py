"""The stack keeps serving through the faults of real life, under a steady, bounded request loop."""

from __future__ import annotations

import base64
import io
import tarfile
import time
from pathlib import Path

import pytest

from launchpad import app_bundle
from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.settings import Settings

from .load import Load

pytestmark = pytest.mark.e2e
WEB = local_stack.web_name("e2e")


def sh(script: str, check: bool = True) -> str:
    return machine.run(WEB, ["sh", "-c", script], check=check).stdout.strip()


def load_for(stack: local_stack.StackStatus) -> Load:
    assert stack.address
    return Load(stack.address, host="rocket.test", threads=3, rate=30, max_seconds=90)


def main_pid() -> int:
    return int(sh("systemctl show -p MainPID --value rocket.service"))


def settle(load: Load, seconds: float = 1.5) -> float:
    time.sleep(seconds)
    return time.monotonic()


def test_kill_9_one_worker_fails_no_more_than_in_flight(e2e_stack: local_stack.StackStatus) -> None:
    with load_for(e2e_stack) as load:
        since = settle(load)
        worker = sh(f"pgrep -P {main_pid()} | head -n 1")
        sh(f"kill -9 {worker}")
        time.sleep(3)
    load.report("kill -9 one gunicorn worker", since)
    assert len(load.failed(since)) <= load.threads  # at most the requests in flight at the kill
    assert load.ok(time.monotonic() - 1.5)  # and it serves on


def test_kill_9_master_serves_again_within_5_s(e2e_stack: local_stack.StackStatus) -> None:
    with load_for(e2e_stack) as load:
        since = settle(load)
        old = main_pid()
        killed = time.monotonic()
        sh(f"kill -9 {old}")
        load.wait_for(lambda rs: any(r.t > killed + 0.2 and r.status == 200 for r in rs), timeout=15)
        back = min(r.t for r in load.ok(killed + 0.2))
        time.sleep(1)
    recovered = back - killed
    load.report(f"kill -9 gunicorn master (serving again after {recovered:.2f} s)", since)
    assert main_pid() != old
    assert recovered <= 5.0


def test_graceful_reload_drops_nothing(e2e_stack: local_stack.StackStatus) -> None:
    with load_for(e2e_stack) as load:
        since = settle(load)
        for _ in range(3):
            sh("systemctl reload rocket.service")
            time.sleep(1.5)
    load.report("systemctl reload (HUP) x3", since)
    assert load.failed(since) == []


def _packed_update(app: Path, marker: str) -> str:
    """The sample app with one line changed, packed the way user-data carries it."""
    data = base64.b64decode(app_bundle.pack_b64(app))
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as src, tarfile.open(fileobj=out, mode="w:gz") as dst:
        for m in src.getmembers():
            body = src.extractfile(m).read()  # type: ignore[union-attr]
            if m.name == "rocket.py":
                body = body.replace(b'return "Hello World!"', f'return "Hello World! {marker}"'.encode())
                m.size = len(body)
            dst.addfile(m, io.BytesIO(body))
    return base64.b64encode(out.getvalue()).decode()


def test_app_code_update_drops_nothing(e2e_stack: local_stack.StackStatus, e2e_settings: Settings) -> None:
    marker = f"v{int(time.time())}"
    update = _packed_update(e2e_settings.app_path, marker)
    with load_for(e2e_stack) as load:
        since = settle(load)
        machine.run(WEB, ["sh", "-c", "base64 -d > /var/lib/launchpad/app.tar.gz"], input=update)
        sh("/usr/local/sbin/launchpad-deploy")
        load.wait_for(lambda rs: any(marker.encode() in r.body for r in rs), timeout=20)
        time.sleep(1)
    load.report("app code update (new release + HUP)", since)
    assert load.failed(since) == []
    assert load.ok(since)[-1].body.endswith(marker.encode())


def test_broken_nginx_config_is_refused_and_old_config_serves(e2e_stack: local_stack.StackStatus) -> None:
    site = "/etc/nginx/sites-available/rocket"
    with load_for(e2e_stack) as load:
        since = settle(load)
        sh(f"cp {site} /root/site.good && echo 'server {{ listen 80; bogus_directive on; }}' >> {site}")
        try:
            refused = machine.run(WEB, ["systemctl", "reload", "nginx.service"], check=False)
            time.sleep(2)
        finally:
            sh(f"cp /root/site.good {site}")
    load.report("broken nginx config pushed", since)
    assert refused.returncode != 0
    assert "bogus_directive" in sh("journalctl -u nginx --no-pager -n 20", check=False)
    assert sh("systemctl is-active nginx.service") == "active"
    assert load.failed(since) == []
