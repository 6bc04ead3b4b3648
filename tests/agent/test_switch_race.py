"""After the nginx switch, the old slot is retired only once no worker from before the reload
can still accept: nginx's master starts the new workers and tells the old ones to quit ~100 ms
later, so a new worker answering with the new release proves nothing about the old ones (a
502 under load in tests/e2e/test_faults.py: the old slot was stopped inside that window)."""

from __future__ import annotations

import time

import pytest

from kit import agent

host_mod = agent("host")
rules = agent("rules")
WORKER, QUITTING = b"nginx: worker process\x00", b"nginx: worker process is shutting down\x00"


def test_waits_until_every_old_worker_quits_or_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = iter([{1: WORKER, 2: WORKER, 9: WORKER}, {1: QUITTING, 2: WORKER, 9: WORKER}, {1: QUITTING, 9: WORKER}])
    calls = []

    def workers() -> dict[int, bytes]:
        calls.append(1)
        return next(seen)

    monkeypatch.setattr(host_mod, "nginx_workers", workers)
    host_mod.wait_signalled({1, 2}, timeout=5)
    assert len(calls) == 3  # 9 is a new worker: never waited for


def test_gives_up_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_mod, "nginx_workers", lambda: {1: WORKER})
    started = time.monotonic()
    host_mod.wait_signalled({1}, timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 2


def test_titles_are_read_from_proc() -> None:
    assert all(title.startswith(b"nginx: worker process") for title in host_mod.nginx_workers().values())


def test_a_get_whose_worker_died_is_passed_again_to_the_live_slot() -> None:
    """The live socket twice (the second as backup), never marked down; retries only on an
    error within 10 s (nginx retries no POST). Proven against a real nginx and a socket that
    drops the first connection, and on a machine: tests/e2e/test_faults.py (kill -9)."""
    from launchpad.render.bootstrap import render_nginx_http
    from launchpad.settings import validate

    live = rules.live_conf("rocket", "b", "0123456789ab")
    assert "    server unix:/run/rocket-b.sock max_fails=0;\n    server unix:/run/rocket-b.sock max_fails=0 backup;\n" in live
    http = render_nginx_http(validate({}, "test"))
    assert "proxy_next_upstream error;\n" in http and "proxy_next_upstream_timeout 10s;\n" in http
