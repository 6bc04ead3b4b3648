"""The rendered Procfile's `web:` command, run on this machine against the sample app as a dyno would run it.

What Heroku does, step by step, on loopback only: the source tarball (the release artifact
plus the generated files) is unpacked; a venv gets `pip install -r requirements.txt` from it
(the buildpack's step: the app's requirements plus the gunicorn Launchpad added); bash
sources `.profile` and runs the `web:` line with `PORT` and `WEB_CONCURRENCY` set. The
tarball is rendered with bind host 127.0.0.1 (the one parameter tests change; the test checks
it is the production Procfile otherwise). The process is ended by its PID.

The venv is cached by the requirements' hash (~/.cache/launchpad-tests/), so only the first
run downloads wheels.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from facts import fact
from launchpad.release import artifact
from launchpad.render import heroku
from launchpad.render.heroku_source import HerokuSource, WebSettings, build_source
from launchpad.settings import SAMPLE_APP

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "launchpad-tests"
WEB = WebSettings(module="rocket:app")


def _venv(requirements: bytes, cwd: Path) -> Path:
    venv = CACHE / f"heroku-venv-{hashlib.sha256(requirements).hexdigest()[:16]}"
    if not (venv / "ok").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", "-r", "requirements.txt"],
                             cwd=cwd, capture_output=True, text=True, timeout=600)
        assert pip.returncode == 0, f"pip install -r requirements.txt failed (is the package index reachable?):\n{pip.stderr[-2000:]}"
        (venv / "ok").touch()
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
    finally:
        conn.close()


def _group(pgid: int) -> list[int]:
    """PIDs still in a process group (our gunicorn's session: master and workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def dyno(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, HerokuSource, subprocess.Popen[bytes]]]:
    tmp = tmp_path_factory.mktemp("heroku")
    art = artifact.build(SAMPLE_APP, tmp / "out")
    production = build_source(art.path, art.sha256, WEB)
    source = build_source(art.path, art.sha256, WEB, bind_host="127.0.0.1")
    slug = tmp / "app"
    with tarfile.open(source.path) as tar:
        tar.extractall(slug, filter="data")
    with tarfile.open(production.path) as tar:
        f = tar.extractfile("Procfile")
        assert f is not None
        # Only the bind address differs from what Heroku gets.
        assert (slug / "Procfile").read_text() == f.read().decode().replace("0.0.0.0:$PORT", "127.0.0.1:$PORT")

    started = time.monotonic()
    venv = _venv((slug / "requirements.txt").read_bytes(), slug)
    web = next(line for line in (slug / "Procfile").read_text().splitlines() if line.startswith("web: "))[5:]
    port = _free_port()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp), "PORT": str(port), "WEB_CONCURRENCY": "2",
           "LAUNCHPAD_TRUSTED_PROXIES": "1", "DATABASE_URL": ""}
    # As a dyno starts: bash sources .profile, then runs the command (exec: the PID is gunicorn's master).
    proc = subprocess.Popen(["bash", "-c", f". ./.profile; exec {web}"], cwd=slug, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"`{web}` exited {proc.returncode}: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
            try:
                _get(port, "/")
                break
            except OSError:
                assert time.monotonic() < deadline, f"`{web}` did not answer on 127.0.0.1:{port} within 60 s"
                time.sleep(0.2)
        fact(f"heroku web: command answering on 127.0.0.1 in {time.monotonic() - started:.1f} s (venv cached: {venv.name})")
        yield port, source, proc
    finally:
        os.kill(proc.pid, signal.SIGTERM)  # gunicorn's master: stops its workers gracefully
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for _ in range(50):
            if not _group(proc.pid):
                break
            time.sleep(0.1)
        left = _group(proc.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes left by gunicorn: {left}"


def test_hello_world_with_the_release_header(dyno) -> None:
    port, source, _ = dyno
    status, headers, body = _get(port, "/")
    assert (status, body) == (200, "Hello World!")
    assert headers["x-launchpad-release"] == source.release_id
    status, _, body = _get(port, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_web_concurrency_decides_the_workers(dyno) -> None:
    _, _, proc = dyno
    assert len(_group(proc.pid)) == 1 + 2  # master + WEB_CONCURRENCY workers


def test_one_hop_the_router_appends_to(dyno) -> None:
    """As Heroku's router forwards: it appends the client's address and sets the scheme; it sets no
    X-Forwarded-Host. A client's own forged values must not win."""
    port, _, _ = dyno
    status, _, body = _get(port, "/whoami", {
        "X-Forwarded-For": "198.51.100.66, 203.0.113.9",  # first: the client's forgery; last: the router's
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "Host": "rocket.example.com"})
    assert status == 200
    assert json.loads(body) == {"remote_addr": "203.0.113.9", "scheme": "https", "host": "rocket.example.com"}


def test_a_forged_scheme_header_is_not_trusted(dyno) -> None:
    port, _, _ = dyno
    _, _, body = _get(port, "/whoami", {"X-Forwarded-Proto": "http", "X-Forwarded-Ssl": "on"})
    assert json.loads(body)["scheme"] == "http"


def test_the_command_is_the_rendered_one() -> None:
    words = shlex.split(heroku.procfile(WEB.module, None).splitlines()[0][5:])
    assert words == ["gunicorn", "--bind", "0.0.0.0:$PORT", "--config", heroku.CONF, "rocket:app"]
