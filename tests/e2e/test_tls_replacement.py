"""Issue 12, item 1 on the local target: HTTPS across a host replacement, against Pebble.

The stack has `dnsZone` and `dnsChallengeServer` (Pebble's pebble-challtestsrv), so its host gets
its certificate by DNS-01: certbot's hook sets the `_acme-challenge` TXT records through the test
server's API and Pebble resolves them there, no traffic to the host needed. The certificate goes
to the stack's certificate store (a root-only host folder, bind-mounted into every web machine).

Then a replacement, in a cloud's order (launchpad/local/replace.py): host B boots from the same
user-data beside A, takes the stored certificate in its bootstrap (no second ACME order), is
checked over HTTPS on its own address (SNI = the domain, verified against Pebble's root, serving
the live release), and only then takes the stack's public address (an nft DNAT on the host,
launchpad/local/address.py); A goes down after a drain. A loop of HTTPS requests to the public
address runs throughout: none may fail.
"""

from __future__ import annotations

import json
import shutil
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from facts import fact

from launchpad.local import address, machine, net
from launchpad.local import release as local_release
from launchpad.local import replace as local_replace
from launchpad.local import stack as local_stack
from launchpad.settings import Settings, validate
from machine_leftovers import leftovers

from . import pebble as pebble_server
from .test_tls import ENDPOINT_CA_IN_MACHINE, handshake, https_get, planned_subnet, tls_context

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(any(shutil.which(b) is None for b in ("pebble", "pebble-challtestsrv", "unshare", "openssl")),
                       reason="needs Debian's pebble (with pebble-challtestsrv), unshare and openssl: apt-get install pebble"),
]

STACK = "tlsmove"
WEB = local_stack.web_name(STACK)
DOMAIN = "rocket.test"
WWW = f"www.{DOMAIN}"
STORED = local_stack.STACKS_DIR / STACK / "certificates" / f"{DOMAIN}.json"
LOOP_INTERVAL_S = 0.05


@dataclass
class Moving:
    settings: Settings
    pebble: pebble_server.Pebble
    root_file: Path
    user_data: str
    release: str
    public: str
    first: machine.MachineState
    orders_first: int
    states: list[machine.MachineState] = field(default_factory=list)


def config(host_address: str) -> dict[str, Any]:
    return {"launchpad:provider": "local", "launchpad:domain": DOMAIN, "launchpad:email": f"ops@{DOMAIN}",
            "launchpad:acmeServer": f"https://{host_address}:{pebble_server.ACME_PORT}/dir",
            "launchpad:dnsZone": DOMAIN,
            "launchpad:dnsChallengeServer": f"http://{host_address}:{pebble_server.CHALLTESTSRV_MANAGEMENT_PORT}",
            "launchpad:rateLimit": 0}


def serial(addr: str, root_file: Path) -> str:
    return str(handshake(addr, DOMAIN, tls_context(root_file))[1]["serialNumber"])


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moving]:
    """Host A of the stack up, its certificate obtained by DNS-01 and stored, the public address on A."""
    local_stack.down(STACK, progress=print)
    subnet = planned_subnet(WEB)
    host_address = str(net.host_address(subnet))
    settings = validate(config(host_address), STACK)
    assert settings.tls and settings.dns01
    workdir = tmp_path_factory.mktemp("pebble-dns")
    pebble: pebble_server.Pebble | None = None
    states: list[machine.MachineState] = []
    try:
        started = time.monotonic()
        local_stack.up(settings, progress=print)
        first = machine.status(WEB)
        assert first is not None and first.host_address == host_address
        states.append(first)
        fact(f"host A up (HTTP, release live) in {time.monotonic() - started:.1f} s")
        pebble = pebble_server.start(workdir, host_address, {}, dns01=True)
        machine.run(WEB, ["sh", "-c", f"cat > {ENDPOINT_CA_IN_MACHINE} && update-ca-certificates"],
                    input=pebble.endpoint_ca.read_text())
        root_file = workdir / "pebble-root.pem"
        root_file.write_text(pebble.issuing_root())
        # What the retry timer would do 30-60 s later: the certificate step, now that Pebble is trusted.
        started = time.monotonic()
        out = machine.run(WEB, ["systemctl", "start", "launchpad-certificate.service"], check=False, timeout=180)
        assert out.returncode == 0, machine.run(WEB, ["journalctl", "-u", "launchpad-certificate", "--no-pager", "-n", "80"]).stdout
        fact(f"host A: certificate by DNS-01 from Pebble and HTTPS on in {time.monotonic() - started:.1f} s")
        status = local_release.host_status(STACK)
        assert status and status.get("live")
        public = address.assign(STACK, WEB)
        # The very user-data A booted from (its NoCloud seed), as a cloud's replacement reuses it.
        user_data = (Path(first.rootfs) / "var/lib/cloud/seed/nocloud/user-data").read_text()
        yield Moving(settings, pebble, root_file, user_data, str(status["live"]), public, first,
                     pebble.orders(), states)
    finally:
        if pebble is not None:
            pebble.stop()
        local_stack.down(STACK, progress=print)
        for st in states:
            assert leftovers(st) == [], st.name
        assert address.current(STACK) is None


