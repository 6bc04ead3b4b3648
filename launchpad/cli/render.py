"""`launchpad render` and `launchpad config-reference`: what a stack will run, written out for review."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from launchpad.cli.common import StackOpt, load_settings
from launchpad.render import release_host
from launchpad.render.bootstrap import host_files, render_user_data
from launchpad.settings import reference_markdown


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def render(stack: StackOpt = "dev", out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("out")) -> None:
    """Write the files the stack's host will run, for review: user-data, nginx, systemd units, scripts.

    Each file lands at its path on the host under OUT/<stack>/host/; the release agent the
    host fetches is listed with checksums (launchpad-agent.manifest) instead of as an opaque
    zip. Values only the cloud knows (database endpoint, secret ARN) appear as <placeholders>.
    """
    settings = load_settings(stack)
    # The database is agent.json's `database` section (placeholders for what only the cloud knows).
    root = out / stack
    _write(root / "user-data", render_user_data(settings))
    for f in host_files(settings):
        if f.b64:
            _write(root / "host" / (f.path.lstrip("/") + ".manifest"), _manifest(f.content))
        else:
            _write(root / "host" / f.path.lstrip("/"), f.content)
    # The release agent is not in user-data: the bootstrap fetches it from the stack's store and
    # runs it only with the sha256 pinned there. Listed here like any packed file, for review.
    _write(root / "host" / (release_host.AGENT.lstrip("/") + ".manifest"),
           f"# {release_host.AGENT}: fetched from the store's {release_host.agent_key()} (sha256 pinned in user-data)\n"
           + _manifest(base64.b64encode(release_host.agent_pyz()).decode()))
    typer.echo(f"rendered stack {stack} ({settings.provider}) into {root}")


def _manifest(b64: str) -> str:
    lines = []
    raw = base64.b64decode(b64)
    if zipfile.is_zipfile(io.BytesIO(raw)):  # the release agent, one executable zip
        with zipfile.ZipFile(io.BytesIO(raw)) as pyz:
            for info in sorted(pyz.infolist(), key=lambda i: i.filename):
                lines.append(f"{hashlib.sha256(pyz.read(info)).hexdigest()}  {info.file_size:>8}  {info.filename}")
        return "\n".join(lines) + "\n"
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for m in sorted(tar.getmembers(), key=lambda m: m.name):
            data = tar.extractfile(m)
            digest = hashlib.sha256(data.read()).hexdigest() if data else "-"
            lines.append(f"{digest}  {m.size:>8}  {m.name}")
    return "\n".join(lines) + "\n"


def config_reference() -> None:
    """Print the config reference (Markdown), generated from the settings model."""
    typer.echo(reference_markdown())
