"""components/digitalocean/remote_env.py: the secret env file travels over SSH on stdin, and the script really writes it."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pulumi
import pytest

from components.digitalocean.remote_env import RemoteEnv, RemoteEnvArgs, env_file_text, install_script

URL = "postgresql://app:s3cret@db.internal:25060/app?sslmode=require"


def _env(run):
    def program() -> None:
        host = pulumi.CustomResource("test:index:Host", "host", {})
        RemoteEnv("web", RemoteEnvArgs(host="203.0.113.20", private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nk\n",
                                       values={"DATABASE_URL": pulumi.Output.secret(URL)}, app_unit="rocket.service",
                                       triggers=[host.id]))
    return run(program)


def test_connects_as_the_admin_user_and_keeps_secrets_off_the_command_line(run) -> None:
    program = _env(run)
    cmd = program.one("command:remote:Command")
    assert cmd.inputs["connection"]["user"] == "ops"
    assert cmd.inputs["connection"]["host"] == "203.0.113.20"
    assert cmd.inputs["stdin"] == f"DATABASE_URL={URL}\n"
    assert "s3cret" not in cmd.inputs["create"]
    assert {"stdin", "connection"} <= cmd.secret_inputs
    assert "create" not in cmd.secret_inputs
    assert cmd.inputs["logging"] == "none"
    assert cmd.inputs["triggers"] == [program.one("test:index:Host").id]


def test_env_file_text_refuses_newlines() -> None:
    assert env_file_text({"B": "2", "A": "1"}) == "A=1\nB=2\n"
    with pytest.raises(ValueError, match="newline"):
        env_file_text({"A": "1\nB=2"})


def _fake_tools(bin_dir: Path, log: Path, cloud_init_rc: int) -> None:
    """sudo runs its command as is; cloud-init and systemctl only record their arguments."""
    bin_dir.mkdir()
    scripts = {
        "sudo": '#!/bin/sh\nexec "$@"\n',
        "cloud-init": f'#!/bin/sh\necho "cloud-init $*" >> {log}\nexit {cloud_init_rc}\n',
        "systemctl": f'#!/bin/sh\necho "systemctl $*" >> {log}\n',
        "install": f'#!/bin/sh\necho "install $*" >> {log}\nfor last; do :; done\nmkdir -p "$last"\n',
    }
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)


@pytest.mark.parametrize("cloud_init_rc, ok", [(0, True), (2, True), (1, False)])
def test_install_script_writes_the_file_private_and_restarts_the_app(tmp_path: Path, cloud_init_rc: int, ok: bool) -> None:
    log = tmp_path / "log"
    _fake_tools(tmp_path / "bin", log, cloud_init_rc)
    target = tmp_path / "etc" / "launchpad" / "app.env"
    script = install_script("rocket.service", str(target))
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    out = subprocess.run(["/bin/sh", "-c", script], input=f"DATABASE_URL={URL}\n", env=env,
                         capture_output=True, text=True, timeout=30)
    assert (out.returncode == 0) == ok, out.stderr
    calls = log.read_text()
    assert "cloud-init status --wait" in calls
    if ok:
        assert target.read_text() == f"DATABASE_URL={URL}\n"
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert "install -d -o root -g root -m 0700" in calls
        assert calls.rstrip().endswith("systemctl restart rocket.service")
    else:
        assert not target.exists() and "systemctl" not in calls
