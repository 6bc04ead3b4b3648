"""The release artifact: an app folder as a deterministic tar.gz, named by its sha256.

`build(app_path, out_dir)` walks the folder in sorted order, leaves out what
`launchpad.release.ignore` excludes, and streams every file through tar and gzip
straight to `<out_dir>/artifacts/<sha256>.tar.gz`, in constant memory whatever the
app's size (static assets and all). Members are relative (no `./`), with mtime 0,
uid/gid 0, no owner names, modes 0755 (folders, executables) or 0644, so the same
content gives the same bytes on any machine with the same zlib: Pulumi sees no diff,
and the host's cached release is reused.

A symlink ships as a symlink only when it stays inside the folder (stored relative);
one pointing outside is refused, since it would ship a path that means something
else on the host (or, followed, files the user never meant to publish).

Also computed in the same pass: `source_hash` (the file list and contents, independent
of tar/gzip), and the dependency declaration (`requirements.txt`, else
`pyproject.toml`) with `deps_hash`, which keys the host's venv: unchanged
dependencies reuse the venv.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from launchpad.release import targz
from launchpad.release.ignore import IGNORE_FILE, Ignore

ARTIFACTS = "artifacts"
HOST_PYTHON = "3.11"
"""Debian 12's Python, the interpreter the host's venvs are built with: part of the deps hash."""
DEPS_SCHEME = "1"
"""Bump to make every host build fresh venvs (e.g. when how deps are installed changes)."""
STAMPS = ".stamps"
"""Beside the artifacts: stamp of the app folder (names, sizes, mtimes) -> the artifact built from it,
so `pulumi preview` and `launchpad deploy` do not re-compress an unchanged 200 MB app each time."""
_REQ_INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")


class ArtifactError(ValueError):
    """The app folder cannot be packed; the message names the path and what to do."""


@dataclass(frozen=True)
class Artifact:
    sha256: str
    path: Path
    bytes: int
    source_hash: str
    deps: str
    """`requirements.txt`, `pyproject.toml` or `none`."""
    deps_hash: str
    """16 hex; keys the host's venv."""
    files: int

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def artifact_path(out_dir: Path, sha256: str) -> Path:
    return out_dir / ARTIFACTS / f"{sha256}.tar.gz"


