"""Local machines: Debian 12 booted with systemd under systemd-nspawn, provisioned
by real cloud-init from a #cloud-config, reachable from the host on a private
address.

What one machine is made of (all removed by `down`):
- /var/lib/launchpad/machines/<name>/: state.json (what `up` decided),
  runtime.json (what the supervisor sees), console.log, and the root filesystem:
  an overlay mount `rootfs` of `upper`/`work` on top of the cached base
  (base.py). Overlayfs makes a new machine cost a mkdir instead of a 300 MB
  copy, and the base stays pristine for the next machine.
- a supervisor process (supervisor.py) running systemd-nspawn, restarting it
  when the machine reboots;
- a network namespace, a veth pair, a route, and its rules in the shared
  `table ip launchpad` (net.py); IPv4 forwarding switched on while any machine
  exists.

There is no machined/D-Bus on the host, so nspawn runs with `--register=no
--keep-unit`, and commands enter the machine with nsenter through its init pid
instead of `systemd-run -M`/`machinectl shell`.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from ipaddress import IPv4Network
from pathlib import Path, PurePosixPath
from typing import Any

from launchpad.local import net
from launchpad.local.base import DEFAULT_CACHE_DIR, ensure_base

STATE_ROOT = Path("/var/lib/launchpad")
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
SEED_DIR = "var/lib/cloud/seed/nocloud"
CLOUD_INIT_LOG = "var/log/cloud-init-output.log"
MACHINE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# A fixed namespace makes the machine-id (nspawn --uuid) a function of the name:
# stable across reboots and re-ups, different between machines.
UUID_NAMESPACE = uuid.UUID("6b0d3a52-7c1e-4a53-9a0b-3f0f4f2d1c55")
DEFAULT_LOG_UNITS: tuple[str, ...] = (
    "cloud-init-local", "cloud-init", "cloud-config", "cloud-final", "nginx", "gunicorn*", "app*", "launchpad*",
)
INSTANCE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SYSTEMD_UP = {"starting", "running", "degraded", "maintenance"}

Progress = Callable[[str], None]


class MachineError(RuntimeError):
    """A local machine did not do what was asked; the message says what it did instead."""


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


@dataclass
class MachineState:
    name: str
    instance_id: str
    address: str
    """The machine's IPv4 address; the host reaches it directly."""
    host_address: str
    """The host's end of the link: the machine's default gateway. Services on
    the host that machines must reach listen here."""
    subnet: str
    interface: str
    netns: str
    state_dir: str
    rootfs: str
    base: str
    state: str = "stopped"
    """running | starting | rebooting | stopped | orphaned (nspawn alive, supervisor gone: `up` restarts it)"""
    pid: int | None = None
    """The supervisor's pid (None when stopped)."""
    nspawn_pid: int | None = None
    init_pid: int | None = None
    started_at: str | None = None
    created_at: str | None = None
    ingress: list[tuple[str, int]] = field(default_factory=list)
    """(source machine, TCP port) pairs allowed to open connections to this one."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MachineState:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["ingress"] = [(str(s), int(p)) for s, p in values.get("ingress", [])]
        return cls(**values)


def validate_name(name: str) -> None:
    if not net.NAME_RE.match(name):
        raise ValueError(
            f"machine name {name!r} is not valid: use 1-63 lowercase letters, digits and '-', "
            "not starting or ending with '-' (it becomes the machine's hostname)"
        )


def _machine_dir(name: str) -> Path:
    return STATE_ROOT / "machines" / name


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _host_lock() -> Iterator[None]:
    # Serialises everything that reads all machines to change shared host
    # state: address choice, the nft table, ip_forward.
    STATE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(STATE_ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _alive(pid: int | None, *markers: str) -> bool:
    """pid is running and its command line contains every marker, so a
    recycled pid is never mistaken for (or killed as) ours."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
        return False
    cmd = " ".join(_cmdline(pid))
    return all(m in cmd for m in markers)


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def _init_pid(nspawn_pid: int | None) -> int | None:
    """The machine's PID 1, seen from the host: the child of systemd-nspawn
    living in another pid namespace."""
    if not nspawn_pid:
        return None
    try:
        own_ns = os.readlink(f"/proc/{nspawn_pid}/ns/pid")
    except OSError:
        return None
    for kid in _children(nspawn_pid):
        try:
            if os.readlink(f"/proc/{kid}/ns/pid") != own_ns:
                return kid
        except OSError:
            continue
    return None


