"""Venvs are built without root: pip runs as `launchpad-build` in a sandboxed transient unit that
may write only its build folder and the pip cache; root checks what it left (no hard links, no
special files), takes ownership and moves it into place read-only for the app. gunicorn, when
the app names none, is agent.json's pin (the deployer's one constant), never a literal of the
agent's. (pip as that user on a booted machine: tests/agent/test_e2e_agent.py.)"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

import pytest

import kit
from kit import agent
from launchpad.providers import GUNICORN_REQUIREMENT
from launchpad.render import release_host

rules = agent("rules")
build = agent("build")


def props(argv: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in argv[:argv.index("--")]:
        if a.startswith("--property="):
            key, _, value = a.removeprefix("--property=").partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_pip_runs_as_the_builder_in_a_sandbox_writing_only_its_folder_and_the_cache() -> None:
    argv = rules.build_command(["python3", "-m", "pip", "install", "flask"], "/srv/rocket/venvs/0123.tmp", 3600)
    assert argv[:2] == ["systemd-run", "--quiet"] and "--wait" in argv and "--pipe" in argv
    assert "--uid=launchpad-build" in argv and "--gid=launchpad-build" in argv
    assert argv[argv.index("--") + 1:] == ["python3", "-m", "pip", "install", "flask"]
    p = props(argv)
    assert p["ReadWritePaths"] == ["/srv/rocket/venvs/0123.tmp /var/cache/launchpad/pip"]
    for key, value in [("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", ""),
                       ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("RestrictSUIDSGID", "yes"),
                       ("KillMode", "control-group"), ("RuntimeMaxSec", "3600")]:
        assert p[key] == [value], key
    assert "--setenv=PIP_CACHE_DIR=/var/cache/launchpad/pip" in argv
    assert not any("PIP_ROOT_USER_ACTION" in a for a in argv)


def test_the_builder_is_a_user_the_cloud_config_creates() -> None:
    from launchpad.render import bootstrap
    from launchpad.settings import validate

    text = bootstrap.render(validate({}, "test")).user_data
    assert f"- name: {rules.BUILD_USER}\n" in text
    script = {f.path: f.content for f in bootstrap.host_files(validate({}, "test"))}[release_host.BOOTSTRAP]
    assert f"install -d -o {rules.BUILD_USER} -g {rules.BUILD_USER} -m 0700 /var/cache/launchpad/pip" in script


def test_gunicorn_comes_from_agent_json_the_one_pin() -> None:
    cfg = release_host.agent_config("rocket", release_host.LOCAL_STORE, health_host="localhost")
    assert cfg["gunicorn"] == GUNICORN_REQUIREMENT == "gunicorn~=27.0"
    assert rules.gunicorn_requirement(cfg) == GUNICORN_REQUIREMENT
    agent_source = "\n".join(p.read_text() for p in (kit.AGENT_DIR / "launchpad_agent").glob("*.py"))
    assert "gunicorn~=" not in agent_source  # no second literal in the agent


@pytest.mark.parametrize("value", [None, "", "flask", "gunicorn; rm -rf /", "gunicorn~=27.0\n", "--index-url=http://x gunicorn"])
def test_a_missing_or_odd_gunicorn_pin_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="agent.json gunicorn"):
        rules.gunicorn_requirement({} if value is None else {"gunicorn": value})


def test_constraint_files_are_copied_for_the_builder(tmp_path: Path) -> None:
    rel, work = tmp_path / "rel", tmp_path / "work"
    (rel / "req").mkdir(parents=True)
    work.mkdir()
    (rel / "requirements.txt").write_text("-r req/base.txt\n-c req/constraints.txt\nFlask\n")
    (rel / "req" / "base.txt").write_text("requests\n")
    (rel / "req" / "constraints.txt").write_text("requests==2.32.3\n")
    args, names = build.requirements("requirements.txt", rel, work)
    flat = Path(args[1]).read_text().splitlines()
    assert flat == ["requests", f"-c {work}/launchpad-constraints-1.txt", "Flask"]
    assert (work / "launchpad-constraints-1.txt").read_text() == "requests==2.32.3\n"
    assert names == ["requests", None, "flask"]
    (rel / "requirements.txt").write_text("-c ../../etc/shadow\n")
    with pytest.raises(rules.Failure, match="no such file in the app"):
        build.requirements("requirements.txt", rel, work)


def test_hard_links_and_special_files_left_by_a_build_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to("/usr/bin/python3")
    (tmp_path / "ok.py").write_text("x = 1\n")
    assert build.odd_member(tmp_path) is None
    os.link(tmp_path / "ok.py", tmp_path / "second-name")
    assert "hard link" in str(build.odd_member(tmp_path))
    (tmp_path / "second-name").unlink()
    os.mkfifo(tmp_path / "pipe")
    assert "special file 'pipe'" in str(build.odd_member(tmp_path))


@pytest.mark.skipif(os.geteuid() != 0, reason="takes ownership: needs root")
def test_root_takes_the_venv_over_read_only_for_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder's run replaced by one that leaves what pip would (scripts with the build
    path, a writable tree owned by the builder); what lands in place is root:<app>, no write bit
    for anyone but root, scripts pointing at the final path."""
    nobody = pwd.getpwnam("nobody")
    monkeypatch.setattr(build, "builder", lambda: (nobody.pw_uid, nobody.pw_gid))
    monkeypatch.setattr(build, "PIP_CACHE", str(tmp_path / "cache"))
    ran: list[list[str]] = []

    def fake_run(argv: list[str], work: Path) -> None:
        ran.append(argv)
        assert os.stat(work).st_uid == nobody.pw_uid  # the builder owns its folder while it builds
        if argv[:3] == ["python3", "-m", "venv"]:
            (work / "bin").mkdir()
            (work / "bin" / "python").symlink_to("/usr/bin/python3")
            return
        site = work / "lib" / "python3.11" / "site-packages"
        (site / "gunicorn-27.0.1.dist-info").mkdir(parents=True)
        script = work / "bin" / "gunicorn"
        script.write_text(f"#!{work}/bin/python\nimport gunicorn\n")
        script.chmod(0o777)
        (site / "mod.py").write_text("x = 1\n")
        (site / "mod.py").chmod(0o666)
        for p in [work, *work.rglob("*")]:
            os.lchown(p, nobody.pw_uid, nobody.pw_gid)

    monkeypatch.setattr(build, "run_as_builder", fake_run)
    rel = tmp_path / "rel"
    rel.mkdir()
    (rel / "requirements.txt").write_text("Flask~=3.1\n")
    gid = grp.getgrnam("root").gr_gid
    cfg = release_host.agent_config("rocket", release_host.LOCAL_STORE, health_host="localhost")
    manifest = kit.manifest(b"x", deps="requirements.txt", deps_hash="ab" * 8)
    path = build.venv(cfg, tmp_path / "srv", gid, manifest, rel)
    assert path == tmp_path / "srv" / "venvs" / ("ab" * 8) and not path.with_name(path.name + ".tmp").exists()
    assert ran[1][-1] == GUNICORN_REQUIREMENT  # the app names none
    for p in [path, *path.rglob("*")]:
        st = os.lstat(p)
        assert (st.st_uid, st.st_gid) == (0, gid), p
        if not stat.S_ISLNK(st.st_mode):
            assert st.st_mode & 0o022 == 0 and st.st_mode & 0o007 == 0, (p, oct(st.st_mode))
    assert (path / "bin" / "gunicorn").read_text().startswith(f"#!{path}/bin/python\n")
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o751
    assert os.stat(tmp_path / "cache").st_uid == nobody.pw_uid  # the cache is the builder's
