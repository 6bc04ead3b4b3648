"""The release artifact: deterministic bytes, exclusions, symlinks, deps detection, bounded memory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from facts import fact
from launchpad.release.artifact import ArtifactError, build

JOURNAL = Path(__file__).resolve().parents[2] / "apps" / "journal"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def members(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return [m.name for m in tar.getmembers()]


def app(tmp_path: Path, name: str = "app") -> Path:
    return write(tmp_path / name, {
        "wsgi.py": "from site_pkg import create_app\napp = create_app()\n",
        "site_pkg/__init__.py": "def create_app():\n    return None\n",
        "site_pkg/static/style.css": "body { color: red }\n",
        "site_pkg/templates/index.html": "<h1>hi</h1>\n",
        "requirements.txt": "Flask==3.0.3\n",
    })


def test_same_folder_gives_the_same_bytes_whatever_the_mtimes(tmp_path: Path) -> None:
    src = app(tmp_path)
    first = build(src, tmp_path / "out1")
    for path in src.rglob("*"):
        os.utime(path, (time.time() - 86400 * 30, time.time() - 86400 * 30))
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "run.sh").unlink()
    second = build(src, tmp_path / "out2")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.path.name == f"{first.sha256}.tar.gz"
    assert first.source_hash == second.source_hash


def test_members_are_relative_root_owned_and_timeless(tmp_path: Path) -> None:
    src = app(tmp_path)
    (src / "manage.sh").write_text("#!/bin/sh\n")
    (src / "manage.sh").chmod(0o750)
    art = build(src, tmp_path / "out")
    with tarfile.open(art.path) as tar:
        infos = {m.name: m for m in tar.getmembers()}
    assert sorted(infos) == ["manage.sh", "requirements.txt", "site_pkg", "site_pkg/__init__.py", "site_pkg/static",
                             "site_pkg/static/style.css", "site_pkg/templates", "site_pkg/templates/index.html", "wsgi.py"]
    assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and not m.uname for m in infos.values())
    assert infos["manage.sh"].mode == 0o755 and infos["wsgi.py"].mode == 0o644 and infos["site_pkg"].mode == 0o755
    raw = art.path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0", "gzip header mtime must be zero"
    assert art.files == 6 and art.bytes == len(raw)


def test_content_changes_change_the_hashes_and_mtime_alone_does_not(tmp_path: Path) -> None:
    src = app(tmp_path)
    a = build(src, tmp_path / "out")
    (src / "wsgi.py").write_text("app = None\n")
    b = build(src, tmp_path / "out")
    assert a.sha256 != b.sha256 and a.source_hash != b.source_hash
    assert a.deps_hash == b.deps_hash, "code changes keep the venv"
    (src / "requirements.txt").write_text("Flask==3.1.0\n")
    c = build(src, tmp_path / "out")
    assert c.deps_hash != b.deps_hash and c.deps == "requirements.txt"


EXCLUDED = {
    ".git/HEAD": "ref: main", ".env": "SECRET_KEY=x", ".env.production": "X=1", "pkg/.env.local": "Y=2",
    "__pycache__/wsgi.cpython-311.pyc": b"\0", "pkg/mod.pyc": b"\0", ".venv/bin/python": "", "venv/pyvenv.cfg": "",
    "instance/app.sqlite": b"SQLite", "pkg/instance/config.py": "SECRET_KEY='x'", "server.pem": "-----BEGIN",
    "tls/site.key": "-----BEGIN", "id_rsa": "-----BEGIN", "keys/id_ed25519.pub": "ssh-ed25519", ".launchpadignore": "",
}


def test_secrets_vcs_caches_instance_and_keys_never_ship(tmp_path: Path) -> None:
    src = write(app(tmp_path), EXCLUDED)
    names = members(build(src, tmp_path / "out").path)
    leaked = [n for n in names if any(n == e or n.startswith(e + "/") for e in EXCLUDED)]
    assert leaked == []
    assert not any(part in (".git", "__pycache__", ".venv", "venv", "instance") for n in names for part in n.split("/"))


def test_launchpadignore_patterns(tmp_path: Path) -> None:
    src = write(app(tmp_path), {
        ".launchpadignore": textwrap.dedent("""\
            # comments and blank lines are skipped

            docs/
            *.log
            /build
            assets/**/raw
            **/fixtures/*.json
            !keep.log
            node_modules/
            tests/**
            !.env
        """),
        "docs/index.md": "x", "pkg/docs/inner.md": "x", "app.log": "x", "pkg/debug.log": "x", "keep.log": "x",
        "build/out.js": "x", "pkg/build/kept.txt": "x", "assets/img/raw/big.psd": "x", "assets/img/web.png": "x",
        "data/fixtures/a.json": "x", "data/fixtures/a.yaml": "x", "node_modules/x/index.js": "x",
        "tests/test_a.py": "x", ".env": "SECRET=1",
    })
    names = set(members(build(src, tmp_path / "out").path))
    assert {"keep.log", "pkg/build/kept.txt", "assets/img/web.png", "data/fixtures/a.yaml"} <= names
    for gone in ("docs/index.md", "pkg/docs/inner.md", "app.log", "pkg/debug.log", "build/out.js",
                 "assets/img/raw/big.psd", "data/fixtures/a.json", "node_modules/x/index.js", "tests/test_a.py", ".env"):
        assert gone not in names, gone


def test_symlink_inside_ships_as_relative_link_and_outside_is_refused(tmp_path: Path) -> None:
    src = app(tmp_path)
    (src / "style.css").symlink_to(src / "site_pkg" / "static" / "style.css")
    art = build(src, tmp_path / "out")
    with tarfile.open(art.path) as tar:
        link = tar.getmember("style.css")
    assert link.issym() and link.linkname == "site_pkg/static/style.css"

    (tmp_path / "outside.txt").write_text("not yours")
    (src / "leak.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(ArtifactError, match=r"leak.txt.*points outside the app folder"):
        build(src, tmp_path / "out")
    (src / "leak.txt").unlink()
    (src / "up").symlink_to("../")
    with pytest.raises(ArtifactError, match="points outside"):
        build(src, tmp_path / "out")


@pytest.mark.parametrize("files, deps", [
    ({"requirements.txt": "flask\n", "pyproject.toml": "[project]\n"}, "requirements.txt"),
    ({"pyproject.toml": "[project]\nname='x'\n"}, "pyproject.toml"),
    ({"wsgi2.py": ""}, "none"),
])
def test_deps_detection(tmp_path: Path, files: dict[str, str], deps: str) -> None:
    src = write(tmp_path / "a", {"wsgi.py": "app = None\n", **files})
    assert build(src, tmp_path / "out").deps == deps


def test_deps_hash_follows_included_requirement_files(tmp_path: Path) -> None:
    src = write(tmp_path / "a", {"wsgi.py": "", "requirements.txt": "-r requirements/base.txt\n-c constraints.txt\n",
                                  "requirements/base.txt": "flask==3.0.0\n", "constraints.txt": "werkzeug<4\n"})
    before = build(src, tmp_path / "out").deps_hash
    (src / "requirements" / "base.txt").write_text("flask==3.1.0\n")
    assert build(src, tmp_path / "out").deps_hash != before


def test_output_folder_inside_the_app_is_not_packed(tmp_path: Path) -> None:
    src = app(tmp_path)
    art = build(src, src / "dist")
    again = build(src, src / "dist")
    assert not any(n.startswith("dist") for n in members(art.path))
    assert art.sha256 == again.sha256


def test_an_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="is not a folder"):
        build(tmp_path / "nope", tmp_path / "out")
    write(tmp_path / "only-secrets", {".env": "A=1", ".git/config": ""})
    with pytest.raises(ArtifactError, match="no files left to ship"):
        build(tmp_path / "only-secrets", tmp_path / "out")


@pytest.mark.skipif(not (JOURNAL / "journal").is_dir(), reason="tests/apps/journal not written yet")
def test_journal_app_ships_without_its_env_and_instance(tmp_path: Path) -> None:
    names = members(build(JOURNAL, tmp_path / "out").path)
    assert "requirements.txt" in names and any(n.startswith("journal/static/") for n in names)
    assert not any(n == ".env" or n.startswith(".env.") or n.split("/")[0] == "instance" for n in names)
    assert not any("__pycache__" in n for n in names)


PACK_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from launchpad.release.artifact import build
started = time.monotonic()
art = build(Path(sys.argv[1]), Path(sys.argv[2])) if sys.argv[1] != "-" else None
print(json.dumps({"rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "seconds": time.monotonic() - started, "bytes": art.bytes if art else 0}))
"""


def test_a_200_mb_app_packs_in_bounded_memory(tmp_path: Path) -> None:
    src = app(tmp_path)
    for i in range(40):  # 40 x 5 MiB = 200 MiB of incompressible "assets"
        (src / "site_pkg" / "static" / f"video-{i:02}.bin").write_bytes(os.urandom(5 << 20))
    total = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
    assert total >= 200 * 10**6

    def run(*args: str) -> dict[str, float]:
        out = subprocess.run([sys.executable, "-c", PACK_SCRIPT, *args], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    baseline = run("-", "-")
    packed = run(str(src), str(tmp_path / "out"))
    grown_mib = (packed["rss_kib"] - baseline["rss_kib"]) / 1024
    fact(f"artifact: {total / 2**20:.0f} MiB app packed in {packed['seconds']:.1f} s, "
         f"{packed['bytes'] / 2**20:.0f} MiB tar.gz, peak RSS {packed['rss_kib'] / 1024:.0f} MiB "
         f"(+{grown_mib:.1f} MiB over the same interpreter importing the builder)")
    assert packed["bytes"] >= total
    assert grown_mib < 32, f"packing grew RSS by {grown_mib:.1f} MiB: not streaming"

    again = run(str(src), str(tmp_path / "out"))
    fact(f"artifact: unchanged 200 MiB app, second build {again['seconds']:.2f} s (stamp cache)")
    assert again["seconds"] < 2
