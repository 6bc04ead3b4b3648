"""The cached Debian root filesystem every local machine boots from.

`ensure_base` debootstraps Debian 12 with systemd and cloud-init once, configures
it for NoCloud, and keeps it under the cache directory, keyed by a hash of what
went into it: a changed suite or package list builds a new base next to the old
one instead of silently reusing a stale tree. Machines never write to a base:
each one mounts an overlay on top of it (see machine.py), so one base serves any
number of machines.

An optional second layer (`extra_packages`, e.g. nginx python3-venv) is baked on
top of a base under its own key, so boot-time benchmarks can separate "apt-get
install at first boot" from "already in the image".
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

DEFAULT_CACHE_DIR = Path("/var/cache/launchpad")
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# python3-cffi-backend: debootstrap does not resolve the virtual package
# python3-cryptography needs, and cloud-init fails to configure without it.
PACKAGES: tuple[str, ...] = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "cloud-init",
    "python3-cffi-backend",
    "iproute2",
    "ca-certificates",
    "curl",
)
# Bump when _configure() changes: the key must change whenever the tree would.
BASE_FORMAT = 3

CLOUD_CFG = """\
# Written by launchpad/local/base.py: every local machine is a NoCloud instance.
datasource_list: [ NoCloud, None ]
# The host creates the machine's interface and addresses it from outside
# (launchpad/local/net.py); cloud-init must not rewrite it.
network:
  config: disabled
# minbase has no `locales` package: asking for the default en_US.UTF-8 runs
# update-locale, which is missing, and fails the whole run. C.UTF-8 is built
# into libc, and /etc/default/locale already says so: nothing to generate.
locale: C.UTF-8
# /etc/hosts from cloud-init's template, so the machine resolves its own name.
manage_etc_hosts: true
"""

SOURCES_LIST = """\
# Written by launchpad/local/base.py
deb {mirror} {suite} main
deb {mirror} {suite}-updates main
deb http://deb.debian.org/debian-security {suite}-security main
"""

Progress = Callable[[str], None]


def base_key(suite: str = SUITE, packages: Sequence[str] = PACKAGES, extra_packages: Sequence[str] = ()) -> str:
    """Short stable hash of everything that decides a base tree's content."""
    payload = json.dumps(
        {
            "format": BASE_FORMAT,
            "suite": suite,
            "packages": sorted(set(packages)),
            "extra": sorted(set(extra_packages)),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def base_path(cache_dir: Path, suite: str = SUITE, packages: Sequence[str] = PACKAGES,
              extra_packages: Sequence[str] = ()) -> Path:
    """Where the tree for this suite/package list lives (whether built or not)."""
    layer = "layer" if extra_packages else "base"
    return cache_dir / f"{layer}-{suite}-{base_key(suite, packages, extra_packages)}"


@contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    # Two `launchpad up` at once must not debootstrap twice into the same key.
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(argv: Sequence[str], what: str) -> None:
    proc = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-30:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")


def _configure(root: Path) -> None:
    """Settings every machine needs, written once into the base."""
    (root / "etc/cloud/cloud.cfg.d/90_launchpad.cfg").write_text(CLOUD_CFG)
    (root / "etc/apt/sources.list").write_text(SOURCES_LIST.format(mirror=MIRROR, suite=SUITE))
    # An empty machine-id makes systemd treat each machine's first boot as a
    # first boot (nspawn passes --uuid, see machine.py); a filled one would give
    # every machine built from this base the same identity.
    (root / "etc/machine-id").write_text("")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.exists() or dbus_id.is_symlink():
        dbus_id.unlink()
    dbus_id.parent.mkdir(parents=True, exist_ok=True)
    dbus_id.symlink_to("/etc/machine-id")
    (root / "etc/default/locale").write_text("LANG=C.UTF-8\n")
    # The machine's hostname comes from nspawn -M and cloud-init's meta-data.
    (root / "etc/hostname").write_text("localhost\n")
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


def _mkdtemp(target: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{target.name}-", dir=target.parent))
    # mkdtemp makes it 0700; as the machine's "/" that would lock every
    # non-root service (nginx workers, postgres) out of the whole tree.
    tmp.chmod(0o755)
    return tmp


def _build_base(target: Path, suite: str, packages: Sequence[str], progress: Progress) -> None:
    tmp = _mkdtemp(target)
    try:
        progress(f"debootstrap {suite} ({len(packages)} packages) into {tmp} (about a minute)")
        _run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}", suite, str(tmp), MIRROR],
            "debootstrap",
        )
        _configure(tmp)
        # rename() is atomic: a crash leaves a .build-* dir, never a half base.
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _build_layer(base: Path, target: Path, extra_packages: Sequence[str], progress: Progress) -> None:
    tmp = _mkdtemp(target)
    try:
        progress(f"copying {base.name} to bake {' '.join(extra_packages)}")
        _run(["cp", "-a", "--reflink=auto", f"{base}/.", str(tmp)], "copy base")
        script = (
            "set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -q; "
            f"apt-get install -y -q {' '.join(extra_packages)}; apt-get clean"
        )
        # Not booted (no -b), host network, host resolv.conf bind-mounted (not
        # copied into the tree): package scripts see no running systemd and do
        # not try to start services.
        _run(
            ["systemd-nspawn", "-q", "-D", str(tmp), "--register=no", "--keep-unit",
             "--resolv-conf=bind-host", "--timezone=off", "/bin/sh", "-c", script],
            "apt-get install in layer",
        )
        (tmp / "etc/machine-id").write_text("")
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure_base(
    cache_dir: Path = DEFAULT_CACHE_DIR,
    progress: Progress = print,
    extra_packages: Sequence[str] = (),
    suite: str = SUITE,
    packages: Sequence[str] = PACKAGES,
) -> Path:
    """Return the path of a ready Debian root tree, building it if not cached.

    With `extra_packages`, returns a layer with those packages apt-installed on
    top of the base (cached under its own key). Needs root and debootstrap.
    """
    for pkg in list(packages) + list(extra_packages):
        if not pkg or pkg.startswith("-") or any(c.isspace() for c in pkg):
            raise ValueError(f"packages: {pkg!r} is not a Debian package name")
    base = base_path(cache_dir, suite, packages)
    with _locked(cache_dir):
        if not base.is_dir():
            started = time.monotonic()
            _build_base(base, suite, packages, progress)
            progress(f"base {base.name} built in {time.monotonic() - started:.0f} s")
        if not extra_packages:
            return base
        layer = base_path(cache_dir, suite, packages, extra_packages)
        if not layer.is_dir():
            started = time.monotonic()
            _build_layer(base, layer, extra_packages, progress)
            progress(f"layer {layer.name} built in {time.monotonic() - started:.0f} s")
        return layer


def prune(cache_dir: Path, keep: Collection[Path], progress: Progress = print) -> list[Path]:
    """Delete cached trees not in `keep` (and leftovers of interrupted builds).

    A base is the lower layer of every machine built on it: pass the current
    base and every machine's `base` (machine.list_machines()) in `keep`."""
    keep_resolved = {Path(p).resolve() for p in keep}
    removed = []
    with _locked(cache_dir):
        for tree in sorted(cache_dir.iterdir()):
            if not tree.is_dir() or not tree.name.startswith(("base-", "layer-", ".build-")):
                continue
            if tree.resolve() in keep_resolved:
                continue
            progress(f"removing cached tree {tree}")
            shutil.rmtree(tree)
            removed.append(tree)
    return removed
