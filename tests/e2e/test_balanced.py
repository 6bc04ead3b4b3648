"""Issue 14 on the local target: `hosts: 3` is three web machines behind an HAProxy machine, end to end.

As a user runs it (`launchpad local up`, `deploy`, `status`, `releases`): the balancer spreads
requests over every web machine; the app sees the real client, whatever X-Forwarded-For the
client forged; a release rolls host by host (drained, pointed, healthy, rejoined) with no failed
request under a steady loop; a broken release stops at the first host and leaves every host on
the release it served; `launchpad status` shows each host's live release; the per-client rate
limit holds behind the balancer (keyed on the real client, not the balancer); a web machine
killed under load costs no request (HAProxy retries on another host, then marks it down).

The steady loops stay under the rate limit (20 r/s per client per host, the default), so they
count every answer but 200 as failed, 429 included. The commands read `Pulumi.lb3.yaml`,
written only around each command (other test runs glob the project's stack files).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from facts import fact
from launchpad.local import balancer, fleet, machine, rolling
from launchpad.local import release as local_release
from launchpad.settings import PROJECT_ROOT

from .conftest import cli
from .load import Load

pytestmark = pytest.mark.e2e
STACK = "lb3"
STACK_FILE = PROJECT_ROOT / f"Pulumi.{STACK}.yaml"
WEB = [f"lp-{STACK}-web-{i}" for i in range(3)]
RATE = 15.0
"""The steady loop, requests/s in all: under the limit even while one host of three is drained."""


def config(app: Path, version: str, release: str | None = None) -> dict:
    return {"config": {
        "launchpad:provider": "local",
        "launchpad:hosts": 3,
        "launchpad:app": {"path": str(app), "healthPath": "/healthz", "workers": 2, "env": {"APP_VERSION": version},
                          **({"release": release} if release else {})},
    }}


@contextmanager
def stack_file(app: Path, version: str, release: str | None = None) -> Iterator[None]:
    STACK_FILE.write_text(yaml.safe_dump(config(app, version, release), sort_keys=False))
    try:
        yield
    finally:
        STACK_FILE.unlink(missing_ok=True)


def run(app: Path, version: str, *args: str, release: str | None = None) -> Any:
    with stack_file(app, version, release):
        return cli(*args, "--stack", STACK)


def get(address: str, path: str = "/", headers: dict[str, str] | None = None,
        source: str | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(address, 80, timeout=10, source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def live() -> dict[str, str | None]:
    return rolling.live_releases(STACK)


def history_at(name: str, release_id: str) -> str | None:
    entries = [h for h in rolling.host_status(name).get("history", []) if h["id"] == release_id]
    return entries[0]["at"] if entries else None


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample app, saying which machine answered (nothing else changed)."""
    folder = tmp_path_factory.mktemp("balanced") / "app"
    shutil.copytree(PROJECT_ROOT / "files" / "app", folder)
    code = (folder / "rocket.py").read_text()
    code = code.replace("import os\n", "import os\nimport socket\n", 1).replace(
        "return jsonify(remote_addr=request.remote_addr,",
        "return jsonify(machine=socket.gethostname(), version=os.environ.get('APP_VERSION'), remote_addr=request.remote_addr,")
    (folder / "rocket.py").write_text(code)
    return folder


@pytest.fixture(scope="module")
def stack(app: Path) -> Iterator[dict]:
    try:
        started = time.monotonic()
        out = run(app, "1", "local", "up")
        print(out.stdout, out.stderr)
        assert out.returncode == 0, out.stderr[-4000:]
        took = time.monotonic() - started
        first = re.search(r"release ([0-9a-f]{12}) live", out.stdout + out.stderr)
        assert first, out.stdout
        lb = machine.status(balancer.name(STACK))
        assert lb is not None and lb.address == balancer.address(STACK)
        fact(f"balanced e2e: `launchpad local up` with hosts: 3 (3 web machines + HAProxy, first release on all) in {took:.1f} s")
        yield {"address": lb.address, "client": lb.host_address, "first": first.group(1)}
    finally:
        cli("local", "down", "--stack", STACK)
        STACK_FILE.unlink(missing_ok=True)


