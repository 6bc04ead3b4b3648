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

import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from launchpad.release.targz import member, write_named
from launchpad.render import heroku

PREFIX = "heroku-"
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


def build_source(artifact: Path, artifact_sha256: str, web: WebSettings, bind_host: str = "0.0.0.0") -> HerokuSource:
    """Writes `heroku-<sha256>.tar.gz` beside the artifact (kept if already there) and describes it."""
    rid, files = render(artifact, artifact_sha256, web, bind_host)
    folders = sorted({"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)})
    out_dir = artifact.parent

    def fill(out: tarfile.TarFile) -> None:
        # Generated files first (sorted), then the artifact's members in its own (sorted) order.
        for folder in folders:
            out.addfile(member(folder, 0, 0o755, tarfile.DIRTYPE))
        for name in sorted(files):
            out.addfile(member(name, len(files[name]), 0o644), io.BytesIO(files[name]))
        with tarfile.open(artifact, mode="r:gz") as src:
            for item in src:
                if item.name in files or item.name in folders:
                    continue
                _copy(src, out, item)

    final, sha, size = write_named(out_dir, ".heroku-", lambda sha: out_dir / f"{PREFIX}{sha}.tar.gz", fill)
    return HerokuSource(final, sha, rid, size, tuple(sorted(files)))


def _copy(src: tarfile.TarFile, out: tarfile.TarFile, item: tarfile.TarInfo) -> None:
    if item.isfile():
        info = member(item.name, item.size, 0o755 if item.mode & 0o111 else 0o644)
        out.addfile(info, src.extractfile(item))
    elif item.isdir():
        out.addfile(member(item.name, 0, 0o755, tarfile.DIRTYPE))
    elif item.issym():
        info = member(item.name, 0, 0o777, tarfile.SYMTYPE)
        info.linkname = item.linkname
        out.addfile(info)
    else:
        raise SourceError(f"{item.name}: the artifact holds a {item.type!r} member; only files, folders and links ship")
