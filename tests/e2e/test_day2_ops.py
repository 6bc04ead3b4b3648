"""Day-2 commands against a running local machine (issue 11): status, logs (--follow), restart,
reload, run and ssh, through the real `launchpad` command and the local transport (nsenter).

Proves: `run` sees the live release's directory, env and secrets as the app user and returns the
command's exit code; `reload` and `restart` fail 0 requests under a steady loop; `logs --follow`
shows a request made while it runs; `ssh` is a shell as the admin user with its exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from facts import fact
from launchpad.local import stack as local_stack
from launchpad.settings import Settings, validate

from .load import Load

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
STACK = "ops"
SECRET = "s3cr3t-ops-e2e-Vq9"
CONFIG = {
    "launchpad:provider": "local",
    "launchpad:rateLimit": 0,  # the load loop comes from one address
    "launchpad:app": {"env": {"GREETING": "hello from ops"}},
}
# The stack's settings reach the command as `pulumi up` would validate them, without a
# Pulumi.ops.yaml in the project (other tests list the committed stacks).
SHIM = """
import json, os, sys
from launchpad.settings import validate
import launchpad.cli.ops as ops
settings = validate(json.loads(os.environ["OPS_E2E_CONFIG"]), os.environ["OPS_E2E_STACK"])
ops.load_settings = lambda stack: settings
from launchpad.cli import app
if not any(c.callback is ops.run for c in app.registered_commands):
    ops.register(app)
app(prog_name="launchpad")
"""


def _argv(args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-c", SHIM, args[0], "--stack", STACK, *args[1:]]


def _env() -> dict[str, str]:
    return {**os.environ, "OPS_E2E_CONFIG": json.dumps(CONFIG), "OPS_E2E_STACK": STACK}


def launchpad(*args: str, timeout: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_argv(args), capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=timeout, input=stdin)


def popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(_argv(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env())


@pytest.fixture(scope="module")
def settings() -> Settings:
    return validate(CONFIG, STACK)


@pytest.fixture(scope="module")
def machine_up(settings: Settings) -> Iterator[local_stack.StackStatus]:
    started = time.monotonic()
    os.environ["LAUNCHPAD_SECRET_API_TOKEN"] = SECRET
    try:
        status = local_stack.up(settings, progress=print)
    except BaseException:
        local_stack.down(STACK, progress=print)  # a failed up leaves nothing behind either
        raise
    finally:
        os.environ.pop("LAUNCHPAD_SECRET_API_TOKEN", None)
    fact(f"ops e2e: stack {STACK} ready in {time.monotonic() - started:.1f} s")
    yield status
    local_stack.down(STACK, progress=print)


def _status() -> dict:
    out = launchpad("status", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def test_status_reports_the_live_release_and_health(machine_up) -> None:
    report = _status()
    [host] = report["hosts"]
    assert host["reachable"] and host["address"] == machine_up.address
    live = host["release"]["live"]
    assert live and host["release"]["slot"] in ("a", "b")
    assert report["url"] == f"http://{machine_up.address}/"
    assert report["health"]["healthy"] and report["health"]["release"] == live
    text = launchpad("status")
    assert text.returncode == 0 and f"release {live} live" in text.stdout
    print(text.stdout)


def test_run_sees_release_env_and_secrets_as_the_app_user(machine_up, settings) -> None:
    live = _status()["hosts"][0]["release"]["live"]
    out = launchpad("run", "--", "sh", "-c", 'echo "$GREETING|$API_TOKEN|$LAUNCHPAD_RELEASE|$(pwd -P)|$(id -un)"')
    assert out.returncode == 0, out.stderr
    greeting, token, release, cwd, user = out.stdout.strip().splitlines()[-1].split("|")
    assert (greeting, token, release, user) == ("hello from ops", SECRET, live, settings.app.unix_name)
    assert cwd == f"/srv/{settings.app.unix_name}/releases/{live}"
    print(out.stdout)


@pytest.mark.parametrize("command, code", [(["sh", "-c", "exit 7"], 7), (["false"], 1), (["true"], 0),
                                           (["sh", "-c", "echo out; echo err >&2; exit 3"], 3)])
def test_run_returns_the_command_exit_code(machine_up, command, code) -> None:
    out = launchpad("run", "--", *command)
    assert out.returncode == code, out.stderr


def test_ssh_is_a_shell_as_the_admin_user(machine_up) -> None:
    out = launchpad("ssh", stdin="id -un; exit 5\n")
    assert out.returncode == 5, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "ops"


def _under_load(machine_up, command: str) -> tuple[Load, subprocess.CompletedProcess[str]]:
    """The command in the middle of a steady loop (any non-200 counts as failed: rateLimit is 0)."""
    with Load(machine_up.address, threads=3, rate=40, max_seconds=90) as load:
        time.sleep(2)
        out = launchpad(command, timeout=120)
        time.sleep(2)
    return load, out


def test_reload_under_load_fails_no_request(machine_up, settings) -> None:
    before = _status()["hosts"][0]["release"]
    load, out = _under_load(machine_up, "reload")
    assert out.returncode == 0, out.stderr
    failed = load.failed()
    load.report("ops e2e: launchpad reload under load")
    assert len(load.results) > 100 and not failed, failed[:5]
    after = _status()["hosts"][0]["release"]
    assert (after["live"], after["slot"]) == (before["live"], before["slot"])  # same release, same slot: a HUP
    logs = launchpad("logs", "--unit", "app", "--since", "2m")
    assert "hup" in logs.stdout.lower(), logs.stdout[-2000:]


def test_restart_under_load_fails_no_request(machine_up) -> None:
    before = _status()["hosts"][0]["release"]
    load, out = _under_load(machine_up, "restart")
    assert out.returncode == 0, out.stderr
    failed = load.failed()
    load.report("ops e2e: launchpad restart under load")
    assert len(load.results) > 100 and not failed, failed[:5]
    after = _status()["hosts"][0]["release"]
    assert after["live"] == before["live"] and after["slot"] != before["slot"]  # blue/green: the other slot now


def test_logs_follow_shows_a_request_made_meanwhile(machine_up) -> None:
    marker = f"/ops-e2e-follow-{int(time.time())}"
    follower = popen("logs", "--follow", "--unit", "access", "--lines", "1")
    lines: list[str] = []
    assert follower.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(follower.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        time.sleep(2)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            opener.open(f"http://{machine_up.address}{marker}", timeout=5)
        except OSError:
            pass  # a 404 is still a logged request
        deadline = time.monotonic() + 15
        while not any(marker in line for line in list(lines)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any(marker in line for line in list(lines)), lines[-20:]
        print(next(line for line in lines if marker in line))
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_logs_units(machine_up) -> None:
    bootstrap = launchpad("logs", "--unit", "bootstrap", "--lines", "50")
    assert bootstrap.returncode == 0 and "Cloud-init" in bootstrap.stdout
    release = launchpad("logs", "--unit", "release", "--since", "1h")
    assert release.returncode == 0 and "live on slot" in release.stdout
    bad = launchpad("logs", "--unit", "db")
    assert bad.returncode == 2 and "--unit: 'db' is not a unit" in bad.stderr
