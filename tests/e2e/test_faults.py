"""The stack keeps serving through the faults of real life, under a steady, bounded request loop.

The app runs as a release in one of two blue/green slots (`rocket@a`/`rocket@b`, each a
socket-activated gunicorn behind `/run/rocket-<slot>.sock`); the faults hit the live one.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from launchpad.local import machine
from launchpad.local import release as local_release
from launchpad.local import stack as local_stack

from .conftest import E2E_CONFIG
from .load import Load
from .update import changed_app, deploy, with_app

pytestmark = pytest.mark.e2e
STACK = "e2e"
WEB = local_stack.web_name(STACK)


def sh(script: str, check: bool = True) -> str:
    return machine.run(WEB, ["sh", "-c", script], check=check).stdout.strip()


def live_unit() -> str:
    """The live slot's service, as the agent recorded it."""
    slot = (local_release.host_status(STACK) or {}).get("slot")
    assert slot in ("a", "b"), f"no live slot: {local_release.host_status(STACK)}"
    return f"rocket@{slot}.service"


def load_for(stack: local_stack.StackStatus) -> Load:
    assert stack.address
    return Load(stack.address, host="rocket.test", threads=3, rate=30, max_seconds=90)


def main_pid() -> int:
    return int(sh(f"systemctl show -p MainPID --value {live_unit()}"))


def settle(load: Load, seconds: float = 1.5) -> float:
    time.sleep(seconds)
    return time.monotonic()


def test_kill_9_one_worker_fails_nothing(e2e_stack: local_stack.StackStatus) -> None:
    """A GET in flight on the killed worker is passed again to the slot (nginx's upstream has
    the live socket twice, the second as backup), so not even that one fails."""
    with load_for(e2e_stack) as load:
        since = settle(load)
        for _ in range(3):
            worker = sh(f"pgrep -P {main_pid()} | head -n 1")
            sh(f"kill -9 {worker}")
            time.sleep(1.5)
        time.sleep(1.5)
    load.report("kill -9 a gunicorn worker x3", since)
    assert load.failed(since) == []
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
    # systemd holds the slot's socket: requests queue until the new master takes them, and the
    # ones its killed workers had in flight are passed again to the slot.
    assert load.failed(since) == []


def test_graceful_reload_drops_nothing(e2e_stack: local_stack.StackStatus) -> None:
    with load_for(e2e_stack) as load:
        since = settle(load)
        for _ in range(3):
            sh(f"systemctl reload {live_unit()}")
            time.sleep(1.5)
    load.report("systemctl reload (HUP) x3", since)
    assert load.failed(since) == []


def test_app_code_update_drops_nothing(e2e_stack: local_stack.StackStatus, tmp_path: Path) -> None:
    """`launchpad deploy` of a changed app: a new release in the idle slot, switched blue/green."""
    marker = f"v{int(time.time())}"
    settings = with_app(E2E_CONFIG, STACK, changed_app(tmp_path / "app", marker))
    before = live_unit()
    with load_for(e2e_stack) as load:
        since = settle(load)
        started = time.monotonic()
        release = deploy(settings)
        took = time.monotonic() - started
        load.wait_for(lambda rs: any(marker.encode() in r.body for r in rs), timeout=20)
        time.sleep(1)
    load.report(f"app code update: launchpad deploy, release {release} live in {took:.1f} s", since)
    assert load.failed(since) == []
    assert load.ok(since)[-1].body.endswith(marker.encode())
    assert live_unit() != before  # the other slot serves it
    assert (local_release.host_status(STACK) or {}).get("live") == release


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
