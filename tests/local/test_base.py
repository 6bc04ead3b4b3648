"""Cache keys of launchpad/local/base.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchpad.local import base


def test_key_changes_with_the_package_list() -> None:
    assert base.base_key(packages=base.PACKAGES) != base.base_key(packages=base.PACKAGES + ("nginx",))


def test_key_ignores_package_order_and_duplicates() -> None:
    assert base.base_key(packages=("a", "b")) == base.base_key(packages=("b", "a", "a"))


def test_key_changes_with_the_suite() -> None:
    assert base.base_key(suite="bookworm") != base.base_key(suite="trixie")


def test_layer_has_its_own_path(tmp_path: Path) -> None:
    plain = base.base_path(tmp_path)
    layer = base.base_path(tmp_path, extra_packages=("nginx", "python3-venv"))
    assert plain != layer
    assert plain.parent == layer.parent == tmp_path
    assert layer == base.base_path(tmp_path, extra_packages=("python3-venv", "nginx"))


@pytest.mark.parametrize("bad", ["", "-o", "nginx curl", "evil\n"])
def test_bad_package_names_are_rejected_before_anything_runs(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a Debian package name"):
        base.ensure_base(tmp_path, progress=lambda _: None, extra_packages=(bad,))
    assert not any(tmp_path.iterdir())


def test_prune_keeps_what_is_in_use(tmp_path: Path) -> None:
    current = base.base_path(tmp_path)
    used = tmp_path / "base-bookworm-0123456789ab"
    stale = tmp_path / "base-bookworm-ba9876543210"
    half = tmp_path / ".build-base-bookworm-x"
    unrelated = tmp_path / "notes"
    for d in (current, used, stale, half, unrelated):
        (d / "etc").mkdir(parents=True)
    removed = base.prune(tmp_path, keep=[current, used], progress=lambda _: None)
    assert sorted(removed) == sorted([stale, half])
    assert current.is_dir() and used.is_dir() and unrelated.is_dir()
    assert not stale.exists() and not half.exists()
