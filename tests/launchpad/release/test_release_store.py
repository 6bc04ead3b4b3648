"""DirStore: the local target's release store (layout per the contract, root-only, atomic, prunable)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from launchpad.release.artifact import build
from launchpad.release.manifest import ManifestError, Secrets, new_manifest, secrets_version
from launchpad.release.store import DirStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def publish(store: DirStore, src: Path, tmp: Path, secrets: dict[str, str], created: str) -> str:
    art = build(src, tmp / "build")
    store.put_artifact(art)
    version = secrets_version(secrets, "dev")
    store.put_secrets(version, secrets)
    m = new_manifest(artifact=art.sha256, artifact_bytes=art.bytes, source_hash=art.source_hash, deps_hash=art.deps_hash,
                     deps=art.deps, app="demo", module="wsgi:app", secrets=Secrets(version, tuple(secrets)), created=created)
    store.put_manifest(m)
    return m.id


def test_layout_modes_pointer_and_listing(tmp_path: Path) -> None:
    src = tmp_path / "app"
    src.mkdir()
    (src / "wsgi.py").write_text("app = None\n")
    store = DirStore(tmp_path / "store")
    first = publish(store, src, tmp_path, {"SECRET_KEY": "s3cr3t-one"}, "2026-01-01T00:00:00Z")
    (src / "wsgi.py").write_text("app = 1\n")
    second = publish(store, src, tmp_path, {"SECRET_KEY": "s3cr3t-two"}, "2026-01-02T00:00:00Z")

    root = store.root
    assert all(mode(p) == 0o700 for p in (root, root / "artifacts", root / "releases", root / "secrets"))
    secrets = sorted((root / "secrets").iterdir())
    assert len(secrets) == 2 and all(mode(p) == 0o600 for p in secrets)
    assert {json.loads(p.read_text())["SECRET_KEY"] for p in secrets} == {"s3cr3t-one", "s3cr3t-two"}
    assert not any("s3cr3t" in p.read_text() for p in (root / "releases").iterdir())

    assert store.get_desired() is None
    store.set_desired(second)
    assert json.loads((root / "releases" / "desired.json").read_text())["id"] == second
    assert [m.id for m in store.list_manifests()] == [second, first]
    store.set_desired(first)  # rollback
    assert store.get_desired().id == first  # type: ignore[union-attr]
    with pytest.raises(ManifestError, match="not in the store"):
        store.set_desired("ffffffffffff")


def test_put_is_idempotent_and_keeps_the_first_created(tmp_path: Path) -> None:
    src = tmp_path / "app"
    src.mkdir()
    (src / "wsgi.py").write_text("app = None\n")
    store = DirStore(tmp_path / "store")
    art = build(src, tmp_path / "build")
    assert store.put_artifact(art) is True
    assert store.put_artifact(art) is False
    a = publish(store, src, tmp_path, {}, "2026-01-01T00:00:00Z")
    b = publish(store, src, tmp_path, {}, "2026-05-01T00:00:00Z")
    assert a == b and store.get_manifest(a).created == "2026-01-01T00:00:00Z"  # type: ignore[union-attr]


def test_prune_keeps_the_newest_and_the_desired(tmp_path: Path) -> None:
    src = tmp_path / "app"
    src.mkdir()
    store = DirStore(tmp_path / "store")
    ids = []
    for i in range(6):
        (src / "wsgi.py").write_text(f"app = {i}\n")
        ids.append(publish(store, src, tmp_path, {"K": str(i)}, f"2026-01-0{i + 1}T00:00:00Z"))
    store.set_desired(ids[0])
    removed = store.prune(keep=3)
    assert sorted(removed) == sorted(ids[1:3])
    left = {m.id for m in store.list_manifests()}
    assert left == {ids[0], *ids[3:]}
    assert len(list((store.root / "artifacts").glob("*.tar.gz"))) == 4
    assert len(list((store.root / "secrets").glob("*.json"))) == 4
