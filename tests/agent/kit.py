"""A minimal release publisher for the agent's tests: artifacts, manifests and pointers
in a store folder, exactly as the release contract says (README, "Release contract"),
without the deployer's code, so the agent's tests hold whatever state that code is in.

Also loads the agent package from files/agent/ (it is not a package of the repo).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import json
import sys
import tarfile
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AGENT_DIR = ROOT / "files" / "agent"


def agent(module: str) -> ModuleType:
    """launchpad_agent.<module>, imported from files/agent/."""
    if str(AGENT_DIR) not in sys.path:
        sys.path.insert(0, str(AGENT_DIR))
    return importlib.import_module(f"launchpad_agent.{module}")


def tar_gz(members: list[tuple[str, str, bytes | str]]) -> bytes:
    """(name, kind file|dir|link|hardlink|fifo, content or link target) -> deterministic tar.gz."""
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                body = data.encode() if isinstance(data, str) else data
                info.size, info.mode = len(body), 0o644
                tar.addfile(info, io.BytesIO(body))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            info.mode = 0o755
            info.linkname = data if isinstance(data, str) else data.decode()
            tar.addfile(info)
    return raw.getvalue()


def folder_members(folder: Path) -> list[tuple[str, str, bytes | str]]:
    out: list[tuple[str, str, bytes | str]] = []
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(folder).as_posix()
        out.append((rel, "dir", "") if path.is_dir() else (rel, "file", path.read_bytes()))
    return out


def manifest(artifact: bytes, **fields: Any) -> dict[str, Any]:
    """A schema-1 manifest for `artifact`, its id computed as the contract says."""
    data: dict[str, Any] = {
        "schema": 1, "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "artifact": hashlib.sha256(artifact).hexdigest(), "artifact_bytes": len(artifact),
        "source_hash": hashlib.sha256(b"source" + artifact).hexdigest(), "deps_hash": "0" * 16, "deps": "none",
        "app": "rocket", "module": "app:app", "env": {}, "secrets": {"version": "", "names": []},
        "release_command": None, "health_path": None, "static": {}, "writable": [], "workers": None,
        "threads": None, "keep": 5,
    }
    data.update(fields)
    body = {k: v for k, v in data.items() if k not in ("id", "created")}
    data["id"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()[:12]
    return data


def publish(store: Path, artifact: bytes, secrets: dict[str, str] | None = None, desire: bool = True, **fields: Any) -> dict[str, Any]:
    """Writes artifact, manifest (and secrets) into a store folder; points desired at it."""
    for sub in ("artifacts", "releases", "secrets"):
        (store / sub).mkdir(parents=True, exist_ok=True)
    if secrets:
        version = hashlib.sha256(json.dumps(secrets, sort_keys=True).encode()).hexdigest()[:16]
        fields["secrets"] = {"version": version, "names": sorted(secrets)}
        (store / "secrets" / f"{version}.json").write_text(json.dumps(secrets))
    data = manifest(artifact, **fields)
    (store / "artifacts" / f"{data['artifact']}.tar.gz").write_bytes(artifact)
    (store / "releases" / f"{data['id']}.json").write_text(json.dumps(data, indent=2, sort_keys=True))
    if desire:
        point(store, data["id"])
    return data


def point(store: Path, release_id: str) -> None:
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    (store / "releases" / "desired.json").write_text(json.dumps({"id": release_id, "at": at}))
