"""Local machines: Debian 12 booted with systemd under systemd-nspawn, provisioned
by real cloud-init from a #cloud-config, reachable from the host on a private
address. This module is the API (up, down, status, reboot; run, logs, waits and
allow/deny re-exported from where they live).

What one machine is made of (all removed by `down`):
- /var/lib/launchpad/machines/<name>/: state.json and runtime.json (records.py),
  console.log, and the overlay root filesystem over the cached base (rootfs.py,
  base.py);
- a supervisor process (supervisor.py) running systemd-nspawn, restarting it
  when the machine reboots;
- a network namespace, a veth pair, a route, and its rules in the shared
  `table ip launchpad` (net.py, ingress.py); IPv4 forwarding switched on while
  any machine exists.

There is no machined/D-Bus on the host, so nspawn runs with `--register=no
--keep-unit`, and commands enter the machine with nsenter (inside.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from launchpad.local import net, proc, records, rootfs
from launchpad.local.base import DEFAULT_CACHE_DIR, ensure_base
from launchpad.local.ingress import allow, apply_host_network, deny, forget
from launchpad.local.inside import logs, nsenter, run, running, wait_cloud_init, wait_systemd
from launchpad.local.records import MachineError, MachineState, list_machines, validate_name

__all__ = [
    "MachineError", "MachineSpec", "MachineState", "allow", "deny", "down", "ensure_base", "list_machines", "logs",
    "reboot", "run", "status", "up", "validate_name", "wait_cloud_init",
]

# A fixed namespace makes the machine-id (nspawn --uuid) a function of the name:
# stable across reboots and re-ups, different between machines.
UUID_NAMESPACE = uuid.UUID("6b0d3a52-7c1e-4a53-9a0b-3f0f4f2d1c55")
INSTANCE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

Progress = Callable[[str], None]


@dataclass
class MachineSpec:
    """What to boot. `user_data` is the rendered #cloud-config; a new
    `instance_id` makes cloud-init run again on an existing machine."""

    name: str
    user_data: str
    instance_id: str
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    """Extra files, machine path -> (content, mode), written into the root
    filesystem (owner root) before every boot. This is how secrets reach a local
    machine without going through user-data (which cloud-init keeps readable
    under /var/lib/cloud)."""
    binds: list[tuple[str, str, bool]] = field(default_factory=list)
    """Host folders mounted into the machine: (host path, machine path, read-only). The
    release store goes in read-only, the shared pip wheel cache read-write."""


def status(name: str) -> MachineState | None:
    """The machine's recorded settings and live state, or None if it does not exist."""
    validate_name(name)
    return records.load(name)


def nspawn_argv(st: MachineState, binds: Sequence[tuple[str, str, bool]] = ()) -> list[str]:
    """The command line the supervisor boots (recorded in state.json)."""
    mounts = [f"--bind-ro={host}:{inside}" if read_only else f"--bind={host}:{inside}" for host, inside, read_only in binds]
    return [
        "systemd-nspawn",
        "--directory", st.rootfs,
        "--boot",
        "--machine", st.name,
        "--uuid", str(uuid.uuid5(UUID_NAMESPACE, st.name)),
        # No machined/D-Bus on the host: registering fails ("Failed to open system bus").
        "--register=no",
        "--keep-unit",
        "--network-namespace-path", f"/run/netns/{st.netns}",
        # nspawn grants CAP_NET_ADMIN only with --private-network; the machine owns its
        # namespace, so its own firewall (nftables, as on a cloud host) must load.
        "--capability=CAP_NET_ADMIN",
        "--resolv-conf=off",  # written by rootfs.seed
        "--link-journal=no",
        "--timezone=off",
        # No terminal: nspawn copies the console to its stdout (console.log).
        "--console=read-only",
        *mounts,
    ]


def _start_supervisor(st: MachineState) -> int:
    package_root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "-m", records.SUPERVISOR_MODULE, "--detach", st.state_dir],
        capture_output=True, text=True, env=env, cwd="/",
    )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        raise MachineError(f"starting the supervisor of {st.name} failed: {done.stderr.strip() or done.stdout.strip()}")
    return int(done.stdout.strip())


def _validate_spec(spec: MachineSpec) -> None:
    validate_name(spec.name)
    if not INSTANCE_ID_RE.match(spec.instance_id):
        raise ValueError(f"instance_id {spec.instance_id!r} is not valid: use letters, digits, '.', '_', '-' (max 128)")
    for path in spec.files:
        rootfs.safe_machine_path(Path("/"), path)
    for host, inside, _ in spec.binds:
        if not (host.startswith("/") and inside.startswith("/")) or ":" in host + inside or not Path(host).is_dir():
            raise ValueError(f"bind {host!r} -> {inside!r}: expected an existing absolute host folder and an absolute machine path, no ':'")


