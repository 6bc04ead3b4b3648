"""launchpad/render/heroku_source.py: the tarball Heroku builds is the release artifact plus the generated files, deterministic."""

from __future__ import annotations

import gzip
import shutil
import tarfile
from pathlib import Path

import pytest

from launchpad.release import artifact
from launchpad.render import heroku
from launchpad.render.heroku_source import SourceError, WebSettings, build_source
from launchpad.settings import SAMPLE_APP

WEB = WebSettings(module="rocket:app")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    shutil.copytree(SAMPLE_APP, folder)
    return folder


def _source(app: Path, out: Path, web: WebSettings = WEB, **kwargs):
    art = artifact.build(app, out)
    return art, build_source(art.path, art.sha256, web, **kwargs)


def _members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar}


def _read(path: Path, name: str) -> str:
    with tarfile.open(path) as tar:
        f = tar.extractfile(name)
        assert f is not None
        return f.read().decode()


def test_the_artifact_plus_the_files_heroku_reads(app: Path, tmp_path: Path) -> None:
    art, source = _source(app, tmp_path / "out")
    members = _members(source.path)
    shipped = set(_members(art.path))
    assert shipped <= set(members)
    assert set(members) - shipped == {".launchpad", ".launchpad/gunicorn.conf.py", ".profile", ".python-version", "Procfile"}
    assert source.generated == (".launchpad/gunicorn.conf.py", ".profile", ".python-version", "Procfile", "requirements.txt")
    assert _read(source.path, "rocket.py") == (app / "rocket.py").read_text()
    assert _read(source.path, "requirements.txt").startswith((app / "requirements.txt").read_text())
    assert f"LAUNCHPAD_RELEASE = '{source.release_id}'" in _read(source.path, heroku.CONF)
    assert source.path == art.path.parent / f"heroku-{source.sha256}.tar.gz"


def test_deterministic_and_normalized(app: Path, tmp_path: Path) -> None:
    _, first = _source(app, tmp_path / "a")
    _, second = _source(app, tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert (first.sha256, first.release_id) == (second.sha256, second.release_id)
    raw = first.path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header: no time
    assert not raw[3] & 0x08  # gzip header: no file name
    for member in _members(first.path).values():
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
        assert member.mode in (0o644, 0o755)
    gzip.decompress(raw)


@pytest.mark.parametrize("change", ["code", "module", "release", "workers"])
def test_any_change_makes_a_new_tarball_and_release(app: Path, tmp_path: Path, change: str) -> None:
    _, before = _source(app, tmp_path / "out")
    web = WEB
    if change == "code":
        (app / "rocket.py").write_text((app / "rocket.py").read_text() + "\n# changed\n")
    elif change == "module":
        (app / "wsgi.py").write_text("from rocket import app\n")
        web = WebSettings(module="wsgi:app")
    elif change == "release":
        web = WebSettings(module="rocket:app", release_command="flask db upgrade")
    else:
        web = WebSettings(module="rocket:app", workers=4)
    _, after = _source(app, tmp_path / "out", web)
    assert after.sha256 != before.sha256 and after.release_id != before.release_id
    assert after.path != before.path and before.path.exists()


def test_the_apps_own_procfile_is_replaced_and_its_profile_kept(app: Path, tmp_path: Path) -> None:
    (app / "Procfile").write_text("web: python rocket.py\n")
    (app / ".profile").write_text("export FROM_APP=1\n")
    _, source = _source(app, tmp_path / "out")
    names = list(_members(source.path))
    assert names.count("Procfile") == 1 and names.count(".profile") == 1
    assert _read(source.path, "Procfile").startswith("web: gunicorn ")
    assert _read(source.path, ".profile").endswith("export FROM_APP=1\n")


def test_an_unrenderable_setting_is_a_clear_error(app: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="Heroku's release phase takes one command line"):
        _source(app, tmp_path / "out", WebSettings(module="rocket:app", release_command="a\nb"))
