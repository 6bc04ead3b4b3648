"""launchpad/ops/heroku.py and heroku_api.py against a fake Heroku Platform API on 127.0.0.1.

The fake API is tests/heroku_fake.py. The rendezvous service of `run` is faked by a TCP
server on 127.0.0.1 (plain: the real one is TLS, which `tls_connect` adds).
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest

from heroku_fake import APP, NEW, OLD, TOKEN, FakeHeroku, api, fake  # noqa: F401
from launchpad.ops import heroku
from launchpad.ops.heroku_api import HerokuApi, app_path
from launchpad.ops.remote import OpsError

def lines_of(fn, *args, **kwargs) -> tuple[int, list[str]]:
    out: list[str] = []
    code = fn(*args, out=out.append, **kwargs)
    return code, out


def test_token_from_the_environment_and_its_absence_explained() -> None:
    assert HerokuApi.from_env({"HEROKU_API_KEY": TOKEN}).token == TOKEN
    with pytest.raises(OpsError, match=r"HEROKU_API_KEY is not set.*heroku auth:token"):
        HerokuApi.from_env({})


@pytest.mark.parametrize("token, app, message", [
    ("wrong", APP, "Heroku refused the token in HEROKU_API_KEY"),
    (TOKEN, "someone-elses-app", "does the stack's `app_name` output name an app this token can see"),
])
def test_api_errors_say_what_to_fix(fake: FakeHeroku, token: str, app: str, message: str) -> None:
    with pytest.raises(OpsError, match=message):
        heroku.restart(HerokuApi(token, base_url=fake.base), app, out=lambda _: None)


def test_app_names_are_quoted_into_paths() -> None:
    assert app_path("a/../b", "dynos") == "/apps/a%2F..%2Fb/dynos"


def test_status(api: HerokuApi, fake: FakeHeroku) -> None:
    report = heroku.status_report(api, APP, None, "prod")
    assert report["ok"] is True
    assert report["url"] == f"{fake.base}/site/" and report["region"] == "eu" and report["heroku_stack"] == "heroku-24"
    assert report["release"]["version"] == 5 and report["release"]["launchpad_release"] == NEW
    assert report["health"]["status"] == 200 and report["health"]["release"] == NEW
    assert [d["name"] for d in report["dynos"]] == ["web.1", "web.2"]
    code, out = lines_of(heroku.status, api, APP, None, "prod")
    assert code == 0 and out[0].startswith(f"stack prod (heroku): {fake.base}/site/")
    assert any(f"release: v5 (Launchpad {NEW})" in line for line in out)


def test_status_fails_when_a_web_dyno_crashed(api: HerokuApi, fake: FakeHeroku, monkeypatch: pytest.MonkeyPatch) -> None:
    original = fake.answer

    def crashed(method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        status, answer = original(method, path, body, headers)
        if path.endswith("/dynos") and method == "GET":
            answer[1]["state"] = "crashed"
        return status, answer

    monkeypatch.setattr(fake, "answer", crashed)
    assert heroku.status(api, APP, None, "prod", out=lambda _: None) == 1


def test_releases_newest_first_with_launchpad_ids(api: HerokuApi, fake: FakeHeroku) -> None:
    code, out = lines_of(heroku.releases, api, APP, as_json=True)
    rows = json.loads("\n".join(out))
    assert [r["version"] for r in rows] == [5, 4, 3, 2, 1]
    assert [r["launchpad_release"] for r in rows] == [NEW, NEW, "ffffffffffff", OLD, None]
    assert rows[0]["current"] and not any(r["current"] for r in rows[1:])
    listing = next(r for r in fake.requests if r["path"].endswith("/releases"))
    assert listing["headers"]["Range"] == "version ..; order=desc, max=20"


@pytest.mark.parametrize("to, version", [
    (None, 2),  # the newest succeeded release with other code than the live one (v4/v5 share it; v3 failed)
    ("v4", 4), ("2", 2), (OLD, 2),
])
def test_rollback(api: HerokuApi, fake: FakeHeroku, to: str | None, version: int) -> None:
    code, out = lines_of(heroku.rollback, api, APP, to=to)
    assert code == 0
    post = next(r for r in fake.requests if r["method"] == "POST" and r["path"].endswith("/releases"))
    assert post["body"]["release"] == f"rel-{version}"
    assert fake.releases[0]["version"] == 6 and fake.releases[0]["current"]
    assert out == [f"rolled back {APP} to v{version} (Launchpad release {OLD if version == 2 else NEW}): Heroku made v6, "
                   "with that release's code and config vars; the dynos restart now"]


@pytest.mark.parametrize("to, message", [
    ("v3", "v3 is 'failed', not a release that ran"),
    ("v42", "no release v42 among the last 5"),
    ("ffffffffffff", "no succeeded release built from Launchpad release ffffffffffff"),
    ("yesterday", "neither a Heroku version"),
])
def test_rollback_refuses(api: HerokuApi, fake: FakeHeroku, to: str, message: str) -> None:
    with pytest.raises(OpsError, match=message):
        heroku.rollback(api, APP, out=lambda _: None, to=to)
    assert not [r for r in fake.requests if r["method"] == "POST"]


def test_restart(api: HerokuApi, fake: FakeHeroku) -> None:
    code, out = lines_of(heroku.restart, api, APP)
    assert code == 0 and "restarting every dyno" in out[0]
    assert [(r["method"], r["path"]) for r in fake.requests] == [("DELETE", f"/apps/{APP}/dynos")]


@pytest.mark.parametrize("units, follow, expected", [
    ((), False, {"lines": 200, "tail": False}),
    (("app",), True, {"lines": 200, "tail": True, "source": "app"}),
    (("nginx",), False, {"lines": 200, "tail": False, "source": "heroku", "dyno": "router"}),
    (("app", "release"), False, {"lines": 200, "tail": False}),
])
def test_logs(api: HerokuApi, fake: FakeHeroku, units: tuple[str, ...], follow: bool, expected: dict) -> None:
    code, out = lines_of(heroku.logs, api, APP, units=units, follow=follow)
    assert code == 0 and out == fake.log_lines
    assert fake.requests[-1]["body"] == expected


def test_logs_refuse_what_heroku_has_not(api: HerokuApi) -> None:
    with pytest.raises(OpsError, match="'bootstrap' has no logs on Heroku"):
        heroku.logs(api, APP, out=lambda _: None, units=("bootstrap",))


def _rendezvous(fake: FakeHeroku, chunks: list[bytes]) -> tuple[threading.Thread, list[bytes]]:
    """A one-connection stand-in for rendezvous.runtime.heroku.com: reads the secret, sends the chunks."""
    listener = socket.create_server(("127.0.0.1", 0))
    fake.attach_port = listener.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            got.append(conn.recv(100))
            for chunk in chunks:
                conn.sendall(chunk)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, got


def _plain(host: str, port: int) -> heroku.Conn:
    assert host == "127.0.0.1"
    return socket.create_connection((host, port), timeout=10)


@pytest.mark.parametrize("chunks, output, code", [
    ([b"rendezvous\r\n", b"Running migrations\n", "\uffff heroku-command-exit-status: 0\n".encode()], "Running migrations\n", 0),
    # The greeting and the status line split across reads, and a failing command.
    ([b"rende", b"zvous\r\nboom\n\xef\xbf", "\xbf heroku-command-exit-status: 3\n".encode("latin-1")], "boom\n", 3),
    ([b"rendezvous\r\n", b"partial"], "partial", 1),  # connection lost before the status
])
def test_run_streams_output_and_returns_the_exit_status(api: HerokuApi, fake: FakeHeroku, chunks, output: str, code: int) -> None:
    thread, got = _rendezvous(fake, chunks)
    written: list[str] = []
    errors: list[str] = []
    assert heroku.run(api, APP, ["flask", "db", "upgrade"], write=written.append, err=errors.append, connect=_plain) == code
    thread.join(5)
    assert "".join(written) == output
    assert got == [b"secret-abc\r\n"]
    post = fake.requests[-1]
    assert post["path"] == f"/apps/{APP}/dynos"
    assert post["body"] == {"command": 'flask db upgrade; echo "\uffff heroku-command-exit-status: $?"', "attach": True, "type": "run"}
    assert bool(errors) == (code == 1)


def test_run_command_quotes_every_word() -> None:
    assert heroku.run_command(["sh", "-c", "echo $HOME; rm -rf /"]).startswith("sh -c 'echo $HOME; rm -rf /'; echo ")
    with pytest.raises(OpsError, match="no command given"):
        heroku.run_command([])


class _Reads:
    """A connection whose every recv returns exactly one of the given chunks (as a slow network would)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)

    def recv(self, _size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def test_stream_joins_a_character_split_across_reads() -> None:
    # The exit marker U+FFFF is three UTF-8 bytes; a read boundary inside it must not hide the status.
    written: list[str] = []
    chunks = [b"rendezvous\r\nboom\n\xef\xbf", "\xbf heroku-command-exit-status: 3\n".encode("latin-1")]
    assert heroku._stream(_Reads(chunks), written.append) == 3
    assert "".join(written) == "boom\n"