def test_three_web_machines_behind_the_balancer_serve_the_first_release(stack: dict) -> None:
    assert [m.name for m in fleet.web_machines(STACK)] == WEB
    assert all(m.state == "running" for m in fleet.web_machines(STACK))
    assert live() == {name: stack["first"] for name in WEB}
    seen = {json.loads(get(stack["address"], "/whoami")[2])["machine"] for _ in range(9)}
    assert seen == set(WEB)  # round robin over all three
    assert {s.status for s in balancer.servers(STACK).values()} == {"UP"}
    # Only the balancer may open connections to the web machines (the host's nft table).
    for name in WEB:
        assert machine.status(name).ingress == [(balancer.name(STACK), 80)]  # type: ignore[union-attr]


def test_the_app_sees_the_real_client_whatever_it_forges(stack: dict) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Real-IP": "203.0.113.9"}
    for _ in range(3):
        code, _, body = get(stack["address"], "/whoami", forged)
        seen = json.loads(body)
        assert code == 200 and (seen["remote_addr"], seen["scheme"]) == (stack["client"], "http"), seen
    # Straight to a web machine (not through the balancer): nginx believes no header from this host either.
    web0 = machine.status(WEB[0])
    assert web0 is not None
    seen = json.loads(get(web0.address, "/whoami", forged)[2])
    assert seen["remote_addr"] == web0.host_address
    fact(f"balanced e2e: forged X-Forwarded-For 203.0.113.9 through the balancer: the app sees {stack['client']} (the client)")


def test_a_release_rolls_host_by_host_without_a_failed_request(stack: dict, app: Path) -> None:
    with Load(stack["address"], path="/", threads=2, rate=RATE, max_seconds=300) as load:
        started = time.monotonic()
        out = run(app, "2", "deploy", "--json")
        took = time.monotonic() - started
        time.sleep(1.0)
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout)
    second = result["release"]
    assert second != stack["first"] and live() == {name: second for name in WEB}
    assert [h["machine"] for h in result["hosts"]] == WEB
    # One host at a time: each was drained, switched and back before the next one was pointed.
    log = out.stderr
    for before, after in zip(WEB, WEB[1:]):
        assert log.index(f"{before}: serves {second}") < log.index(f"{after}: drained"), log
    ats = [history_at(name, second) for name in WEB]
    assert all(ats) and ats == sorted(ats)  # as the agents themselves recorded it
    assert json.loads(get(stack["address"], "/whoami")[2])["version"] == "2"
    pins = local_release.store_dir(STACK) / "releases" / "desired"
    assert list(pins.glob("*.json")) == []
    assert json.loads((local_release.store_dir(STACK) / "releases" / "desired.json").read_text())["id"] == second
    fact(f"balanced e2e: rolling release over 3 hosts in {took:.1f} s (per host, pointed -> serving: "
         + ", ".join(f"{h['took_s']:.1f}" for h in result["hosts"]) + f" s); {len(load.results)} requests, "
         f"{len(load.failed())} failed")
    assert load.failed() == []
    stack["second"] = second


