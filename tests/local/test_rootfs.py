"""launchpad/local/rootfs.py without root: where files land in the machine's tree, and how they are written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from launchpad.local import rootfs


@pytest.mark.parametrize("path", ["etc/app.env", "/etc/../../host", "/"])
def test_file_paths_must_stay_inside_the_machine(path: str) -> None:
    with pytest.raises(ValueError, match="absolute file path"):
        rootfs.safe_machine_path(Path("/rootfs"), path)


def test_file_path_maps_into_rootfs() -> None:
    assert rootfs.safe_machine_path(Path("/r"), "/etc/launchpad/app.env") == Path("/r/etc/launchpad/app.env")


def test_write_file_sets_mode_regardless_of_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        target = tmp_path / "etc/launchpad/app.env"
        rootfs.write_file(target, b"SECRET=1\n", 0o640)
    finally:
        os.umask(old)
    assert target.read_bytes() == b"SECRET=1\n"
    assert target.stat().st_mode & 0o777 == 0o640


def test_write_file_replaces_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    outside = tmp_path / "host-file"
    outside.write_text("host\n")
    link = tmp_path / "rootfs/etc/app.env"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    rootfs.write_file(link, b"machine\n", 0o600)
    assert outside.read_text() == "host\n"
    assert not link.is_symlink() and link.read_text() == "machine\n"