def _supervisor_markers(name: str) -> tuple[str, str]:
    return ("launchpad.local.supervisor", str(_machine_dir(name)))


def _load(name: str) -> MachineState | None:
    record = _read_json(_machine_dir(name) / "state.json")
    if not record:
        return None
    st = MachineState.from_dict(record)
    runtime = _read_json(_machine_dir(name) / "runtime.json")
    pid = runtime.get("supervisor_pid")
    if _alive(pid, *_supervisor_markers(name)):
        st.pid = pid
        nspawn_pid = runtime.get("nspawn_pid")
        st.nspawn_pid = nspawn_pid if _alive(nspawn_pid, "systemd-nspawn", st.rootfs) else None
        st.init_pid = _init_pid(st.nspawn_pid)
        phase = runtime.get("phase", "starting")
        st.state = "running" if st.init_pid else ("rebooting" if phase == "rebooting" else "starting")
    else:
        st.pid = None
        # nspawn outliving its supervisor (which was killed hard): the machine
        # runs but nothing would restart it on reboot.
        nspawn_pid = runtime.get("nspawn_pid")
        st.nspawn_pid = nspawn_pid if _alive(nspawn_pid, "systemd-nspawn", st.rootfs) else None
        st.init_pid = _init_pid(st.nspawn_pid)
        st.state = "orphaned" if st.nspawn_pid else "stopped"
    return st


def status(name: str) -> MachineState | None:
    """The machine's recorded settings and live state, or None if it does not exist."""
    validate_name(name)
    return _load(name)


def list_machines() -> list[MachineState]:
    root = STATE_ROOT / "machines"
    if not root.is_dir():
        return []
    found = [_load(d.name) for d in sorted(root.iterdir()) if d.is_dir() and net.NAME_RE.match(d.name)]
    return [m for m in found if m is not None]


def _is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == target for line in f)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p == str(path) or p.startswith(prefix)]


def _mount_rootfs(st: MachineState) -> None:
    rootfs, state_dir = Path(st.rootfs), Path(st.state_dir)
    if _is_mounted(rootfs):
        return
    for sub in ("upper", "work", "rootfs"):
        (state_dir / sub).mkdir(exist_ok=True)
    opts = f"lowerdir={st.base},upperdir={state_dir / 'upper'},workdir={state_dir / 'work'}"
    proc = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(rootfs)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise MachineError(f"mounting the overlay root of {st.name} failed: {proc.stderr.strip()} (options {opts})")


def _safe_machine_path(rootfs: Path, machine_path: str) -> Path:
    p = PurePosixPath(machine_path)
    if not p.is_absolute() or ".." in p.parts or str(p) == "/":
        raise ValueError(f"files: {machine_path!r} must be an absolute file path inside the machine, without '..'")
    return rootfs / str(p).lstrip("/")


def _write_file(path: Path, content: bytes, mode: int) -> None:
    if path.is_symlink():
        # A symlink in the machine's tree points into the machine's root, not the
        # host's: never follow it from the host.
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.chmod(path, mode)  # O_CREAT's mode is filtered by the umask and ignored on existing files


