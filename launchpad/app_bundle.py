"""Packs an app folder into the tar.gz that travels inside user-data.

The archive is deterministic (sorted entries, zeroed times and owners, fixed gzip
header) so the same folder always renders the same user-data: Pulumi then sees
no diff and does not replace the host for nothing.
"""

from __future__ import annotations

import base64
import gzip
import io
import tarfile
from functools import lru_cache
from pathlib import Path

# Build and editor debris that has no business on a server.
EXCLUDED_DIRS = {"__pycache__", ".git", ".venv", "venv", ".mypy_cache", ".pytest_cache", "node_modules"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".swp")


def _members(root: Path) -> list[Path]:
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in EXCLUDED_DIRS for part in rel.parts) or path.name.endswith(EXCLUDED_SUFFIXES):
            continue
        if path.is_file() and not path.is_symlink():
            out.append(path)
    return out


def pack(root: Path) -> bytes:
    """tar.gz of the folder's files, paths relative to it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _members(root):
            info = tarfile.TarInfo(str(path.relative_to(root)))
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), compresslevel=9, mtime=0)


@lru_cache(maxsize=8)
def _pack_b64_cached(root: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    return base64.b64encode(pack(Path(root))).decode()


def pack_b64(root: Path) -> str:
    """Base64 of `pack(root)`, cached on the files' names, sizes and mtimes (validation and rendering both pack)."""
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in _members(root))
    return _pack_b64_cached(str(root.resolve()), stamp)
