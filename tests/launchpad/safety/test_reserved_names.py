"""Reserved app names: users, units and directories a Debian 12 host (and Launchpad) already has."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchpad.safety.names import PREFIXES, RESERVED, USERS, reserved

ISSUE_13 = ["nftables", "ssh", "nginx", "root", "ops", "www-data"]


@pytest.mark.parametrize("name", ISSUE_13 + ["sshd", "cloud-init", "cloud-final", "systemd-journald", "postgresql", "certbot",
                                             "unattended-upgrades", "launchpad", "launchpad-agent", "daemon", "nobody",
                                             "networking", "dbus", "apt", "letsencrypt", "private", "admin", "polkitd"])
def test_reserved(name: str) -> None:
    assert reserved(name) is not None


@pytest.mark.parametrize("name", ["rocket", "journal", "flaskr", "shop", "api", "blog", "app", "web", "myapp-2"])
def test_ordinary_names_are_free(name: str) -> None:
    assert reserved(name) is None


def test_every_base_passwd_user_is_reserved() -> None:
    master = Path("/usr/share/base-passwd/passwd.master")
    if not master.is_file():
        pytest.skip("no base-passwd here")
    names = {line.split(":")[0] for line in master.read_text().splitlines() if line}
    assert names <= USERS


def test_every_unit_on_this_debian_host_is_reserved() -> None:
    """The list is static (a deployer's machine need not be Debian); this host checks it."""
    units = Path("/lib/systemd/system")
    if not units.is_dir():
        pytest.skip("no systemd units here")
    missing = []
    for path in units.iterdir():
        stem, dot, suffix = path.name.rpartition(".")
        if not dot or suffix not in ("service", "socket", "timer", "target", "path") or stem.endswith("@"):
            continue
        stem = stem.rstrip("@")
        if stem.replace("-", "").replace("_", "").isalnum() and stem.islower() and reserved(stem) is None:
            missing.append(stem)
    # Units of packages a Launchpad host never has (desktop, java...) may be missing; core ones may not.
    core = [m for m in missing if m.split("-")[0] in ("ssh", "nginx", "nftables", "cloud", "systemd", "postgresql", "apt", "dbus")]
    assert core == []


def test_reserved_set_is_lowercase_unix_names() -> None:
    assert all(n == n.lower() or n == "X11" for n in RESERVED)
    assert all(p == p.lower() for p in PREFIXES)
