"""bench/balancer.py's report from a result, without machines."""

from __future__ import annotations

from bench import balancer


def result(background: float) -> dict:
    row = {"rps": 1000.0, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 0, "requests": 8000, "spread": None}
    return {"when": "2026-01-01 00:00 UTC", "host": "vm", "cpus": 2, "boot_s": 90.0, "background_cores": background,
            "rounds": 3, "connections": 32, "seconds": 8.0,
            "summary": {"direct": row, "1": {**row, "rps": 900.0, "spread": {"web-0": 8000, "web-1": 0}},
                        "2": {**row, "spread": {"web-0": 4000, "web-1": 4000}}, "3": row}}


def test_the_report_names_every_setup_and_says_when_the_host_was_busy() -> None:
    quiet = balancer.markdown(result(0.1))
    assert "| HAProxy -> 2 web machines | 1,000 |" in quiet and "web-0 4,000, web-1 4,000" in quiet
    assert "keeps 90% of that machine's direct throughput" in quiet and "0 of" not in quiet
    assert "shared the host with other work" not in quiet
    assert "shared the host with other work (1.5 of 2 cores busy" in balancer.markdown(result(1.5))