def test_a_broken_release_stops_after_the_first_host(stack: dict, app: Path) -> None:
    second = stack["second"]
    with Load(stack["address"], path="/", threads=2, rate=RATE, max_seconds=300) as load:
        out = run(app, "3", "deploy", release="echo 'broken on purpose by the balanced e2e' >&2; exit 3")
        time.sleep(1.0)
    assert out.returncode == 1
    assert f"stopped at {WEB[0]} (host 1 of 3)" in out.stderr and "broken on purpose" in out.stderr, out.stderr
    assert f"not touched: {WEB[1]}, {WEB[2]}" in out.stderr
    assert live() == {name: second for name in WEB}
    broken = rolling.host_status(WEB[0])["last_failure"]["id"]
    assert broken != second
    # The other hosts never saw it: no history entry, no failure.
    for name in WEB[1:]:
        assert history_at(name, broken) is None and (rolling.host_status(name).get("last_failure") or {}).get("id") != broken
    assert json.loads((local_release.store_dir(STACK) / "releases" / "desired.json").read_text())["id"] == second
    assert list((local_release.store_dir(STACK) / "releases" / "desired").glob("*.json")) == []
    assert {s.status for s in balancer.servers(STACK).values()} == {"UP"}
    fact(f"balanced e2e: broken release stopped at host 1 of 3, all on {second}; {len(load.results)} requests, "
         f"{len(load.failed())} failed")
    assert load.failed() == []


def test_status_and_releases_show_every_hosts_live_release(stack: dict, app: Path) -> None:
    out = run(app, "2", "status", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert [(h["name"], h["release"]["live"]) for h in report["hosts"]] == [(name, stack["second"]) for name in WEB]
    assert report["url"] == f"http://{stack['address']}/" and report["health"]["release"] == stack["second"]
    text = run(app, "2", "status").stdout
    print(text)
    for i, name in enumerate(WEB):
        assert re.search(rf"\[{i}\] {name} [0-9.]+: release {stack['second']} live", text), text
    rows = {r["id"]: r for r in json.loads(run(app, "2", "releases", "--json").stdout)}
    assert rows[stack["second"]]["live_on"] == WEB and rows[stack["first"]]["live_on"] == []


def test_the_rate_limit_holds_per_client_behind_the_balancer(stack: dict) -> None:
    other = machine.status(WEB[0]).host_address  # type: ignore[union-attr]  # another address of this host
    time.sleep(2.5)  # let the loops' buckets drain

    def flood(_: int) -> int:
        return get(stack["address"], "/")[0]

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(flood, range(360)))
    answers = [get(stack["address"], "/whoami", source=other) for _ in range(10)]
    limited = codes.count(429)
    assert set(codes) <= {200, 429} and limited > 0, codes
    # The other client was not limited by the first one's flood, and the app sees it as itself.
    assert [a[0] for a in answers] == [200] * 10
    assert {json.loads(a[2])["remote_addr"] for a in answers} == {other}
    fact(f"balanced e2e: one client's 360 quick requests: {limited} answered 429 (20 r/s, burst 40, per host); "
         f"another client meanwhile: 10 of 10 answered 200")


def test_a_web_machine_killed_under_load_costs_no_request(stack: dict) -> None:
    time.sleep(2.5)
    victim = machine.status(WEB[1])
    assert victim is not None and victim.init_pid
    with Load(stack["address"], path="/", threads=2, rate=RATE, max_seconds=60) as load:
        time.sleep(2.0)
        killed = time.monotonic()
        # A power cut: SIGKILL to the machine's PID 1 ends every process in it at once (its PID
        # namespace), nginx and gunicorn mid-request included; no shutdown, no draining.
        os.kill(victim.init_pid, signal.SIGKILL)
        down_after = balancer.wait_status(STACK, "web-1", "DOWN", 15.0)
        time.sleep(3.0)
    after = [r for r in load.results if r.t >= killed]
    counters = balancer.servers(STACK)
    answered = {json.loads(get(stack["address"], "/whoami")[2])["machine"] for _ in range(6)}
    assert answered == {WEB[0], WEB[2]}
    fact(f"balanced e2e: {WEB[1]} killed under load: HAProxy marked it DOWN {down_after:.1f} s later; {len(after)} requests "
         f"after the kill, {len(load.failed())} failed; retries {sum(s.retries for s in counters.values())}, "
         f"redispatched {sum(s.redispatched for s in counters.values())}")
    assert load.failed() == []