def _new_state(spec: MachineSpec, base: Path) -> MachineState:
    """Address and paths for a machine that does not exist yet. Caller holds records.host_lock."""
    taken = net.host_networks() + [IPv4Network(m.subnet) for m in list_machines()]
    subnet = net.choose_subnet(spec.name, taken)
    state_dir = records.machine_dir(spec.name)
    st = MachineState(
        name=spec.name, instance_id=spec.instance_id,
        address=str(net.machine_address(subnet)), host_address=str(net.host_address(subnet)),
        subnet=str(subnet), interface=net.interface_name(spec.name), netns=net.netns_name(spec.name),
        state_dir=str(state_dir), rootfs=str(state_dir / "rootfs"), base=str(base), created_at=records.now(),
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)  # it holds the seed and the spec's secret files
    return st


def up(spec: MachineSpec, progress: Progress = print, cache_dir: Path = DEFAULT_CACHE_DIR,
       extra_packages: Sequence[str] = (), boot_timeout_s: float = 90.0, replace: bool = False) -> MachineState:
    """Boot the machine and return once its systemd is up (cloud-init may still
    be running: see wait_cloud_init).

    Idempotent: a running machine with the same instance-id is returned as is. A
    stopped one (supervisor gone, e.g. after a host reboot) is started again on
    its existing disk, with a refreshed seed. A running machine with another
    instance-id is an error unless `replace=True`, which destroys and recreates it
    (like a cloud instance replaced because its user-data changed).
    """
    _validate_spec(spec)
    current = records.load(spec.name)
    if current is not None and current.state == "orphaned":
        progress(f"machine {spec.name} lost its supervisor: stopping it to start it supervised")
        proc.stop(current.nspawn_pid, ("systemd-nspawn", current.rootfs), boot_timeout_s)
        current = records.load(spec.name)
    if current is not None and current.state != "stopped":
        if current.instance_id == spec.instance_id:
            return current
        if not replace:
            raise MachineError(
                f"machine {spec.name} is running with instance-id {current.instance_id!r}, asked for "
                f"{spec.instance_id!r}: run down first, or pass replace=True to recreate it"
            )
        progress(f"replacing machine {spec.name} (instance-id {current.instance_id} -> {spec.instance_id})")
        down(spec.name)
        current = None

    base = ensure_base(cache_dir, progress, extra_packages)
    fresh = current is None
    started = time.monotonic()
    try:
        with records.host_lock():
            if current is None:
                st = _new_state(spec, base)
            else:
                st = current
                if not Path(st.base).is_dir():
                    raise MachineError(
                        f"machine {st.name} was built on {st.base}, which is gone from the cache: down it and up again"
                    )
                st.instance_id = spec.instance_id
            progress(f"machine {st.name}: {st.address} via {st.interface} (host end {st.host_address})")
            rootfs.mount(st)
            rootfs.seed(st, spec.user_data, spec.files)
            net.ensure_link(st.netns, st.interface, IPv4Network(st.subnet))
            st.started_at = records.now()
            records.save_state(st, nspawn_argv(st, spec.binds))
            apply_host_network()
            records.clear_runtime(Path(st.state_dir))
            _start_supervisor(st)
        st = wait_systemd(spec.name, boot_timeout_s)
    except BaseException:
        if fresh:
            # A half-made machine is worse than none: the error already carries the console tail.
            down(spec.name)
        raise
    progress(f"machine {st.name}: systemd up in {time.monotonic() - started:.1f} s")
    return st


def reboot(name: str, deadline_s: float) -> None:
    """Reboot from inside (`systemctl reboot`) and return when the machine's
    systemd is up again. The address is unchanged: the network namespace is the
    host's, not the machine's."""
    st = running(name)
    assert st.init_pid is not None
    # --no-block: the command's own connection dies with the old PID 1.
    nsenter(st.init_pid, ["systemctl", "--no-block", "reboot"], timeout=30)
    wait_systemd(name, deadline_s, old_init=st.init_pid)


def down(name: str, timeout_s: float = 60.0) -> None:
    """Stop the machine and remove everything it had on the host: processes,
    mount, network namespace, interface, nft rules, state dir; ip_forward goes
    back to what it was once the last machine is gone. No-op if it does not exist."""
    validate_name(name)
    state_dir = records.machine_dir(name)
    if not state_dir.exists():
        return
    record = records.read_state(state_dir)
    runtime = records.read_runtime(state_dir)
    # The supervisor turns SIGTERM into a clean shutdown of the machine.
    proc.stop(runtime.get("supervisor_pid"), records.supervisor_markers(name), timeout_s)
    # Left running if the supervisor was killed hard (or never got its signal).
    rootfs_path = str(record.get("rootfs", state_dir / "rootfs"))
    proc.stop(runtime.get("nspawn_pid"), ("systemd-nspawn", rootfs_path), timeout_s)
    with records.host_lock():
        rootfs.unmount_all(name, state_dir)
        net.remove_link(str(record.get("netns", net.netns_name(name))), str(record.get("interface", net.interface_name(name))))
        forget(name)
        shutil.rmtree(state_dir)
        apply_host_network()
