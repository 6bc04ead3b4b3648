"""End to end: a real Debian 12 machine under systemd-nspawn, provisioned by real
cloud-init, served by nginx on its own address; rebooted; then removed without a
trace. Needs root, systemd-nspawn, debootstrap and the Debian mirror (apt).

Set LAUNCHPAD_E2E_COLD=1 to build the base into a fresh cache (measures a cold
debootstrap, about 80 s) instead of reusing /var/cache/launchpad.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from facts import fact
from machine_leftovers import leftovers

from launchpad import wait
from launchpad.local import base, machine, net


def _missing_capability() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, mounts, nftables)"
    for tool in ("systemd-nspawn", "debootstrap", "nsenter", "nft", "ip"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "the kernel has no overlayfs"
    return None


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(_missing_capability() is not None, reason=str(_missing_capability())),
]

USER_DATA = """#cloud-config
packages: [nginx]
write_files:
  - path: /var/www/html/index.html
    content: "launchpad e2e {token}\\n"
    defer: true
"""


def _log(msg: str) -> None:
    fact(f"[local machine] {msg}")


@pytest.fixture(scope="module")
def base_tree() -> Iterator[Path]:
    cold = os.environ.get("LAUNCHPAD_E2E_COLD") == "1"
    cache = Path(tempfile.mkdtemp(prefix="launchpad-cold-", dir="/var/tmp")) if cold else base.DEFAULT_CACHE_DIR
    started = time.monotonic()
    tree = base.ensure_base(cache, progress=_log)
    _log(f"base {'built cold' if cold else 'ready'} in {time.monotonic() - started:.1f} s: {tree}")
    yield cache
    if cold:
        shutil.rmtree(cache)


def _serving(url: str, deadline_s: float) -> None:
    """Until url answers 200, through the health waiter `launchpad local up` uses."""
    wait.until_healthy(url, timeout=deadline_s, interval=0.25)


def _fetch(url: str) -> tuple[str, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as resp:
        return resp.read().decode(), resp.headers.get("Server", "")


def test_machine_lifecycle(base_tree: Path) -> None:
    name = "e2e-web"
    machine.down(name)  # a leftover from an interrupted run
    others = bool(machine.list_machines())
    forward_before = net.IP_FORWARD.read_text().strip()
    token = f"t{int(time.time())}"
    secret = f"SECRET_KEY={token}\n".encode()
    spec = machine.MachineSpec(
        name=name, user_data=USER_DATA.format(token=token), instance_id=f"i-{token}",
        files={"/etc/launchpad/app.env": (secret, 0o600)},
    )
    try:
        started = time.monotonic()
        st = machine.up(spec, progress=_log, cache_dir=base_tree)
        up_s = time.monotonic() - started
        assert st.state == "running" and st.pid and st.init_pid

        machine.wait_cloud_init(name, deadline_s=300)
        cloud_init_s = time.monotonic() - started
        url = f"http://{st.address}/"
        _serving(url, deadline_s=30)
        body, server = _fetch(url)
        assert body == f"launchpad e2e {token}\n"
        assert server.startswith("nginx")

        assert machine.run(name, ["cat", "/etc/launchpad/app.env"]).stdout.encode() == secret
        assert machine.run(name, ["stat", "-c", "%a %U", "/etc/launchpad/app.env"]).stdout.split() == ["600", "root"]
        assert machine.run(name, ["hostname"]).stdout.strip() == name
        assert machine.run(name, ["false"], check=False).returncode == 1
        with pytest.raises(machine.MachineError, match="exited 1"):
            machine.run(name, ["false"])
        # The user-data is the seed cloud-init read, not something world-readable.
        assert "600" in machine.run(name, ["stat", "-c", "%a", "/var/lib/cloud/seed/nocloud/user-data"]).stdout
        assert "cloud-init" in machine.logs(name)

        again = machine.up(spec, progress=_log, cache_dir=base_tree)
        assert (again.pid, again.init_pid, again.address) == (st.pid, st.init_pid, st.address)
        other = machine.MachineSpec(name=name, user_data=spec.user_data, instance_id="i-other")
        with pytest.raises(machine.MachineError, match="replace=True"):
            machine.up(other, progress=_log, cache_dir=base_tree)

        started = time.monotonic()
        machine.reboot(name, deadline_s=120)
        reboot_s = time.monotonic() - started
        _serving(url, deadline_s=60)
        reboot_http_s = time.monotonic() - started
        after = machine.status(name)
        assert after is not None and after.state == "running"
        assert after.address == st.address and after.pid == st.pid
        assert after.init_pid != st.init_pid
        assert _fetch(url)[0] == f"launchpad e2e {token}\n"

        _log(f"up (systemd ready) {up_s:.1f} s; up -> cloud-init done {cloud_init_s:.1f} s; "
             f"reboot -> systemd ready {reboot_s:.1f} s, -> HTTP 200 {reboot_http_s:.1f} s")

        # Powered off from inside: the supervisor ends, the disk stays, `up` starts it again.
        machine.run(name, ["systemctl", "--no-block", "poweroff"])
        deadline = time.monotonic() + 60
        while (s := machine.status(name)) is not None and s.state != "stopped" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert s is not None and s.state == "stopped"
        restarted = machine.up(spec, progress=_log, cache_dir=base_tree)
        assert restarted.state == "running" and restarted.address == st.address
        machine.wait_cloud_init(name, deadline_s=60)
        _serving(url, deadline_s=60)
        assert _fetch(url)[0] == f"launchpad e2e {token}\n"

        # Supervisor killed hard: nspawn lives on unsupervised; `up` puts it back under a supervisor.
        os.kill(restarted.pid or 0, 9)
        deadline = time.monotonic() + 10
        while (s := machine.status(name)) is not None and s.state != "orphaned" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert s is not None and s.state == "orphaned"
        st = machine.up(spec, progress=_log, cache_dir=base_tree)
        assert st.state == "running" and st.pid and st.pid != restarted.pid
        _serving(url, deadline_s=60)
    finally:
        started = time.monotonic()
        machine.down(name)
        _log(f"down {time.monotonic() - started:.1f} s")
    assert leftovers(st, None if others else forward_before) == []
    machine.down(name)  # idempotent


def _curl(src: str, dst: machine.MachineState, port: int) -> int:
    return machine.run(src, ["curl", "-sS", "-o", "/dev/null", "--max-time", "3", f"http://{dst.address}:{port}/"],
                       check=False).returncode


def test_machines_reach_each_other_only_where_allowed(base_tree: Path) -> None:
    names = ("e2e-app", "e2e-db")
    for n in names:
        machine.down(n)
    try:
        app, db = (machine.up(machine.MachineSpec(name=n, user_data="#cloud-config\n{}\n", instance_id="i-1"),
                              progress=_log, cache_dir=base_tree) for n in names)
        assert app.subnet != db.subnet
        for port in (5432, 5433):
            machine.run(db.name, ["systemd-run", f"--unit=probe{port}", "python3", "-m", "http.server", str(port)])
        # A listener on the database's own address answers the host directly.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                _fetch(f"http://{db.address}:5432/")
                break
            except OSError:
                time.sleep(0.2)
        assert _curl(app.name, db, 5432) != 0  # default: machines are isolated from each other

        machine.allow(app.name, db.name, 5432)
        assert machine.status(db.name).ingress == [(app.name, 5432)]  # type: ignore[union-attr]
        assert _curl(app.name, db, 5432) == 0
        assert _curl(app.name, db, 5433) != 0
        machine.run(app.name, ["systemd-run", "--unit=probe80", "python3", "-m", "http.server", "80"])
        time.sleep(1)
        assert _curl(db.name, app, 80) != 0  # one way only

        machine.deny(app.name, db.name, 5432)
        assert _curl(app.name, db, 5432) != 0
        machine.allow(app.name, db.name, 5432)
        machine.down(app.name)
        # The allow goes with the machine it named.
        assert machine.status(db.name).ingress == []  # type: ignore[union-attr]
        ruleset = subprocess.run(["nft", "list", "table", "ip", "launchpad"], capture_output=True, text=True).stdout
        assert app.address not in ruleset and db.address in ruleset
    finally:
        for n in names:
            machine.down(n)


def test_prebaked_layer_boots_with_its_packages(base_tree: Path) -> None:
    """A layer with nginx baked in (base.ensure_base(extra_packages=...)): the
    machine serves without installing anything at first boot."""
    name = "e2e-baked"
    machine.down(name)
    started = time.monotonic()
    layer = base.ensure_base(base_tree, progress=_log, extra_packages=("nginx",))
    _log(f"layer with nginx ready in {time.monotonic() - started:.1f} s: {layer}")
    assert (layer / "usr/sbin/nginx").exists()
    user_data = (
        "#cloud-config\nwrite_files:\n  - path: /var/www/html/index.html\n"
        "    content: \"baked\\n\"\n"
    )
    try:
        started = time.monotonic()
        st = machine.up(machine.MachineSpec(name=name, user_data=user_data, instance_id="i-1"),
                        progress=_log, cache_dir=base_tree, extra_packages=("nginx",))
        assert st.base == str(layer)
        machine.wait_cloud_init(name, deadline_s=120)
        _serving(f"http://{st.address}/", deadline_s=30)
        _log(f"baked layer: up -> cloud-init done and HTTP 200 in {time.monotonic() - started:.1f} s")
        assert _fetch(f"http://{st.address}/")[0] == "baked\n"
        # Nothing was fetched at boot: the package came from the layer.
        assert "Unpacking nginx" not in machine.logs(name)
    finally:
        machine.down(name)
