"""The source tarball Heroku builds: the release artifact plus the files Heroku needs to run it.

Heroku's buildpack reads the Procfile, `.python-version` and `requirements.txt` from the
source itself, so they must be inside the tarball. `build_source` streams the artifact
(launchpad/release/artifact.py: the same tar.gz the VM hosts receive) member by member into
a new tar.gz, replacing or adding the files launchpad/render/heroku.py renders. The result is
deterministic like the artifact (mtime 0, owner 0, modes 0644/0755, no gzip name or time),
written once to `<artifact folder>/heroku-<sha256>.tar.gz`: the same app and settings give the
same bytes, so Pulumi sees no change; any change gives a new name, which replaces the build.

The release id (12 hex) names what this tarball runs: the sha256 of the artifact's hash and
the generated files rendered with an empty id. gunicorn answers it in `X-Launchpad-Release`,
and the readiness check waits for it on the app's URL.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from launchpad.render import heroku

PREFIX = "heroku-"
GZIP_LEVEL = 6
MAX_READ = 1024 * 1024
"""The files read back from the artifact (requirements, pyproject, .profile) are small; a bigger one is not text."""


class SourceError(ValueError):
    """The artifact cannot be turned into a Heroku source; the message says why and what to do."""


@dataclass(frozen=True)
class WebSettings:
    """What the generated files say, as plain values (from the validated settings)."""

    module: str
    workers: int | None = None
    threads: int | None = None
    release_command: str | None = None


@dataclass(frozen=True)
class HerokuSource:
    path: Path
    sha256: str
    release_id: str
    bytes: int
    generated: tuple[str, ...]
    """Names launchpad/render/heroku.py wrote (added, or replacing the app's own)."""


class _HashingWriter:
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


def _reader(artifact: Path) -> heroku.Reader:
    """Reads small regular members of the artifact by name (one pass over the archive)."""
    wanted: dict[str, bytes] = {}
    with tarfile.open(artifact, mode="r:gz") as tar:
        for member in tar:
            if member.isfile() and member.size <= MAX_READ and _is_runtime_input(member.name):
                f = tar.extractfile(member)
                if f is not None:
                    wanted[member.name] = f.read()
    return wanted.get


def _is_runtime_input(name: str) -> bool:
    # requirements files anywhere (an -r include may point into a folder), the rest at the root only.
    return name.endswith(".txt") or name in ("pyproject.toml", heroku.PROFILE, *heroku.PYTHON_PINS)


def release_id(artifact_sha256: str, files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(f"launchpad-heroku:1:{artifact_sha256}\n".encode())
    for name in sorted(files):
        digest.update(f"{name}\0".encode())
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()[:12]


def render(artifact: Path, artifact_sha256: str, web: WebSettings, bind_host: str = "0.0.0.0") -> tuple[str, dict[str, bytes]]:
    """The release id and the generated files, without writing anything."""
    read = _reader(artifact)

    def files_for(rid: str) -> dict[str, bytes]:
        try:
            return heroku.runtime_files(read, web.module, web.workers, web.threads, web.release_command, rid, bind_host)
        except ValueError as exc:
            raise SourceError(str(exc)) from None

    rid = release_id(artifact_sha256, files_for(""))
    return rid, files_for(rid)


def _info(name: str, size: int, mode: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode, info.mtime = kind, size, mode, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def build_source(artifact: Path, artifact_sha256: str, web: WebSettings, bind_host: str = "0.0.0.0") -> HerokuSource:
    """Writes `heroku-<sha256>.tar.gz` beside the artifact (kept if already there) and describes it."""
    rid, files = render(artifact, artifact_sha256, web, bind_host)
    folders = sorted({"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)})
    out_dir = artifact.parent
    fd, tmp_name = tempfile.mkstemp(prefix=".heroku-", suffix=".tar.gz", dir=out_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            sink = _HashingWriter(raw)
            with gzip.GzipFile(filename="", mode="wb", fileobj=sink, compresslevel=GZIP_LEVEL, mtime=0) as gz:
                with tarfile.TarFile(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as out:
                    # Generated files first (sorted), then the artifact's members in its own (sorted) order.
                    for folder in folders:
                        out.addfile(_info(folder, 0, 0o755, tarfile.DIRTYPE))
                    for name in sorted(files):
                        out.addfile(_info(name, len(files[name]), 0o644), io.BytesIO(files[name]))
                    with tarfile.open(artifact, mode="r:gz") as src:
                        for member in src:
                            if member.name in files or member.name in folders:
                                continue
                            _copy(src, out, member)
            raw.flush()
            os.fsync(raw.fileno())
        sha = sink.digest.hexdigest()
        final = out_dir / f"{PREFIX}{sha}.tar.gz"
        os.chmod(tmp, 0o644)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return HerokuSource(final, sha, rid, sink.size, tuple(sorted(files)))


def _copy(src: tarfile.TarFile, out: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    if member.isfile():
        info = _info(member.name, member.size, 0o755 if member.mode & 0o111 else 0o644)
        out.addfile(info, src.extractfile(member))
    elif member.isdir():
        out.addfile(_info(member.name, 0, 0o755, tarfile.DIRTYPE))
    elif member.issym():
        info = _info(member.name, 0, 0o777, tarfile.SYMTYPE)
        info.linkname = member.linkname
        out.addfile(info)
    else:
        raise SourceError(f"{member.name}: the artifact holds a {member.type!r} member; only files, folders and links ship")
