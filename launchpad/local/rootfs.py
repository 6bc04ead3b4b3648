"""A local machine's root filesystem: the overlay over the cached base, and what goes in before each boot.

The root is an overlay mount `rootfs` of `upper`/`work` (in the machine's state
dir) on top of the cached base (base.py): a new machine costs a mkdir instead of a
300 MB copy, and the base stays pristine for the next machine.

Before every boot `seed` writes the NoCloud seed (meta-data, user-data), the
caller's extra files (how secrets reach a machine without user-data), resolv.conf
and the host's extra CA certificates. Writes never follow a symlink in the tree:
it points into the machine's root, not the host's.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from launchpad.local import net, proc
from launchpad.local.records import MachineError, MachineState

HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
SEED_DIR = "var/lib/cloud/seed/nocloud"


def mount(st: MachineState) -> None:
    rootfs, state_dir = Path(st.rootfs), Path(st.state_dir)
    if proc.is_mounted(rootfs):
        return
    for sub in ("upper", "work", "rootfs"):
        (state_dir / sub).mkdir(exist_ok=True)
    opts = f"lowerdir={st.base},upperdir={state_dir / 'upper'},workdir={state_dir / 'work'}"
    done = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(rootfs)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise MachineError(f"mounting the overlay root of {st.name} failed: {done.stderr.strip()} (options {opts})")


def unmount_all(name: str, state_dir: Path) -> None:
    """Unmount everything under state_dir, deepest first; raise (so the caller deletes nothing) if any stays."""
    for point in sorted(proc.mounts_under(state_dir), key=len, reverse=True):
        done = subprocess.run(["umount", point], capture_output=True, text=True)
        if done.returncode != 0:
            raise MachineError(f"down {name}: umount {point} failed: {done.stderr.strip()}; nothing deleted")
    if proc.mounts_under(state_dir):
        raise MachineError(f"down {name}: {state_dir} still has mounts; nothing deleted")


def safe_machine_path(rootfs: Path, machine_path: str) -> Path:
    p = PurePosixPath(machine_path)
    if not p.is_absolute() or ".." in p.parts or str(p) == "/":
        raise ValueError(f"files: {machine_path!r} must be an absolute file path inside the machine, without '..'")
    return rootfs / str(p).lstrip("/")


def write_file(path: Path, content: bytes, mode: int) -> None:
    if path.is_symlink():
        # A symlink in the machine's tree points into the machine's root, not the
        # host's: never follow it from the host.
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.chmod(path, mode)  # O_CREAT's mode is filtered by the umask and ignored on existing files


def seed(st: MachineState, user_data: str, files: Mapping[str, tuple[bytes, int]]) -> None:
    """Everything placed in the tree before each boot: NoCloud seed, extra
    files, resolv.conf, the host's extra CA certificates."""
    rootfs = Path(st.rootfs)
    nocloud = rootfs / SEED_DIR
    meta = f"instance-id: {st.instance_id}\nlocal-hostname: {st.name}\n"
    write_file(nocloud / "meta-data", meta.encode(), 0o600)
    # user-data may carry secrets the lead chose to put there: root-only.
    write_file(nocloud / "user-data", user_data.encode(), 0o600)
    for machine_path, (content, mode) in files.items():
        write_file(safe_machine_path(rootfs, machine_path), content, mode)
    # The machine has its own network namespace: nspawn's --resolv-conf=auto
    # would leave the base's file, so write the host's real servers ourselves.
    write_file(rootfs / "etc/resolv.conf", net.machine_resolv_conf().encode(), 0o644)
    _trust_host_cas(rootfs)


def _trust_host_cas(rootfs: Path) -> None:
    """Copy the host's locally added CAs (e.g. a TLS-inspecting proxy's) so pip
    and curl in the machine trust what the host trusts."""
    certs = sorted(HOST_CA_DIR.rglob("*.crt")) if HOST_CA_DIR.is_dir() else []
    if not certs:
        return
    dest = rootfs / str(HOST_CA_DIR).lstrip("/")
    for cert in certs:
        write_file(dest / cert.relative_to(HOST_CA_DIR), cert.read_bytes(), 0o644)
    done = subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], capture_output=True, text=True)
    if done.returncode != 0:
        raise MachineError(f"update-ca-certificates in the machine failed: {done.stderr.strip() or done.stdout.strip()}")
