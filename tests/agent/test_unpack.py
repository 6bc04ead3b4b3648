"""Unpacking an artifact: hash verified over every byte, nothing written outside the
release, no symlink followed, only files, folders and inside-pointing symlinks."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

import kit
from kit import agent

store = agent("store")
rules = agent("rules")


def unpack(tmp_path: Path, members: list) -> Path:
    dest = tmp_path / "release"
    dest.mkdir()
    store.safe_extract(io.BytesIO(kit.tar_gz(members)), dest)
    return dest


def test_files_folders_and_inside_symlinks(tmp_path: Path) -> None:
    dest = unpack(tmp_path, [("pkg", "dir", ""), ("pkg/__init__.py", "file", "x = 1\n"), ("pkg/static", "dir", ""),
                             ("pkg/static/app.css", "file", "body{}"), ("pkg/current.css", "link", "static/app.css"),
                             ("./run.sh", "file", "#!/bin/sh\n")])
    assert (dest / "pkg/__init__.py").read_text() == "x = 1\n"
    assert (dest / "pkg/current.css").read_text() == "body{}"
    assert (dest / "run.sh").is_file()


@pytest.mark.parametrize("members, message", [
    ([("../evil", "file", "x")], "escaping path"),
    ([("a/../../evil", "file", "x")], "escaping path"),
    ([("/etc/cron.d/evil", "file", "x")], "absolute or escaping path"),
    ([("link", "link", "/etc/passwd")], "absolute path"),
    ([("a/link", "link", "../../outside")], "leaves the release"),
    ([("link", "link", "x/../../..")], "leaves the release"),
    ([("dir", "link", "."), ("dir/file", "file", "x")], "inside or over a symlink"),
    ([("hard", "hardlink", "etc/passwd")], "hardlink members are not allowed"),
    ([("fifo", "fifo", "")], "special members are not allowed"),
    ([(".launchpad-venv", "link", ".")], "reserved name"),
    ([("dup", "file", "a"), ("dup", "file", "b")], None),
])
def test_refused_members(tmp_path: Path, members: list, message: str | None) -> None:
    with pytest.raises((rules.Failure, FileExistsError)) as err:
        unpack(tmp_path, members)
    if message:
        assert message in str(err.value)
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()


def test_symlinks_are_made_last_so_no_write_goes_through_them(tmp_path: Path) -> None:
    # A symlink member followed by a member of the same name as a file must not write through it.
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(rules.Failure):
        unpack(tmp_path, [("x", "link", "y"), ("x", "file", "data")])
    assert list(outside.iterdir()) == []


def test_hashing_reader_covers_every_byte() -> None:
    data = kit.tar_gz([("a", "file", "1")]) + b"\0" * 1024
    digest = hashlib.sha256()
    reader = store.Hashing(io.BytesIO(data), digest)
    while reader.read(7):
        pass
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_file_store_reads_keys(tmp_path: Path) -> None:
    data = kit.publish(tmp_path, kit.tar_gz([("app.py", "file", "app = None\n")]))
    fs = store.open_store({"store": f"file://{tmp_path}"})
    assert fs.get("releases/desired.json") is not None
    assert fs.get("releases/nope.json") is None
    with fs.open(f"artifacts/{data['artifact']}.tar.gz") as f:
        assert hashlib.sha256(f.read()).hexdigest() == data["artifact"]


def test_secrets_from_the_file_store(tmp_path: Path) -> None:
    data = kit.publish(tmp_path, kit.tar_gz([("a", "file", "")]), secrets={"SECRET_KEY": "k", "API_TOKEN": "t"})
    fs = store.open_store({"store": f"file://{tmp_path}"})
    assert store.fetch_secrets({"secrets": {"kind": "file"}}, fs, data) == [("API_TOKEN", "t"), ("SECRET_KEY", "k")]
    data["secrets"]["names"].append("MISSING")
    with pytest.raises(rules.Failure, match="MISSING"):
        store.fetch_secrets({"secrets": {"kind": "file"}}, fs, data)
    with pytest.raises(rules.Failure, match="kind 'vault'"):
        store.fetch_secrets({"secrets": {"kind": "vault"}}, fs, data)
