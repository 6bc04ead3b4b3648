"""Where releases are published for a host to pull: the `Store` protocol and `DirStore`.

A store root holds (the release contract, /work/plan.md):
    artifacts/<sha256>.tar.gz    the app, content-addressed (written once, never changed)
    releases/<id>.json           manifests
    releases/desired.json        {"id", "at"}: the release the host should run
    secrets/<version>.json       local only: {"NAME": "value"}, root 0600

`DirStore` is the local target's store, a host folder bind-mounted read-only into the
machine at /var/lib/launchpad/store. Every folder is root-only (0700), secrets 0600;
writes go to a temporary name and are renamed into place, so the agent never reads a
half-written manifest or pointer. The cloud stores (S3, Spaces) are written by Pulumi
resources (components/aws/release_store.py, components/digitalocean/release_store.py),
so `pulumi up` owns their objects and their history; the CLI reads them through the
same protocol only where it needs to (listing, rollback).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from launchpad.release.artifact import ARTIFACTS, Artifact, artifact_path
from launchpad.release.manifest import DESIRED, ID, Manifest, ManifestError, Pointer, history

RELEASES = "releases"
SECRETS = "secrets"


class Store(Protocol):
    """A stack's release store, as the deployer sees it."""

    def put_artifact(self, artifact: Artifact) -> bool:
        """Uploads the artifact unless the store has it; True when it was written."""
        ...

    def put_manifest(self, manifest: Manifest) -> None: ...

    def get_manifest(self, release_id: str) -> Manifest | None: ...

    def list_manifests(self) -> list[Manifest]:
        """Newest first."""
        ...

    def set_desired(self, release_id: str) -> Pointer: ...

    def get_desired(self) -> Pointer | None: ...

    def put_secrets(self, version: str, values: Mapping[str, str]) -> None: ...


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DirStore:
    """A store in a local folder (root-only)."""

    def __init__(self, root: Path):
        self.root = root
        for folder in (root, root / ARTIFACTS, root / RELEASES, root / SECRETS):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)

    def put_artifact(self, artifact: Artifact) -> bool:
        target = artifact_path(self.root, artifact.sha256)
        if target.is_file() and target.stat().st_size == artifact.bytes:
            return False
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, open(artifact.path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def put_manifest(self, manifest: Manifest) -> None:
        path = self.root / RELEASES / f"{manifest.id}.json"
        if path.is_file():
            # Same id, same content: keep the first `created`, so history shows when it was first published.
            return
        _atomic_write(path, manifest.to_json().encode(), 0o644)

    def get_manifest(self, release_id: str) -> Manifest | None:
        if not ID.match(release_id):
            return None
        path = self.root / RELEASES / f"{release_id}.json"
        return Manifest.from_json(path.read_bytes()) if path.is_file() else None

    def list_manifests(self) -> list[Manifest]:
        found = []
        for path in (self.root / RELEASES).glob("*.json"):
            if path.name == DESIRED or not ID.match(path.stem):
                continue
            try:
                found.append(Manifest.from_json(path.read_bytes()))
            except ManifestError:
                continue
        return history(found)

    def set_desired(self, release_id: str) -> Pointer:
        if self.get_manifest(release_id) is None:
            raise ManifestError(f"release {release_id!r} is not in the store {self.root}; publish it first")
        pointer = Pointer.to(release_id)
        _atomic_write(self.root / RELEASES / DESIRED, pointer.to_json().encode(), 0o644)
        return pointer

    def get_desired(self) -> Pointer | None:
        path = self.root / RELEASES / DESIRED
        return Pointer.from_json(path.read_bytes()) if path.is_file() else None

    def put_secrets(self, version: str, values: Mapping[str, str]) -> None:
        if not values:
            return
        if not version or not all(c in "0123456789abcdef" for c in version):
            raise ValueError(f"secrets version {version!r}: expected hex from manifest.secrets_version()")
        data = json.dumps(dict(sorted(values.items())), sort_keys=True).encode()
        _atomic_write(self.root / SECRETS / f"{version}.json", data, 0o600)

    def prune(self, keep: int) -> list[str]:
        """Deletes manifests past the newest `keep` (never the desired one), then artifacts and
        secrets no remaining manifest names. Returns the release ids removed."""
        desired = self.get_desired()
        manifests = self.list_manifests()
        kept = manifests[:keep] + [m for m in manifests[keep:] if desired and m.id == desired.id]
        removed = [m.id for m in manifests if m not in kept]
        for release_id in removed:
            (self.root / RELEASES / f"{release_id}.json").unlink(missing_ok=True)
        artifacts = {m.artifact for m in kept}
        versions = {m.secrets.version for m in kept}
        for path in (self.root / ARTIFACTS).glob("*.tar.gz"):
            # Dot names are builds and uploads in progress.
            if not path.name.startswith(".") and path.name.removesuffix(".tar.gz") not in artifacts:
                path.unlink(missing_ok=True)
        for path in (self.root / SECRETS).glob("*.json"):
            if not path.name.startswith(".") and path.stem not in versions:
                path.unlink(missing_ok=True)
        return removed
