"""The release host files: what the agent writes into nginx passes `nginx -t` with the
rendered site, the units verify, and the agent ships as one runnable zip."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

from kit import agent
from launchpad.render import bootstrap, release_host
from launchpad.settings import validate
from tests.launchpad.render.test_bootstrap import launchpad_includes, nginx_test

rules = agent("rules")


def test_agent_written_nginx_files_pass_nginx_t(tmp_path: Path) -> None:
    for raw in ({}, {"launchpad:domain": "rocket.test"}):
        settings = validate(raw, "test")
        live = rules.live_conf("rocket", "b", "0123456789ab")
        static = rules.static_conf("rocket", "/srv/rocket/releases/0123456789ab",
                                   {"/static/": "pkg/static/", "/assets/": "front/dist/"})
        static = static.replace("/etc/nginx/launchpad/", f"{tmp_path}/launchpad/")
        folder = launchpad_includes(tmp_path, live=live, static=static)
        out = nginx_test(tmp_path, bootstrap.render_nginx_http(settings), bootstrap.render_nginx_site(settings), folder)
        assert out.returncode == 0, out.stderr


def test_agent_zip_runs_and_is_deterministic(tmp_path: Path) -> None:
    pyz = release_host.agent_pyz()
    assert pyz == release_host.agent_pyz() and pyz.startswith(b"#!/usr/bin/python3\n")
    names = zipfile.ZipFile(io.BytesIO(pyz)).namelist()
    assert "__main__.py" in names and "launchpad_agent/cli.py" in names
    path = tmp_path / "launchpad-agent"
    path.write_bytes(pyz)
    path.chmod(0o755)
    out = subprocess.run([str(path), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "sync" in out.stdout


def test_every_provider_fetches_the_agent_pinned_by_hash() -> None:
    aws = release_host.agent_config("rocket", "s3://bucket/prod", health_host="example.com", region="eu-west-1",
                                    secrets={"kind": "aws-secretsmanager", "arn": "arn:x"})
    files = {f.path: f for f in release_host.release_host_files("rocket", aws)}
    assert release_host.AGENT not in files
    script = files[release_host.BOOTSTRAP].content
    assert release_host.agent_sha256() in script and f"prod/agent/{release_host.agent_sha256()}.pyz" in script
    local = {f.path: f for f in release_host.release_host_files("rocket", bootstrap.default_agent(validate({}, "test")))}
    assert release_host.AGENT not in local
    assert f"/var/lib/launchpad/store/agent/{release_host.agent_sha256()}.pyz" in local[release_host.BOOTSTRAP].content


def test_before_the_first_release_nginx_sends_to_no_slot() -> None:
    """The first release boots on slot a: if the placeholder upstream named slot a's socket, users
    would reach that release before its health check passed (or before the switch refused it)."""
    initial = {f.path: f.content for f in release_host.release_host_files("rocket", release_host.agent_config("rocket", "file:///var/lib/launchpad/store", health_host="localhost"))}
    live = initial["/etc/nginx/launchpad/initial/rocket-live.conf"]
    servers = [line.split()[1] for line in live.splitlines() if line.strip().startswith("server ")]
    assert servers == ["unix:/run/rocket-none.sock"] * 2
    assert not any(f"rocket-{slot}.sock" in live for slot in ("a", "b"))
