"""components/readiness.py: the health gate's command, and that it really gates."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pulumi
import pytest

from components.readiness import Readiness, ReadinessArgs, wait_command
from launchpad.settings import PROJECT_ROOT


def _readiness(run, **kwargs):
    def program() -> None:
        host = pulumi.CustomResource("test:index:Host", "host", {"ip": "203.0.113.9"})
        Readiness("web", ReadinessArgs(address=kwargs.pop("address", "203.0.113.9"), host_id=host.id, **kwargs),
                  opts=pulumi.ResourceOptions(depends_on=[host]))
    return run(program)


def test_polls_the_hosts_own_address_with_the_domain_as_host_header(run) -> None:
    program = _readiness(run, domain="rocket.example.com", database=True, logs="ssh ops@203.0.113.9")
    cmd = program.one("command:local:Command")
    create = cmd.inputs["create"]
    assert "-m launchpad.wait http://203.0.113.9/healthz" in create
    assert "--host rocket.example.com" in create
    assert "--database" in create
    assert "--timeout 900" in create
    assert "ssh ops@203.0.113.9" in create


def test_without_domain_or_database_neither_is_required(run) -> None:
    create = _readiness(run).one("command:local:Command").inputs["create"]
    assert "--host" not in create and "--database" not in create


def test_reruns_when_the_host_is_replaced_and_runs_after_it(run) -> None:
    program = _readiness(run)
    host = program.one("test:index:Host")
    cmd = program.one("command:local:Command")
    assert cmd.inputs["triggers"] == [host.id]
    assert program.depends_on(cmd, host)


def test_waits_for_the_release_id_and_reruns_for_a_new_release(run) -> None:
    program = _readiness(run, release_id="3f2a9c1b7d4e", health_path=None)
    cmd = program.one("command:local:Command")
    args = shlex.split(cmd.inputs["create"])
    assert "http://203.0.113.9/" in args and "--lenient" in args
    assert args[args.index("--release") + 1] == "3f2a9c1b7d4e"
    assert cmd.inputs["triggers"] == [program.one("test:index:Host").id, "3f2a9c1b7d4e"]
    with_path = shlex.split(_readiness(run, release_id="3f2a9c1b7d4e", health_path="/up").one("command:local:Command").inputs["create"])
    assert "http://203.0.113.9/up" in with_path and "--lenient" not in with_path


def test_refuses_a_zero_timeout(run) -> None:
    with pytest.raises(ValueError, match="timeout is 0"):
        _readiness(run, timeout=0)


def test_command_uses_this_interpreter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # From the project folder (where Pulumi runs programs) the path is relative: the same on every machine.
    monkeypatch.chdir(PROJECT_ROOT)
    first = shlex.split(wait_command("192.0.2.1", None, False, 5, ""))[0]
    assert (PROJECT_ROOT / first).absolute() == Path(sys.executable).absolute() or first == sys.executable
    monkeypatch.chdir(tmp_path)
    assert shlex.split(wait_command("192.0.2.1", None, False, 5, ""))[0] == sys.executable


class _Health(BaseHTTPRequestHandler):
    answer = (200, {"status": "ok", "database": "ok"})

    def do_GET(self) -> None:  # noqa: N802
        status, body = self.answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("status, database, passes", [(200, "ok", True), (503, "unreachable", False), (200, "not configured", False)])
def test_the_generated_command_gates_on_a_real_server(status: int, database: str, passes: bool) -> None:
    """Runs the exact command line the component registers, against a server on 127.0.0.1."""
    handler = type("H", (_Health,), {"answer": (status, {"status": "x", "database": database})})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cmd = wait_command(f"127.0.0.1:{server.server_address[1]}", None, True, 1, "look at the logs")
        out = subprocess.run(["/bin/sh", "-c", cmd], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert (out.returncode == 0) == passes, out.stderr
    if not passes:
        assert "did not become healthy" in out.stderr and "look at the logs" in out.stderr


def test_https_where_the_address_has_its_own_certificate(run) -> None:
    create = _readiness(run, address="rocket-a1b2c3d.herokuapp.com", scheme="https").one("command:local:Command").inputs["create"]
    assert "-m launchpad.wait https://rocket-a1b2c3d.herokuapp.com/healthz" in create
    with pytest.raises(ValueError, match="scheme 'ftp'"):
        wait_command("192.0.2.1", None, False, 5, "", scheme="ftp")


def test_tls_checks_https_with_sni_on_the_hosts_own_address(run) -> None:
    args = shlex.split(_readiness(run, domain="rocket.example.com", tls_name="rocket.example.com").one(
        "command:local:Command").inputs["create"])
    assert "https://203.0.113.9/healthz" in args
    assert args[args.index("--sni") + 1] == "rocket.example.com" and args[args.index("--tls") + 1] == "required"
    auto = shlex.split(_readiness(run, domain="rocket.example.com", tls_name="rocket.example.com", tls_mode="auto").one(
        "command:local:Command").inputs["create"])
    assert auto[auto.index("--tls") + 1] == "auto"


def test_unknown_tls_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="tls_mode 'maybe'"):
        wait_command("203.0.113.9", "rocket.example.com", False, 10, "", tls_name="rocket.example.com", tls_mode="maybe")
