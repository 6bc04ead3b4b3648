"""`launchpad-agent run -- flask db upgrade`: a bare command name is the release venv's.

systemd-run resolves a bare executable name with its own search path, not the `--setenv=PATH`
it hands to the command, so `flask` (in the venv only) was "Failed to find executable flask"
on a real machine (found by tests/e2e/test_release_apps.py). The agent resolves it first.
"""

from __future__ import annotations

import grp
import os
from pathlib import Path

from kit import agent

host_mod = agent("host")


def _host_and_release(tmp_path: Path):  # type: ignore[no-untyped-def]
    venv = tmp_path / "venvs" / "0123456789abcdef"
    (venv / "bin").mkdir(parents=True)
    flask = venv / "bin" / "flask"
    flask.write_text("#!/bin/sh\n")
    flask.chmod(0o755)
    rel = tmp_path / "releases" / "a1b2c3d4e5f6"
    rel.mkdir(parents=True)
    (rel / ".launchpad-venv").symlink_to(venv)
    group = grp.getgrgid(os.getgid()).gr_name
    return host_mod.Host({"app": group}), rel, venv


def test_a_bare_name_resolves_to_the_venv(tmp_path: Path) -> None:
    host, rel, venv = _host_and_release(tmp_path)
    argv = host.sandboxed(rel, Path("/etc/launchpad/releases/x.env"), ["flask", "db", "upgrade"])
    assert argv[-3:] == [str(venv / "bin" / "flask"), "db", "upgrade"]
    assert f"--setenv=PATH={venv}/bin:/usr/local/bin:/usr/bin:/bin" in argv


def test_paths_and_unknown_names_are_left_as_given(tmp_path: Path) -> None:
    host, rel, _ = _host_and_release(tmp_path)
    env = Path("/etc/launchpad/releases/x.env")
    assert host.sandboxed(rel, env, ["/bin/sh", "-c", "exit 3"])[-3:] == ["/bin/sh", "-c", "exit 3"]
    assert host.sandboxed(rel, env, ["./manage.py", "x"])[-2:] == ["./manage.py", "x"]
    assert host.sandboxed(rel, env, ["no-such-command-here"])[-1] == "no-such-command-here"
    assert host.sandboxed(rel, env, ["sh", "-c", "true"])[-3] in ("/usr/bin/sh", "/bin/sh")  # PATH order