def _seed(st: MachineState, spec: MachineSpec) -> None:
    """Everything placed in the tree before each boot: NoCloud seed, extra
    files, resolv.conf, the host's extra CA certificates."""
    rootfs = Path(st.rootfs)
    seed = rootfs / SEED_DIR
    meta = f"instance-id: {spec.instance_id}\nlocal-hostname: {spec.name}\n"
    _write_file(seed / "meta-data", meta.encode(), 0o600)
    # user-data may carry secrets the lead chose to put there: root-only.
    _write_file(seed / "user-data", spec.user_data.encode(), 0o600)
    for machine_path, (content, mode) in spec.files.items():
        _write_file(_safe_machine_path(rootfs, machine_path), content, mode)
    # The machine has its own network namespace: nspawn's --resolv-conf=auto
    # would leave the base's file, so write the host's real servers ourselves.
    _write_file(rootfs / "etc/resolv.conf", net.machine_resolv_conf().encode(), 0o644)
    _trust_host_cas(rootfs)


def _trust_host_cas(rootfs: Path) -> None:
    """Copy the host's locally added CAs (e.g. a TLS-inspecting proxy's) so pip
    and curl in the machine trust what the host trusts."""
    certs = sorted(HOST_CA_DIR.rglob("*.crt")) if HOST_CA_DIR.is_dir() else []
    if not certs:
        return
    dest = rootfs / str(HOST_CA_DIR).lstrip("/")
    for cert in certs:
        _write_file(dest / cert.relative_to(HOST_CA_DIR), cert.read_bytes(), 0o644)
    proc = subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise MachineError(f"update-ca-certificates in the machine failed: {proc.stderr.strip() or proc.stdout.strip()}")


def _nspawn_argv(st: MachineState) -> list[str]:
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
        "--resolv-conf=off",  # written by _seed
        "--link-journal=no",
        "--timezone=off",
        # No terminal: nspawn copies the console to its stdout (console.log).
        "--console=read-only",
    ]


def _apply_host_network() -> None:
    """Render the nft table from every existing machine and set ip_forward.
    Caller holds _host_lock."""
    machines = []
    allows = []
    for m in list_machines():
        machines.append(net.NftMachine(m.name, m.address, m.interface))
        allows += [net.Allow(src, m.name, port) for src, port in m.ingress]
    net.apply_nft(net.render_nft(machines, allows))
    if machines:
        net.enable_forwarding(STATE_ROOT / "host.json")
    else:
        net.restore_forwarding(STATE_ROOT / "host.json")


