"""launchpad/wait.py against a real HTTP server on 127.0.0.1 that each test starts."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from launchpad import wait

Answer = tuple[int, str]
"""(status, body) the fake host gives; status 0 closes the connection without answering, like nginx's 444."""


class FakeHost:
    """Answers /healthz from a script of answers (the last one repeats) and records the Host headers seen."""

    def __init__(self, answers: list[Answer], only_host: str | None = None, release: str | None = None) -> None:
        self.answers = answers
        self.only_host = only_host
        self.release = release
        """Sent as X-Launchpad-Release, as nginx does for the live release."""
        self.hosts: list[str] = []
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                fake.hosts.append(self.headers.get("Host", ""))
                fake.paths.append(self.path)
                status, body = fake.answers.pop(0) if len(fake.answers) > 1 else fake.answers[0]
                if fake.only_host is not None and self.headers.get("Host") != fake.only_host:
                    status = 0
                if status == 0:
                    self.close_connection = True
                    return
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if fake.release is not None:
                    self.send_header(wait.RELEASE_HEADER, fake.release)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/healthz"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host() -> Iterator[Callable[..., FakeHost]]:
    started: list[FakeHost] = []

    def start(answers: list[Answer], only_host: str | None = None, release: str | None = None) -> FakeHost:
        fake = FakeHost(answers, only_host, release)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.close()


OK = json.dumps({"status": "ok", "database": "not configured"})
DB_OK = json.dumps({"status": "ok", "database": "ok"})
DB_DOWN = json.dumps({"status": "error", "database": "unreachable", "error": "OperationalError"})


def test_healthy_host_passes_at_once(host) -> None:
    fake = host([(200, OK)])
    assert wait.main([fake.url, "--timeout", "5", "--interval", "0.05"]) == 0
    assert fake.paths == ["/healthz"]


def test_waits_through_errors_until_healthy(host) -> None:
    fake = host([(502, "bad gateway"), (503, DB_DOWN), (200, DB_OK)])
    assert wait.main([fake.url, "--database", "--timeout", "10", "--interval", "0.05"]) == 0
    assert len(fake.paths) == 3


def test_database_flag_requires_database_ok(host, capsys: pytest.CaptureFixture[str]) -> None:
    fake = host([(200, OK)])
    assert wait.main([fake.url, "--database", "--timeout", "0.5", "--interval", "0.1"]) == 1
    err = capsys.readouterr().err
    assert '"database": "ok"' in err
    assert "not configured" in err


def test_without_database_flag_any_200_passes(host) -> None:
    fake = host([(200, DB_DOWN.replace("error", "ok"))])
    assert wait.main([fake.url, "--timeout", "2", "--interval", "0.05"]) == 0


def test_host_header_is_sent(host) -> None:
    fake = host([(200, OK)], only_host="rocket.example.com")
    assert wait.main([fake.url, "--host", "rocket.example.com", "--timeout", "2", "--interval", "0.05"]) == 0
    assert fake.hosts == ["rocket.example.com"]


def test_without_the_host_header_a_catch_all_drop_is_reported(host, capsys: pytest.CaptureFixture[str]) -> None:
    fake = host([(200, OK)], only_host="rocket.example.com")
    assert wait.main([fake.url, "--timeout", "0.5", "--interval", "0.1"]) == 1
    assert "closed without an answer" in capsys.readouterr().err


def test_failure_names_url_last_status_and_logs(host, capsys: pytest.CaptureFixture[str]) -> None:
    fake = host([(503, DB_DOWN)])
    code = wait.main([fake.url, "--host", "x.example.com", "--database", "--timeout", "0.6", "--interval", "0.1",
                      "--logs", "ssh ops@192.0.2.1 journalctl"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"GET {fake.url} (Host: x.example.com)" in err
    assert "within 0.6 s" in err
    assert "HTTP 503" in err and "unreachable" in err
    assert "ssh ops@192.0.2.1 journalctl" in err


def test_redirects_are_not_followed(host) -> None:
    fake = host([(301, "")])
    assert wait.main([fake.url, "--timeout", "0.4", "--interval", "0.1"]) == 1
    assert set(fake.paths) == {"/healthz"}


def test_nothing_listening_is_reported_and_deadline_kept(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeHost([(200, OK)])
    url = fake.url
    fake.close()
    code = wait.main([url, "--timeout", "0.5", "--interval", "0.1"])
    assert code == 1
    assert "ConnectionRefusedError" in capsys.readouterr().err


def test_wait_stops_at_the_deadline() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    result = wait.wait("http://127.0.0.1:9/healthz", timeout=12, interval=5, clock=lambda: now[0], sleep=sleep)
    assert not result.healthy
    assert sum(slept) == pytest.approx(12)
    assert max(slept) <= 5


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        wait.main(["ftp://example.com/healthz", "--timeout", "1"])
    with pytest.raises(SystemExit):
        wait.main(["http://127.0.0.1/healthz", "--timeout", "0"])


def test_runs_as_a_module(host) -> None:
    fake = host([(200, DB_OK)])
    out = subprocess.run([sys.executable, "-m", "launchpad.wait", fake.url, "--database", "--timeout", "5"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "healthy" in out.stdout


def test_until_healthy_in_process(host) -> None:
    """The local runtime's waiter: the same probe (Host header, database check), in-process."""
    fake = host([(502, "bad gateway"), (200, DB_OK)], only_host="rocket.test")
    took = wait.until_healthy(fake.url, "rocket.test", database=True, timeout=10, interval=0.05)
    assert took >= 0 and fake.hosts[-1] == "rocket.test"


def test_until_healthy_raises_with_what_it_saw(host) -> None:
    fake = host([(200, json.dumps({"database": "down"}))])
    with pytest.raises(wait.HealthTimeout) as err:
        wait.until_healthy(fake.url, database=True, timeout=0.3, interval=0.05, logs="journalctl -u rocket")
    assert isinstance(err.value, TimeoutError) and not err.value.last.healthy
    assert "expected \"database\": \"ok\"" in str(err.value) and "journalctl -u rocket" in str(err.value)


def test_release_waits_for_its_own_id(host) -> None:
    fake = host([(200, DB_OK)], release="0123456789ab")
    assert wait.probe(fake.url, None, False, release="0123456789ab").healthy
    old = wait.probe(fake.url, None, False, release="ba9876543210")
    assert not old.healthy and "serves release 0123456789ab; waiting for ba9876543210" in old.seen
    assert not wait.probe(host([(200, DB_OK)]).url, None, False, release="x").healthy


@pytest.mark.parametrize("status, healthy", [(200, True), (302, True), (404, True), (500, False), (502, False)])
def test_lenient_takes_any_answer_below_500(host, status: int, healthy: bool) -> None:
    fake = host([(status, "")])
    assert wait.probe(fake.url, None, False, lenient=True).healthy is healthy
    assert wait.probe(fake.url, None, False).healthy is (status == 200)
