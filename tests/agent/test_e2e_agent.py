"""The release agent on a booted local machine, under a steady request loop.

One machine (stack `agent`), the factory-style notes app (tests/agent/apps/notes: SQLite in
Flask's instance folder, static files, a release command, a secret): first release,
updates in place, a changed-dependency release, three broken releases (release command,
boot, health) refused with the old one serving, and a rollback. Every request of the
loop must succeed; the release times are reported (agent: start of release to new code
serving; wall: pointer written to nginx answering with the new id).

Publishing uses tests/agent/kit.py (the contract, not the deployer's code), so this
proves the host side on its own.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import kit
from facts import fact
from launchpad.local import machine, records
from launchpad.local import stack as local_stack
from launchpad.settings import validate

sys.path.insert(0, str(kit.ROOT / "tests" / "e2e"))
from load import Load, get  # noqa: E402

pytestmark = pytest.mark.e2e
STACK = "agent"
NAME = local_stack.web_name(STACK)
APP = kit.ROOT / "tests" / "agent" / "apps" / "notes"
STORE = records.STATE_ROOT / "stacks" / STACK / "store"
IN_MACHINE_STORE = "/var/lib/launchpad/store"


def rootfs() -> Path:
    return records.machine_dir(NAME) / "rootfs"


def status() -> dict:
    try:
        return json.loads((rootfs() / "var/lib/launchpad/release/status.json").read_text())
    except (OSError, ValueError):
        return {}


@pytest.fixture(scope="module")
def host() -> Iterator[str]:
    settings = validate({"launchpad:provider": "local", "launchpad:rateLimit": 0}, STACK)
    shutil.rmtree(STORE, ignore_errors=True)
    up = local_stack.up(settings, progress=print)
    assert up.address
    if machine.run(NAME, ["test", "-x", "/usr/local/sbin/launchpad-agent"], check=False).returncode != 0:
        install_release_host(settings)  # a bootstrap from before the release integration
    yield up.address
    shutil.rmtree(STORE, ignore_errors=True)
    local_stack.down(STACK, progress=print)


def install_release_host(settings) -> None:  # type: ignore[no-untyped-def]
    """Writes the release host files into the machine and runs their bootstrap."""
    import re

    from launchpad.render.bootstrap import render_nginx_http, render_nginx_site
    from launchpad.render.release_host import agent_config, release_host_files

    app = settings.app.unix_name
    files = [(f.path, f.content, f.mode) for f in release_host_files(app, agent_config(app, f"file://{IN_MACHINE_STORE}",
                                                                                         health_host="localhost"))]
    http_conf = re.sub(r"upstream \w+_app \{.*?\}\n", f"include /etc/nginx/launchpad/{app}-live.conf;\n",
                       render_nginx_http(settings), flags=re.S)
    site = re.sub(r"(    add_header [^\n]*\n)+", f"    include /etc/nginx/launchpad/{app}-headers.conf;\n"
                  f"    include /etc/nginx/launchpad/{app}-static.conf;\n", render_nginx_site(settings))
    files += [("/etc/nginx/conf.d/launchpad.conf", http_conf, "0644"), (f"/etc/nginx/sites-available/{app}", site, "0644")]
    for path, content, mode in files:
        target = rootfs() / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(int(mode, 8))
    machine.run(NAME, ["systemctl", "disable", "--now", f"{app}.service", f"{app}.socket"], check=False)
    machine.run(NAME, ["/usr/local/sbin/launchpad-bootstrap"], timeout=300)


def publish(version: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    """Publishes the notes app (env NOTES_VERSION=version) and points desired at it."""
    requirements = (APP / "requirements.txt").read_bytes() + fields.pop("extra_requirements", b"")
    members = [m for m in kit.folder_members(APP) if m[0] != "requirements.txt"] + [("requirements.txt", "file", requirements)]
    base = {"module": "notes:create_app(greeting='hi there')", "deps": "requirements.txt",
            "deps_hash": kit.hashlib.sha256(requirements).hexdigest()[:16], "env": {"NOTES_VERSION": version},
            "release_command": "flask --app notes init-db", "health_path": "/healthz",
            "static": {"/static/": "notes/static/"}, "writable": ["logs"]}
    data = kit.publish(STORE, kit.tar_gz(members), secrets={"SECRET_KEY": 'k3y with "quotes" and $dollar'}, **{**base, **fields})
    if machine.run(NAME, ["test", "-d", f"{IN_MACHINE_STORE}/releases"], check=False).returncode != 0 or \
            machine.run(NAME, ["test", "-e", f"{IN_MACHINE_STORE}/releases/{data['id']}.json"], check=False).returncode != 0:
        # No bind mount of the store yet (a runtime from before it): copy it in.
        target = rootfs() / IN_MACHINE_STORE.lstrip("/")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(STORE, target)
    machine.run(NAME, ["systemctl", "start", "--no-block", "launchpad-agent.service"])
    return data


def wait_live(address: str, rid: str, timeout: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        fail = status().get("last_failure") or {}
        assert fail.get("id") != rid, f"release {rid} refused: {fail}"
        try:
            if get(address, "/healthz")[1].get("x-launchpad-release") == rid:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"release {rid} not live in {timeout} s; status: {status()}")


def wait_refused(rid: str, timeout: float = 120) -> dict:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        fail = status().get("last_failure") or {}
        if fail.get("id") == rid:
            return fail
        time.sleep(0.2)
    raise AssertionError(f"release {rid} neither refused nor live in {timeout} s; status: {status()}")


def test_first_release(host: str) -> None:
    first = publish("1")
    took = wait_live(host, first["id"])
    fact(f"agent e2e: first release (venv built by pip) live {took:.1f} s after publishing")
    code, headers, body = get(host, "/")
    assert code == 200 and b"notes v1" in body and headers["x-launchpad-release"] == first["id"]
    assert json.loads(get(host, "/healthz")[2])["secret"] is True
    code, headers, body = get(host, "/static/style.css")
    assert code == 200 and b"font-family" in body
    assert headers["cache-control"] == "public, max-age=300" and headers["x-frame-options"] == "DENY"
    assert headers["x-launchpad-release"] == first["id"]
    # Least privilege: nginx reads static files, not code; the env file is root's.
    rel = f"/srv/rocket/releases/{first['id']}"
    as_nginx = ["runuser", "-u", "www-data", "--", "cat"]
    assert machine.run(NAME, [*as_nginx, f"{rel}/notes/static/style.css"], check=False).returncode == 0
    assert machine.run(NAME, [*as_nginx, f"{rel}/notes/__init__.py"], check=False).returncode != 0
    assert machine.run(NAME, ["stat", "-c", "%a %U", f"/etc/launchpad/releases/{first['id']}.env"]).stdout.split() == ["600", "root"]
    assert get(host, "/add?text=kept-across-releases")[0] == 200


def test_updates_and_refusals_under_load(host: str) -> None:
    agent_s, wall_s = [], []
    with Load(host, path="/", threads=3, rate=60, max_seconds=900) as load:
        time.sleep(1)
        for v in range(2, 7):
            rid = publish(str(v))["id"]
            wall_s.append(wait_live(host, rid))
            agent_s.append(status()["history"][0]["took_s"])
        good = rid
        assert b"kept-across-releases" in get(host, "/")[2]  # SQLite in the instance folder survived

        changed = publish("deps", extra_requirements=b"python-dotenv~=1.0\n")
        wait_live(host, changed["id"])
        deps_s = status()["history"][0]["took_s"]
        good = changed["id"]

        bad_cmd = publish("bad-cmd", release_command="flask --app notes init-db && echo 'migration 42 failed' && exit 7")
        fail = wait_refused(bad_cmd["id"])
        assert (fail["stage"], fail["exit"]) == ("release", 7) and "migration 42 failed" in fail["tail"]
        assert get(host, "/")[1]["x-launchpad-release"] == good

        no_boot = publish("no-boot", release_command=None, env={"NOTES_VERSION": "nb", "NOTES_FAIL_BOOT": "1"})
        fail = wait_refused(no_boot["id"])
        assert fail["stage"] == "boot" and "refusing to boot" in fail["tail"]
        assert get(host, "/")[1]["x-launchpad-release"] == good

        unhealthy = publish("unhealthy", env={"NOTES_VERSION": "u", "NOTES_UNHEALTHY": "1"})
        fail = wait_refused(unhealthy["id"], timeout=180)
        assert fail["stage"] == "health"
        assert get(host, "/")[1]["x-launchpad-release"] == good

        kit.point(STORE, rid)  # roll back to the last v6 release
        publish_pointer_only()
        rollback_s = wait_live(host, rid)
        time.sleep(1)
    fact(load.report("agent e2e: 5 updates, 1 dependency change, 3 refused releases, 1 rollback"))
    fact(f"agent e2e: release time, unchanged deps (agent, start to serving): p50 {statistics.median(agent_s):.2f} s, "
         f"max {max(agent_s):.2f} s; pointer to nginx serving: p50 {statistics.median(wall_s):.2f} s, max {max(wall_s):.2f} s")
    fact(f"agent e2e: changed deps (new venv, pip from the shared wheel cache): {deps_s:.2f} s; rollback live {rollback_s:.2f} s after the pointer")
    assert load.failed() == [], load.report("failed")
    assert max(agent_s) <= 10 and rollback_s <= 5


PROBE_SETUP = """\
import os
import pwd

