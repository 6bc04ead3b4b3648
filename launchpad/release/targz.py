"""Deterministic tar.gz writing, shared by the release artifact and the Heroku source tarball.

Both must give the same bytes for the same content on any machine (Pulumi sees no diff, hosts and
Heroku reuse what they have): members carry mtime 0, owner 0 and no owner names, and the gzip
header neither a file name nor a time. The archive is streamed to a temporary file in the target
folder while its sha256 is computed, then moved to the name derived from that hash (kept as is
when already there), so a half-written archive never carries a real name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

GZIP_LEVEL = 6
"""zlib's default: static assets (already compressed) dominate big apps, so higher levels buy little."""


def member(name: str, size: int = 0, mode: int = 0o644, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    """A member header with nothing machine-specific in it: mtime 0, uid/gid 0, no owner names."""
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode, info.mtime = kind, size, mode, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _HashingWriter:
    """File-like sink that hashes and counts what gzip writes, on its way to disk."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def write_named(folder: Path, tmp_prefix: str, final: Callable[[str], Path],
                fill: Callable[[tarfile.TarFile], None]) -> tuple[Path, str, int]:
    """Streams `fill(tar)` into `final(sha256)` (a path in `folder`); returns (path, sha256, bytes)."""
    fd, tmp_name = tempfile.mkstemp(prefix=tmp_prefix, suffix=".tar.gz", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            sink = _HashingWriter(raw)
            # filename="" and mtime=0: the gzip header carries neither a name nor a time.
            with gzip.GzipFile(filename="", mode="wb", fileobj=sink, compresslevel=GZIP_LEVEL, mtime=0) as gz:
                with tarfile.TarFile(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    fill(tar)
            raw.flush()
            os.fsync(raw.fileno())
        sha = sink.digest.hexdigest()
        path = final(sha)
        os.chmod(tmp, 0o644)
        if path.exists():
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path, sha, sink.size
