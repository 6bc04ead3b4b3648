"""Releases end to end through the deployer's commands, on a booted local machine.

The factory-style notes app (tests/apps/notes, copied so it can change), as a user runs it:
`launchpad local up` (boot + first release), `launchpad deploy` of a new version under a
steady request loop, a broken release (refused, the old one keeps serving, the command
fails with the agent's stage and output), `launchpad rollback`, `launchpad releases`, and
`launchpad local up` again on the running machine (no reboot: only the release rolls).
Every request of the loops must succeed; release and rollback times are reported.

The commands read `Pulumi.<stack>.yaml`, so the module writes one for its stack and removes
it afterwards; its secret is encrypted (`secure:`), so the value comes from
LAUNCHPAD_SECRET_SECRET_KEY, as it would on a laptop without Pulumi.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from facts import fact
from launchpad.local import machine, records
from launchpad.local import release as local_release
from launchpad.settings import PROJECT_ROOT

from .conftest import cli
from .load import Load, get

pytestmark = pytest.mark.e2e
STACK = "e2e-releases"
NAME = f"lp-{STACK}"
SECRET = {"LAUNCHPAD_SECRET_SECRET_KEY": "e2e-release-secret-7c1f0a"}
STACK_FILE = PROJECT_ROOT / f"Pulumi.{STACK}.yaml"


def stack_config(app: Path) -> dict:
    return {"config": {
        "launchpad:provider": "local",
        "launchpad:rateLimit": 0,  # the request loop comes from one address
        "launchpad:app": {
            "path": str(app), "module": "notes:create_app()", "release": "flask --app notes init-db",
            "healthPath": "/healthz", "keepReleases": 5,
            "secrets": {"SECRET_KEY": {"secure": "v1:only-pulumi-could-decrypt-this"}},
        },
    }}


def post_note(address: str, text: str) -> int:
    conn = http.client.HTTPConnection(address, 80, timeout=10)
    try:
        conn.request("POST", "/", body=f"body={text}", headers={"Content-Type": "application/x-www-form-urlencoded"})
        return conn.getresponse().status
    finally:
        conn.close()


def set_version(app: Path, version: str) -> None:
    path = app / "notes" / "version.py"
    path.write_text(re.sub(r'APP_VERSION = ".*"', f'APP_VERSION = "{version}"', path.read_text()))


def released(out: str) -> str:
    match = re.search(r"release ([0-9a-f]{12}) live", out)
    assert match, out
    return match.group(1)


def failed(load: Load) -> list:
    return [r for r in load.results if r.status != 200]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notes") / "notes-app"
    shutil.copytree(PROJECT_ROOT / "tests" / "apps" / "notes", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture(scope="module")
def host(app: Path) -> Iterator[dict]:
    STACK_FILE.write_text(yaml.safe_dump(stack_config(app), sort_keys=False))
    try:
        started = time.monotonic()
        out = cli("local", "up", "--stack", STACK, env=SECRET)
        print(out.stdout, out.stderr)
        assert out.returncode == 0, out.stderr[-4000:]
        took = time.monotonic() - started
        state = machine.status(NAME)
        assert state is not None
        fact(f"deployer e2e: `launchpad local up` on a fresh machine (boot + first release, pip) in {took:.1f} s")
        yield {"address": state.address, "first": released(out.stdout + out.stderr), "init_pid": state.init_pid,
               "instance_id": state.instance_id}
    finally:
        cli("local", "down", "--stack", STACK)
        STACK_FILE.unlink(missing_ok=True)


def test_first_release_serves_the_app_its_static_files_and_its_secret(host: dict) -> None:
    code, headers, body = get(host["address"], "/")
    assert code == 200 and headers["x-launchpad-release"] == host["first"]
    code, headers, _ = get(host["address"], "/static/style.css")
    assert code == 200 and "max-age" in headers.get("cache-control", "")
    version = json.loads(get(host["address"], "/version")[2])
    assert version["release"] == host["first"]
    store = local_release.store_dir(STACK)
    secrets = list((store / "secrets").glob("*.json"))
    assert [oct(p.stat().st_mode & 0o777) for p in secrets] == ["0o600"]
    manifest = json.loads((store / "releases" / f"{host['first']}.json").read_text())
    assert manifest["secrets"]["names"] == ["SECRET_KEY"] and SECRET["LAUNCHPAD_SECRET_SECRET_KEY"] not in json.dumps(manifest)
    assert manifest["static"] == {"/static/": "notes/static/"} and manifest["module"] == "notes:create_app()"


def test_update_broken_release_rollback_and_up_again(host: dict, app: Path) -> None:
    address = host["address"]
    assert post_note(address, "kept-across-releases") == 302

    # 1. A new version, in place, under load.
    set_version(app, "2.0.0")
    with Load(address, path="/", threads=3, rate=30, max_seconds=600) as load:
        started = time.monotonic()
        out = cli("deploy", "--stack", STACK, env=SECRET)
        deploy_s = time.monotonic() - started
    assert out.returncode == 0, out.stderr[-4000:]
    second = released(out.stdout)
    publish_s = float(re.search(r"\(([0-9.]+) s after publishing\)", out.stdout).group(1))
    assert second != host["first"] and get(address, "/")[1]["x-launchpad-release"] == second
    assert json.loads(get(address, "/version")[2])["version"] == "2.0.0"
    assert b"kept-across-releases" in get(address, "/")[2]  # SQLite in the instance folder survived
    fact(f"deployer e2e: code change, deps unchanged: live {publish_s:.1f} s after publishing, `launchpad deploy` "
         f"{deploy_s:.1f} s end to end; {len(load.results)} requests, {len(failed(load))} failed")
    assert publish_s <= 10.0
    assert failed(load) == []

    # 2. A broken release: refused at its release command, the old one keeps serving, the command says why.
    init = app / "notes" / "__init__.py"
    good = init.read_text()
    init.write_text(good + "\nraise RuntimeError('broken on purpose by the deployer e2e')\n")
    with Load(address, path="/", threads=3, rate=30, max_seconds=600) as load:
        out = cli("deploy", "--stack", STACK, env=SECRET)
    init.write_text(good)
    assert out.returncode == 1
    assert "was refused at stage 'release'" in out.stderr and "broken on purpose" in out.stderr, out.stderr
    assert get(address, "/")[1]["x-launchpad-release"] == second
    fact(f"deployer e2e: broken release refused ({len(load.results)} requests, {len(failed(load))} failed)")
    assert failed(load) == []

    # 3. Rollback to the previous good release (kept on the host: seconds).
    with Load(address, path="/", threads=3, rate=30, max_seconds=600) as load:
        started = time.monotonic()
        out = cli("rollback", "--stack", STACK)
        rollback_s = time.monotonic() - started
    assert out.returncode == 0, out.stderr[-4000:]
    assert get(address, "/")[1]["x-launchpad-release"] == host["first"]
    switch_s = float(re.search(r"\(([0-9.]+) s after the pointer moved\)", out.stdout).group(1))
    fact(f"deployer e2e: `launchpad rollback` to {host['first']}: live {switch_s:.1f} s after the pointer moved, "
         f"{rollback_s:.1f} s for the whole command ({len(load.results)} requests, {len(failed(load))} failed)")
    assert failed(load) == [] and switch_s <= 5.0

    # 4. The history, as `launchpad releases` shows it.
    out = cli("releases", "--stack", STACK, "--json")
    rows = {r["id"]: r for r in json.loads(out.stdout)}
    assert rows[host["first"]]["live"] and rows[second]["status"] == "previous"
    assert any(r["status"] == "failed" for r in rows.values())
    table = cli("releases", "--stack", STACK).stdout
    assert f"* {host['first']}" in table
    print(table)

    # 5. `launchpad local up` on the running machine: same user-data, so no reboot; the release rolls.
    started = time.monotonic()
    out = cli("local", "up", "--stack", STACK, env=SECRET)
    up_again_s = time.monotonic() - started
    assert out.returncode == 0, out.stderr[-4000:]
    state = machine.status(NAME)
    assert state is not None and (state.init_pid, state.instance_id) == (host["init_pid"], host["instance_id"])
    assert get(address, "/")[1]["x-launchpad-release"] == second  # v2 again: the same id, kept on the host
    fact(f"deployer e2e: `launchpad local up` on the running machine: no reboot, release {second} live in {up_again_s:.1f} s")
    assert records.machine_dir(NAME).is_dir()


def test_the_commands_pulumi_up_runs_for_provider_local(tmp_path: Path) -> None:
    """What components/local/host.py and components/local/release.py run: `local up --plan -` (the bootstrap
    only), then `deploy --settings -` with the secrets in the environment; no stack file involved."""
    import subprocess
    import sys

    from launchpad import local_plan
    from launchpad.release.publish import settings_json
    from launchpad.settings import validate

    stack = "e2e-pulumi-local"
    app = tmp_path / "notes-app"
    shutil.copytree(PROJECT_ROOT / "tests" / "apps" / "notes", app, ignore=shutil.ignore_patterns("__pycache__"))
    raw = {k: v for k, v in stack_config(app)["config"].items()}
    raw["launchpad:app"] = {**raw["launchpad:app"], "secrets": {"SECRET_KEY": SECRET["LAUNCHPAD_SECRET_SECRET_KEY"]}}
    # As the program holds them: decrypted, and known to be encrypted in the stack file.
    settings = validate(raw, stack, frozenset({"launchpad:app"}), frozenset({"app.secrets.SECRET_KEY"}))

    def run(args: list[str], stdin: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "launchpad.cli", *args], input=stdin, capture_output=True, text=True,
                              cwd=PROJECT_ROOT, timeout=1200, env={**__import__("os").environ, **(env or {})})

    try:
        started = time.monotonic()
        machine_args = ["local", "up", "--stack", stack, "--plan", "-", "--json"]
        assert local_plan.up_command(sys.executable, stack).endswith(" ".join(machine_args))
        booted = run(machine_args, local_plan.encode(local_plan.user_data_for(settings), local_plan.plan_for(settings)))
        assert booted.returncode == 0, booted.stderr[-3000:]
        address = json.loads(booted.stdout)["address"]
        boot_s = time.monotonic() - started
        assert get(address, "/")[1].get("x-launchpad-release") in (None, "none")  # the bootstrap only: no release yet
        text = settings_json(settings)
        assert SECRET["LAUNCHPAD_SECRET_SECRET_KEY"] not in text
        started = time.monotonic()
        deployed = run(["deploy", "--stack", stack, "--settings", "-", "--json"], text, env=SECRET)
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        result = json.loads(deployed.stdout.strip().splitlines()[-1])
        assert get(address, "/")[1]["x-launchpad-release"] == result["release"]
        fact(f"deployer e2e (pulumi's local commands): machine {boot_s:.1f} s (bootstrap only), then release "
             f"{result['release']} live {result['live_after_s']:.1f} s after publishing ({time.monotonic() - started:.1f} s command)")
    finally:
        run(["local", "down", "--stack", stack], "")
