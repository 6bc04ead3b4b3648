"""launchpad/ops/remote.py: the exact commands every provider's host runs."""

from __future__ import annotations

import pytest

from launchpad.ops import remote
from launchpad.ops.remote import OpsError, Remote

APP_UNITS = ["--unit", "rocket@*.service", "--unit", "rocket.service"]
JOURNAL = ["journalctl", "--no-pager", "--output", "short-iso"]


@pytest.mark.parametrize("build, argv", [
    (lambda: remote.status(), ["launchpad-agent", "status", "--json"]),
    (lambda: remote.logs("rocket"),
     ["sh", "-c", "journalctl --no-pager --output short-iso --lines 200 --unit 'rocket@*.service' --unit rocket.service "
      "--unit nginx.service --unit launchpad-agent.service; tail -n 200 /var/log/nginx/access.log"]),
    (lambda: remote.logs("rocket", follow=True),
     ["sh", "-c", "journalctl --no-pager --output short-iso --lines 200 --follow --unit 'rocket@*.service' "
      "--unit rocket.service --unit nginx.service --unit launchpad-agent.service & "
      "tail -n 200 -F /var/log/nginx/access.log & wait"]),
    (lambda: remote.logs("rocket", since="10m"),
     [*JOURNAL, "--since", "-10m", *APP_UNITS, "--unit", "nginx.service", "--unit", "launchpad-agent.service"]),
    (lambda: remote.logs("rocket", ["access"], follow=True), ["tail", "-n", "200", "-F", "/var/log/nginx/access.log"]),
    (lambda: remote.logs("rocket", ["app"], follow=True, since="10m"),
     [*JOURNAL, "--since", "-10m", "--follow", *APP_UNITS]),
    (lambda: remote.logs("rocket", ["nginx"], lines=50), [*JOURNAL, "--lines", "50", "--unit", "nginx.service"]),
    (lambda: remote.logs("rocket", ["release"], since="2025-01-31 12:00"),
     [*JOURNAL, "--since", "2025-01-31 12:00", "--unit", "launchpad-agent.service"]),
    (lambda: remote.logs("rocket", ["bootstrap"]), ["tail", "-n", "200", "/var/log/cloud-init-output.log"]),
    (lambda: remote.logs("rocket", ["bootstrap"], follow=True), ["tail", "-n", "200", "-F", "/var/log/cloud-init-output.log"]),
    (lambda: remote.logs("rocket", ["bootstrap"], since="1h"),
     [*JOURNAL, "--since", "-1h", "--unit", "cloud-init-local.service", "--unit", "cloud-init.service",
      "--unit", "cloud-config.service", "--unit", "cloud-final.service"]),
    (lambda: remote.logs("rocket", ["app", "app", "nginx"]), [*JOURNAL, "--lines", "200", *APP_UNITS, "--unit", "nginx.service"]),
    (lambda: remote.run(["flask", "db", "upgrade"]), ["launchpad-agent", "run", "--", "flask", "db", "upgrade"]),
    (lambda: remote.run(["sh", "-c", "echo $SECRET_KEY"]), ["launchpad-agent", "run", "--", "sh", "-c", "echo $SECRET_KEY"]),
    (lambda: remote.shell(), []),
])
def test_remote_argv(build, argv) -> None:
    assert list(build().argv) == argv


@pytest.mark.parametrize("build, tail, field", [
    (remote.reload, 'exec systemctl reload "rocket@$v.service"', '"slot"'),
    (remote.restart, 'exec launchpad-agent deploy "$v"', '"live"'),
])
def test_reload_and_restart_act_on_the_live_release_only(build, tail, field) -> None:
    cmd = build("rocket")
    assert cmd.argv[:2] == ("sh", "-c")
    script = cmd.argv[2]
    assert script.endswith(tail)
    assert f".get({field})" in script and "/var/lib/launchpad/release/status.json" in script
    assert "exit 3" in script  # no live release: a clear failure, not a reload of nothing


def test_tty_and_root() -> None:
    assert remote.run(["flask", "shell"], tty=True).tty
    assert not remote.run(["true"]).tty
    assert remote.shell().tty and not remote.shell().as_root
    assert remote.status().as_root


def test_shell_line_quotes_every_word() -> None:
    cmd = remote.run(["python", "-c", "print('a b'); import os"])
    assert cmd.shell_line == "launchpad-agent run -- python -c 'print('\"'\"'a b'\"'\"'); import os'"


@pytest.mark.parametrize("since, expected", [("10m", "-10m"), ("2h", "-2h"), ("1d", "-1d"), ("30s", "-30s"),
                                             ("5min", "-5min"), ("today", "today"), ("-1h", "-1h")])
def test_since(since, expected) -> None:
    assert remote.journal_since(since) == expected


@pytest.mark.parametrize("call, message", [
    (lambda: remote.logs("rocket", ["db"]), "--unit: 'db' is not a unit; valid: app, nginx, access, bootstrap, release"),
    (lambda: remote.logs("rocket", ["access"], since="1h"), "--since reads the journal; the access log is a file"),
    (lambda: remote.logs("rocket", since=" "), "--since: empty"),
    (lambda: remote.logs("rocket", lines=0), "--lines: 0 is not valid"),
    (lambda: remote.run([]), "run: no command given"),
])
def test_errors(call, message) -> None:
    with pytest.raises(OpsError, match="^" + __import__("re").escape(message)):
        call()


def test_remote_is_frozen() -> None:
    assert Remote(("true",)) == Remote(("true",))


@pytest.mark.parametrize("status, code, out", [
    ('{"live": "3f2a9c1d0e4b", "slot": "b"}', 0, "slot=b"),
    ('{"live": null, "slot": null}', 3, ""),
    (None, 3, ""),  # no status file: no release ever went live
])
def test_live_lookup_runs_in_a_posix_shell(tmp_path, monkeypatch, status, code, out) -> None:
    import subprocess

    path = tmp_path / "status.json"
    if status is not None:
        path.write_text(status)
    monkeypatch.setattr(remote, "STATUS_FILE", str(path))
    cmd = remote._with_live("slot", 'echo "slot=$v"')
    done = subprocess.run(list(cmd.argv), capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (code, out)
    if code:
        assert "no live release on this host" in done.stderr