class _HashingReader:
    """Wraps a source file so tar's copy loop also feeds the file's content hash."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        return data


def _entries(root: Path, ignore: Ignore, skip: Path | None) -> list[tuple[str, Path, os.stat_result]]:
    """(relative name, path, lstat) of every member, sorted depth-first by name."""
    out: list[tuple[str, Path, os.stat_result]] = []

    def walk(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as it:
            children = sorted(it, key=lambda e: e.name)
        for child in children:
            path = Path(child.path)
            rel = f"{prefix}{child.name}"
            st = child.stat(follow_symlinks=False)
            is_dir = stat.S_ISDIR(st.st_mode)
            if ignore.excluded(rel, is_dir) or (skip is not None and path == skip):
                continue
            if is_dir:
                out.append((rel, path, st))
                walk(path, rel + "/")
            elif stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                out.append((rel, path, st))
            # Sockets, fifos and devices (a dev server's leftovers) have no meaning on the host.

    walk(root, "")
    return out


def _link_target(root: Path, path: Path, rel: str) -> str:
    target = os.readlink(path)
    resolved = (path.parent / target).resolve() if not os.path.isabs(target) else Path(target).resolve()
    if not resolved.is_relative_to(root):
        raise ArtifactError(f"{path}: symlink to {target!r} points outside the app folder {root}; "
                            f"copy what it points to into the folder, or list {rel!r} in .launchpadignore")
    return os.path.relpath(resolved, path.parent.resolve())


def _deps(root: Path, shipped: set[str]) -> tuple[str, str]:
    """Which shipped file declares the dependencies, and a hash of everything pip would read for them."""
    def has(name: str) -> bool:
        return name in shipped

    if has("requirements.txt"):
        kind, files = "requirements.txt", _requirement_files(root, "requirements.txt", shipped, set())
    elif has("pyproject.toml"):
        kind, files = "pyproject.toml", [n for n in ("pyproject.toml", "setup.cfg", "setup.py") if has(n)]
    else:
        kind, files = "none", []
    digest = hashlib.sha256(f"launchpad-deps:{DEPS_SCHEME}:python{HOST_PYTHON}:{kind}\n".encode())
    for rel in files:
        digest.update(f"{rel}\0".encode())
        digest.update(hashlib.sha256((root / rel).read_bytes()).digest())
    return kind, digest.hexdigest()[:16]


def _requirement_files(root: Path, rel: str, shipped: set[str], seen: set[str]) -> list[str]:
    """A requirements file and the shipped ones it includes (`-r`, `-c`), as relative names."""
    if rel in seen or rel not in shipped:
        return []
    seen.add(rel)
    files = [rel]
    for line in (root / rel).read_text(encoding="utf-8", errors="replace").splitlines():
        match = _REQ_INCLUDE.match(line)
        if match:
            included = os.path.normpath(os.path.join(os.path.dirname(rel), match.group(1)))
            files += _requirement_files(root, Path(included).as_posix(), shipped, seen)
    return files


def build(app_path: Path, out_dir: Path) -> Artifact:
    """Packs `app_path` into `<out_dir>/artifacts/<sha256>.tar.gz` (kept if already there)."""
    root = app_path.resolve()
    if not root.is_dir():
        raise ArtifactError(f"app.path {str(app_path)!r} is not a folder; point it at the folder holding your app")
    target_dir = out_dir / ARTIFACTS
    target_dir.mkdir(parents=True, exist_ok=True)
    # The output folder may sit inside the app (app.path "." in the app's own repo): never pack it.
    skip = out_dir.resolve() if out_dir.resolve().is_relative_to(root) else None
    entries = _entries(root, Ignore.for_app(root), skip)
    if not any(stat.S_ISREG(st.st_mode) for _, _, st in entries):
        raise ArtifactError(f"app.path {str(app_path)!r}: no files left to ship after exclusions ({root})")

    ignore_file = root / IGNORE_FILE
    stamp = _stamp(entries, ignore_file.read_text(errors="replace") if ignore_file.is_file() else "")
    cached = _cached(out_dir, stamp)
    if cached is not None:
        return cached

    source = hashlib.sha256(b"launchpad-source:1\n")

    def fill(tar: tarfile.TarFile) -> None:
        for rel, path, st in entries:
            _add(tar, root, rel, path, st, source)

    final, sha, size = targz.write_named(target_dir, ".build-", lambda sha: artifact_path(out_dir, sha), fill)
    deps, deps_hash = _deps(root, {rel for rel, _, st in entries if stat.S_ISREG(st.st_mode)})
    files = sum(1 for _, _, st in entries if not stat.S_ISDIR(st.st_mode))
    artifact = Artifact(sha, final, size, source.hexdigest(), deps, deps_hash, files)
    _remember(out_dir, stamp, artifact)
    return artifact


def _add(tar: tarfile.TarFile, root: Path, rel: str, path: Path, st: os.stat_result, source: Any) -> None:
    if stat.S_ISDIR(st.st_mode):
        tar.addfile(targz.member(rel, 0, 0o755, tarfile.DIRTYPE))
        source.update(f"d\0{rel}\n".encode())
    elif stat.S_ISLNK(st.st_mode):
        info = targz.member(rel, 0, 0o777, tarfile.SYMTYPE)
        info.linkname = _link_target(root, path, rel)
        tar.addfile(info)
        source.update(f"l\0{rel}\0{info.linkname}\n".encode())
    else:
        info = targz.member(rel, st.st_size, 0o755 if st.st_mode & 0o111 else 0o644)
        with open(path, "rb") as f:
            reader = _HashingReader(f)
            tar.addfile(info, reader)
        source.update(f"f\0{rel}\0{info.mode:o}\0{reader.digest.hexdigest()}\n".encode())


def _stamp(entries: list[tuple[str, Path, os.stat_result]], ignore_rules: str) -> str:
    """Names, sizes, modes and mtimes: cheap to read, and any edit changes them."""
    digest = hashlib.sha256(f"launchpad-stamp:{targz.GZIP_LEVEL}:{DEPS_SCHEME}\n{ignore_rules}\n".encode())
    for rel, _, st in entries:
        digest.update(f"{rel}\0{st.st_mode:o}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    return digest.hexdigest()


def _cached(out_dir: Path, stamp: str) -> Artifact | None:
    note = out_dir / ARTIFACTS / STAMPS / f"{stamp}.json"
    try:
        data = json.loads(note.read_text())
        found = Artifact(**{**data, "path": Path(data["path"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not found.path.is_file() or found.path.stat().st_size != found.bytes:
        return None
    return found


def _remember(out_dir: Path, stamp: str, artifact: Artifact) -> None:
    folder = out_dir / ARTIFACTS / STAMPS
    folder.mkdir(exist_ok=True)
    tmp = folder / f".{stamp}.tmp"
    tmp.write_text(json.dumps(artifact.to_dict(), sort_keys=True))
    os.replace(tmp, folder / f"{stamp}.json")