from setuptools import setup

# What a malicious package's setup code could do, as whoever runs pip: try to write where
# only root may, and record who it ran as. The build must run it as the unprivileged builder.
try:
    with open("/etc/launchpad/probe-pwned", "w") as f:
        f.write("root ran a package's setup code")
    escaped = "wrote /etc/launchpad"
except OSError as err:
    escaped = "no: " + (err.strerror or str(err))
with open("lp_probe.py", "w") as f:
    f.write(f"USER = {pwd.getpwuid(os.getuid()).pw_name!r}\\nESCAPED = {escaped!r}\\n")
setup(name="lp-probe", version="1.0", py_modules=["lp_probe"])
"""
PROBE_SDIST = "/opt/lp-probe/lp_probe-1.0.tar.gz"


def probe_sdist() -> bytes:
    info = "Metadata-Version: 2.1\nName: lp-probe\nVersion: 1.0\n"
    return kit.tar_gz([("lp_probe-1.0", "dir", ""), ("lp_probe-1.0/setup.py", "file", PROBE_SETUP),
                       ("lp_probe-1.0/PKG-INFO", "file", info)])


def test_dependencies_build_as_an_unprivileged_user(host: str) -> None:
    """A dependency whose setup code tries to write /etc and records its user: pip ran it as
    launchpad-build, the write failed, and the venv that went live is root's, read-only for the app."""
    target = rootfs() / PROBE_SDIST.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(probe_sdist())
    target.chmod(0o644)
    release = publish("probe", extra_requirements=f"lp-probe @ file://{PROBE_SDIST}\n".encode())
    took = wait_live(host, release["id"], timeout=900)
    venv = f"/srv/rocket/venvs/{release['deps_hash']}"
    seen = machine.run(NAME, [f"{venv}/bin/python", "-c", "import lp_probe; print(lp_probe.USER); print(lp_probe.ESCAPED)"])
    user, escaped = seen.stdout.splitlines()
    fact(f"agent e2e: a dependency's setup code ran as {user!r}; its write to /etc/launchpad: {escaped}; "
         f"release with the new venv live {took:.1f} s after publishing")
    assert user == "launchpad-build" and escaped.startswith("no: ")
    assert machine.run(NAME, ["test", "-e", "/etc/launchpad/probe-pwned"], check=False).returncode != 0
    assert machine.run(NAME, ["find", venv, "!", "-user", "root"]).stdout == ""
    assert machine.run(NAME, ["find", venv, "!", "-type", "l", "-perm", "/022"]).stdout == ""
    assert machine.run(NAME, ["stat", "-c", "%U %a", "/var/cache/launchpad/pip"]).stdout.split() == ["launchpad-build", "700"]
    # The app reads its venv, and cannot change it.
    as_app = ["runuser", "-u", "rocket", "--"]
    assert machine.run(NAME, [*as_app, f"{venv}/bin/python", "-c", "import lp_probe"], check=False).returncode == 0
    assert machine.run(NAME, [*as_app, "touch", f"{venv}/bin/x"], check=False).returncode != 0


def publish_pointer_only() -> None:
    target = rootfs() / IN_MACHINE_STORE.lstrip("/") / "releases" / "desired.json"
    if target.exists() and not target.samefile(STORE / "releases" / "desired.json"):
        shutil.copy(STORE / "releases" / "desired.json", target)
    machine.run(NAME, ["systemctl", "start", "--no-block", "launchpad-agent.service"])