def _start_supervisor(st: MachineState) -> int:
    package_root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, "-m", "launchpad.local.supervisor", "--detach", st.state_dir],
        capture_output=True, text=True, env=env, cwd="/",
    )
    if proc.returncode != 0 or not proc.stdout.strip().isdigit():
        raise MachineError(f"starting the supervisor of {st.name} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return int(proc.stdout.strip())


def _console_tail(name: str, lines: int = 30) -> str:
    try:
        text = (_machine_dir(name) / "console.log").read_text(errors="replace")
    except OSError:
        return "(no console log)"
    return "\n".join(text.splitlines()[-lines:])


def _wait_systemd(name: str, deadline_s: float, old_init: int | None = None) -> MachineState:
    """Until the machine's PID 1 (a new one, if old_init is given) answers
    `systemctl is-system-running` with a live state."""
    end = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < end:
        st = _load(name)
        if st is None:
            raise MachineError(f"machine {name} disappeared while booting")
        if st.state == "stopped":
            raise MachineError(f"machine {name} stopped while booting; console:\n{_console_tail(name)}")
        if st.init_pid and st.init_pid != old_init:
            proc = _nsenter(st.init_pid, ["systemctl", "is-system-running"], timeout=10)
            last = proc.stdout.strip()
            if last in SYSTEMD_UP:
                return st
        time.sleep(0.2)
    raise MachineError(
        f"machine {name}: systemd not up after {deadline_s:.0f} s (last state {last or 'none'}); "
        f"console:\n{_console_tail(name)}"
    )


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
    validate_name(spec.name)
    if not INSTANCE_ID_RE.match(spec.instance_id):
        raise ValueError(f"instance_id {spec.instance_id!r} is not valid: use letters, digits, '.', '_', '-' (max 128)")
    for path in spec.files:
        _safe_machine_path(Path("/"), path)

    current = _load(spec.name)
    if current is not None and current.state == "orphaned":
        progress(f"machine {spec.name} lost its supervisor: stopping it to start it supervised")
        _stop_nspawn(current.nspawn_pid, current.rootfs, boot_timeout_s)
        current = _load(spec.name)
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
        with _host_lock():
            if current is None:
                taken = net.host_networks() + [IPv4Network(m.subnet) for m in list_machines()]
                subnet = net.choose_subnet(spec.name, taken)
                state_dir = _machine_dir(spec.name)
                st = MachineState(
                    name=spec.name, instance_id=spec.instance_id,
                    address=str(net.machine_address(subnet)), host_address=str(net.host_address(subnet)),
                    subnet=str(subnet), interface=net.interface_name(spec.name), netns=net.netns_name(spec.name),
                    state_dir=str(state_dir), rootfs=str(state_dir / "rootfs"), base=str(base), created_at=_now(),
                )
                state_dir.mkdir(parents=True, exist_ok=True)
                state_dir.chmod(0o700)  # it holds the seed and the spec's secret files
            else:
                st = current
                if not Path(st.base).is_dir():
                    raise MachineError(
                        f"machine {st.name} was built on {st.base}, which is gone from the cache: down it and up again"
                    )
                st.instance_id = spec.instance_id
            progress(f"machine {st.name}: {st.address} via {st.interface} (host end {st.host_address})")
            _mount_rootfs(st)
            _seed(st, spec)
            net.ensure_link(st.netns, st.interface, IPv4Network(st.subnet))
            st.started_at = _now()
            record = json.loads(st.to_json())
            record["nspawn_argv"] = _nspawn_argv(st)
            for live in ("state", "pid", "nspawn_pid", "init_pid"):
                record.pop(live, None)
            _write_json(Path(st.state_dir) / "state.json", record)
            _apply_host_network()
            (Path(st.state_dir) / "runtime.json").unlink(missing_ok=True)
            _start_supervisor(st)
        st = _wait_systemd(spec.name, boot_timeout_s)
    except BaseException:
        if fresh:
            # A half-made machine is worse than none: the error already carries the console tail.
            down(spec.name)
        raise
    progress(f"machine {st.name}: systemd up in {time.monotonic() - started:.1f} s")
    return st


def _nsenter(init_pid: int, argv: Sequence[str], timeout: float | None = None,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ["nsenter", "--target", str(init_pid), "--all", "--root", "--wd",
           "env", "-i", f"PATH={MACHINE_PATH}", "HOME=/root", "LANG=C.UTF-8", "TERM=dumb", *argv]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, 124, stdout=str(exc.stdout or ""), stderr=f"timed out after {timeout} s")


def _running(name: str) -> MachineState:
    validate_name(name)
    st = _load(name)
    if st is None:
        raise MachineError(f"machine {name} does not exist (known: {', '.join(m.name for m in list_machines()) or 'none'})")
    if not st.init_pid:
        raise MachineError(f"machine {name} is {st.state}, not running")
    return st


def run(name: str, argv: Sequence[str], check: bool = True, timeout: float | None = None,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run argv as root inside the machine (all its namespaces, clean
    environment) and return the completed process; with check, a non-zero exit
    raises MachineError carrying stdout/stderr."""
    st = _running(name)
    assert st.init_pid is not None
    proc = _nsenter(st.init_pid, argv, timeout=timeout, input=input)
    proc.args = list(argv)
    if check and proc.returncode != 0:
        raise MachineError(
            f"{name}: {' '.join(argv)} exited {proc.returncode}\nstdout: {proc.stdout.strip()}\nstderr: {proc.stderr.strip()}"
        )
    return proc


def _cloud_init_log_tail(name: str, lines: int = 40) -> str:
    path = _machine_dir(name) / "rootfs" / CLOUD_INIT_LOG
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no /{CLOUD_INIT_LOG} yet)"
    return "\n".join(text.splitlines()[-lines:])


def wait_cloud_init(name: str, deadline_s: float) -> None:
    """Return when cloud-init has finished all stages without error; raise
    MachineError with the tail of /var/log/cloud-init-output.log if it failed,
    the machine stopped, or the deadline passed."""
    end = time.monotonic() + deadline_s
    last = "unknown"
    while time.monotonic() < end:
        st = _load(name)
        if st is None or st.state == "stopped":
            raise MachineError(f"machine {name} stopped before cloud-init finished:\n{_cloud_init_log_tail(name)}")
        if st.init_pid:
            proc = _nsenter(st.init_pid, ["cloud-init", "status", "--long"], timeout=30)
            fields = dict(
                line.split(":", 1) for line in proc.stdout.splitlines() if ":" in line and not line.startswith(" ")
            )
            last = fields.get("status", "").strip() or last
            if last == "done":
                return
            if last == "error" or (last == "disabled"):
                detail = fields.get("detail", "").strip()
                raise MachineError(
                    f"cloud-init on {name} finished with status {last} ({detail}):\n{_cloud_init_log_tail(name)}"
                )
        time.sleep(1.0)
    raise MachineError(
        f"cloud-init on {name} not done after {deadline_s:.0f} s (status {last}):\n{_cloud_init_log_tail(name)}"
    )


def wait_http(url: str, deadline_s: float, host_header: str | None = None) -> float:
    """Poll url until it answers 200; return the seconds it took. Proxies from
    the environment are ignored: the machine is on a host-local address."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {"Host": host_header} if host_header else {}
    started = time.monotonic()
    last = "no attempt"
    while True:
        try:
            with opener.open(urllib.request.Request(url, headers=headers), timeout=2.0) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if time.monotonic() - started > deadline_s:
            raise TimeoutError(f"{url} did not answer 200 within {deadline_s:.0f} s (last: {last})")
        time.sleep(0.25)


def logs(name: str, units: Sequence[str] = DEFAULT_LOG_UNITS, lines: int = 200) -> str:
    """cloud-init-output.log, then (if the machine runs) the journal of the
    cloud-init, nginx and app units."""
    validate_name(name)
    st = _load(name)
    if st is None:
        raise MachineError(f"machine {name} does not exist")
    parts = [f"==> /{CLOUD_INIT_LOG} <==", _cloud_init_log_tail(name, lines)]
    if st.init_pid:
        argv = ["journalctl", "--no-pager", "-o", "short-iso", "-n", str(lines)]
        for unit in units:
            argv += ["-u", unit]
        proc = _nsenter(st.init_pid, argv, timeout=30)
        parts += [f"==> journalctl {' '.join('-u ' + u for u in units)} <==", proc.stdout.strip() or proc.stderr.strip()]
    else:
        parts += ["==> console (machine not running) <==", _console_tail(name, lines)]
    return "\n".join(parts) + "\n"


def reboot(name: str, deadline_s: float) -> None:
    """Reboot from inside (`systemctl reboot`) and return when the machine's
    systemd is up again. The address is unchanged: the network namespace is the
    host's, not the machine's."""
    st = _running(name)
    old_init = st.init_pid
    # --no-block: the command's own connection dies with the old PID 1.
    _nsenter(st.init_pid or 0, ["systemctl", "--no-block", "reboot"], timeout=30)
    _wait_systemd(name, deadline_s, old_init=old_init)


def _signal(pid: int | None, sig: int) -> None:
    if pid:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait_gone(pid: int | None, markers: Sequence[str], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not _alive(pid, *markers):
            return True
        time.sleep(0.1)
    return not _alive(pid, *markers)


def _stop_nspawn(nspawn_pid: int | None, rootfs: str, timeout_s: float) -> None:
    markers = ("systemd-nspawn", rootfs)
    if _alive(nspawn_pid, *markers):
        _signal(nspawn_pid, signal.SIGTERM)  # a clean shutdown of the machine
        if not _wait_gone(nspawn_pid, markers, timeout_s):
            _signal(nspawn_pid, signal.SIGKILL)
            _wait_gone(nspawn_pid, markers, 5)


def down(name: str, timeout_s: float = 60.0) -> None:
    """Stop the machine and remove everything it had on the host: processes,
    mount, network namespace, interface, nft rules, state dir; ip_forward goes
    back to what it was once the last machine is gone. No-op if it does not exist."""
    validate_name(name)
    state_dir = _machine_dir(name)
    if not state_dir.exists():
        return
    record = _read_json(state_dir / "state.json")
    runtime = _read_json(state_dir / "runtime.json")
    rootfs = str(record.get("rootfs", state_dir / "rootfs"))
    sup_pid, sup_markers = runtime.get("supervisor_pid"), _supervisor_markers(name)
    nspawn_pid = runtime.get("nspawn_pid")
    if _alive(sup_pid, *sup_markers):
        # The supervisor turns SIGTERM into a clean shutdown of the machine.
        _signal(sup_pid, signal.SIGTERM)
        if not _wait_gone(sup_pid, sup_markers, timeout_s):
            _signal(sup_pid, signal.SIGKILL)
            _wait_gone(sup_pid, sup_markers, 5)
    # Left running if the supervisor was killed hard (or never got its signal).
    _stop_nspawn(nspawn_pid, rootfs, timeout_s)
    with _host_lock():
        for mount in sorted(_mounts_under(state_dir), key=len, reverse=True):
            proc = subprocess.run(["umount", mount], capture_output=True, text=True)
            if proc.returncode != 0:
                raise MachineError(f"down {name}: umount {mount} failed: {proc.stderr.strip()}; nothing deleted")
        if _mounts_under(state_dir):
            raise MachineError(f"down {name}: {state_dir} still has mounts; nothing deleted")
        net.remove_link(str(record.get("netns", net.netns_name(name))), str(record.get("interface", net.interface_name(name))))
        # Drop this machine from other machines' allow lists too: a new machine
        # by the same name is a different machine.
        for other in list_machines():
            if other.name != name and any(src == name for src, _ in other.ingress):
                _set_ingress(other.name, [(s, p) for s, p in other.ingress if s != name])
        shutil.rmtree(state_dir)
        _apply_host_network()


def _set_ingress(name: str, ingress: list[tuple[str, int]]) -> None:
    path = _machine_dir(name) / "state.json"
    record = _read_json(path)
    record["ingress"] = sorted(set(ingress))
    _write_json(path, record)


def allow(src: str, dst: str, port: int) -> None:
    """Let machine `src` open TCP connections to machine `dst` on `port` (e.g. web
    -> database on 5432). Everything else between machines is dropped. The rule
    lives in dst's state and lasts until `deny` or until either machine is downed."""
    _change_ingress(src, dst, port, add=True)


def deny(src: str, dst: str, port: int) -> None:
    """Undo `allow` (no-op if it was not allowed)."""
    _change_ingress(src, dst, port, add=False)


def _change_ingress(src: str, dst: str, port: int, add: bool) -> None:
    validate_name(src)
    validate_name(dst)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not valid: use 1-65535")
    if src == dst:
        raise ValueError(f"allow: source and destination are both {src!r}; a machine always reaches itself")
    with _host_lock():
        for n in (src, dst):
            if _load(n) is None:
                raise MachineError(f"machine {n} does not exist")
        target = _load(dst)
        assert target is not None
        ingress = set(target.ingress)
        if add:
            ingress.add((src, port))
        else:
            ingress.discard((src, port))
        _set_ingress(dst, sorted(ingress))
        _apply_host_network()