def test_host_a_got_its_certificate_by_dns01_and_stored_it(moving: Moving) -> None:
    assert moving.orders_first == 1, f"{moving.orders_first} orders"
    assert moving.pebble.dns is not None
    txt = moving.pebble.dns.log()
    names = sorted(n for n in (f"_acme-challenge.{DOMAIN}.", f"_acme-challenge.{WWW}.") if f'Added DNS-01 TXT challenge for Host "{n}"' in txt)
    fact(f"pebble: {moving.orders_first} order; challtestsrv set TXT for: {names}")
    assert len(names) == 2
    # Pebble validated both names through those TXT records, never by fetching from the machine (http-01).
    assert "Attempting to validate w/ HTTP" not in moving.pebble.log()
    # The store: root-only folder, root-only file, a document with both names.
    assert STORED.is_file() and STORED.stat().st_mode & 0o777 == 0o600
    assert STORED.parent.stat().st_mode & 0o777 == 0o700
    doc = json.loads(STORED.read_text())
    assert set(doc["names"]) == {DOMAIN, WWW} and doc["not_after"] > time.time() + 30 * 86400


def test_https_through_the_public_address(moving: Moving) -> None:
    status, headers, _ = https_get(moving.public, DOMAIN, "/healthz", tls_context(moving.root_file))
    assert status == 200 and headers["x-launchpad-release"] == moving.release
    assert serial(moving.public, moving.root_file) == serial(moving.first.address, moving.root_file)


def test_replacement_keeps_https_up_and_reuses_the_stored_certificate(moving: Moving) -> None:
    ctx = tls_context(moving.root_file)
    stop = threading.Event()
    ok: list[float] = []
    failed: list[str] = []
    served_by: set[str] = set()

    def loop() -> None:
        while not stop.is_set():
            try:
                status, headers, _ = https_get(moving.public, DOMAIN, "/healthz", ctx)
                if status == 200:
                    ok.append(time.monotonic())
                    served_by.add(headers.get("x-launchpad-release", ""))
                else:
                    failed.append(f"HTTP {status}")
            except (OSError, ssl.SSLError) as exc:
                failed.append(f"{time.monotonic():.2f} {type(exc).__name__}: {exc}")
            time.sleep(LOOP_INTERVAL_S)

    old_serial = serial(moving.public, moving.root_file)
    thread = threading.Thread(target=loop)
    thread.start()
    try:
        done = local_replace.replace(STACK, moving.user_data, DOMAIN, moving.release, cafile=str(moving.root_file),
                                     deadline_s=600, progress=print)
        new = machine.status(done.new)
        assert new is not None
        moving.states.append(new)
        time.sleep(3)
    finally:
        stop.set()
        thread.join()
    total = len(ok) + len(failed)
    fact(f"replacement {done.old} -> {done.new}: HTTPS loop through {done.public_address}: {len(failed)} failed of {total} "
         f"(host B ready over HTTPS {done.ready_s:.1f} s after its boot began)")
    assert failed == [], failed[:5]
    assert total > 100
    assert machine.status(done.old) is None
    assert address.current(STACK) == {"address": moving.public, "machine": done.new, "target": done.new_address}
    # Host B serves the very certificate A obtained: taken from the store, no new order at Pebble.
    assert serial(done.new_address, moving.root_file) == old_serial == serial(moving.public, moving.root_file)
    orders = moving.pebble.orders()
    fact(f"pebble orders: {moving.orders_first} before the replacement, {orders} after")
    assert orders == moving.orders_first
    journal = machine.run(done.new, ["journalctl", "-b", "--no-pager", "-o", "cat"]).stdout
    assert "from the store" in journal or "from the store" in machine.run(
        done.new, ["cat", "/var/log/cloud-init-output.log"]).stdout
    assert machine.run(done.new, ["test", "-e", f"/etc/letsencrypt/live/{DOMAIN}"], check=False).returncode != 0
    assert machine.run(done.new, ["readlink", "/etc/nginx/sites-enabled/rocket"]).stdout.strip() == "/etc/nginx/sites-available/rocket.tls"
    assert machine.run(done.new, ["systemctl", "is-enabled", "launchpad-certificate-renew.timer"], check=False).stdout.strip() == "enabled"
    assert served_by == {moving.release}
