"""Host-side networking for local machines.

Each machine gets:
- a named network namespace `/run/netns/launchpad-<name>`, created by the host
  and handed to systemd-nspawn with `--network-namespace-path=`. It outlives the
  nspawn process, so a reboot inside the machine (nspawn exits 133 and is started
  again) finds the same interface and address;
- a veth pair: `lp-<name>` on the host, `host0` in the namespace, on a /30 out of
  10.213.0.0/16 chosen from a hash of the name (stable across `up`s), skipping
  anything already routed or addressed on the host;
- a default route via the host end.

One nftables table, `table ip launchpad`, holds every rule Launchpad adds. It is
re-rendered from the machines' state files and replaced in one `nft -f`
transaction, so removing a machine is "render without it" and removing the last
one deletes the table. It masquerades the machines' outbound traffic (apt, pip),
drops new connections between machines unless `allow`ed (e.g. web -> database on
5432), and drops new connections from other hosts towards the machines: like a
cloud firewall, only the host itself reaches them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

POOL = IPv4Network("10.213.0.0/16")
PREFIXLEN = 30
IFACE_PREFIX = "lp-"
NETNS_PREFIX = "launchpad-"
MACHINE_IFACE = "host0"
NFT_TABLE = "launchpad"
IFNAMSIZ = 15  # kernel limit on interface names, without the NUL

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def interface_name(name: str) -> str:
    """Host end of the machine's veth: `lp-<name>`, hashed when the name is too long."""
    full = IFACE_PREFIX + name
    if len(full) <= IFNAMSIZ:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:4]
    return f"{IFACE_PREFIX}{name[: IFNAMSIZ - len(IFACE_PREFIX) - 5]}-{digest}"


def netns_name(name: str) -> str:
    return NETNS_PREFIX + name


def choose_subnet(name: str, taken: Iterable[IPv4Network], pool: IPv4Network = POOL) -> IPv4Network:
    """The /30 for `name`: a hash of the name picks the first candidate, then the
    next free one. Deterministic for a given host, so a machine recreated with
    the same name usually gets the same address back."""
    taken = list(taken)
    subnets = 1 << (PREFIXLEN - pool.prefixlen)
    start = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % subnets
    for step in range(subnets):
        index = (start + step) % subnets
        candidate = IPv4Network((int(pool.network_address) + index * (1 << (32 - PREFIXLEN)), PREFIXLEN))
        if not any(candidate.overlaps(net) for net in taken):
            return candidate
    raise RuntimeError(f"no free /{PREFIXLEN} left in {pool}: every subnet overlaps a host route or a machine")


def host_address(subnet: IPv4Network) -> IPv4Address:
    return subnet.network_address + 1


def machine_address(subnet: IPv4Network) -> IPv4Address:
    return subnet.network_address + 2


def _ip_json(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-j", *args], check=True, capture_output=True, text=True).stdout
    data: list[dict[str, Any]] = json.loads(out or "[]")
    return data


def host_networks(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[IPv4Network]:
    """Everything on the host a machine subnet must not shadow: routes (all
    tables, except default), interface addresses, and the DNS servers."""
    nets: list[IPv4Network] = []
    for route in _ip_json("-4", "route", "show", "table", "all"):
        dst = str(route.get("dst", "default"))
        if dst in ("default", "0.0.0.0/0"):
            continue
        try:
            nets.append(IPv4Network(dst, strict=False))
        except ValueError:
            continue
    for link in _ip_json("-4", "addr", "show"):
        for info in link.get("addr_info", []):
            nets.append(IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False))
    for server in nameservers(resolv_conf):
        if isinstance(server, IPv4Address):
            nets.append(IPv4Network(server))
    return nets


def nameservers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    servers: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    try:
        text = resolv_conf.read_text()
    except OSError:
        return servers
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            try:
                servers.append(ipaddress.ip_address(parts[1].split("%")[0]))
            except ValueError:
                continue
    return servers


def machine_resolv_conf(host_resolv: Path = Path("/etc/resolv.conf"),
                        resolved_uplink: Path = Path("/run/systemd/resolve/resolv.conf")) -> str:
    """resolv.conf for a machine: the host's servers, minus loopback ones (a
    machine has its own loopback; 127.0.0.53 there is nothing). If the host only
    has a local stub, systemd-resolved's uplink list is the real one."""
    usable = [s for s in nameservers(host_resolv) if not s.is_loopback]
    if not usable:
        usable = [s for s in nameservers(resolved_uplink) if not s.is_loopback]
    if not usable:
        raise RuntimeError(
            f"no usable nameserver for machines: {host_resolv} has only loopback servers "
            f"and {resolved_uplink} has none; put a real nameserver in {host_resolv}"
        )
    search = [line for line in host_resolv.read_text().splitlines() if line.startswith(("search ", "options "))]
    lines = ["# Written by launchpad/local/net.py from the host's resolv.conf"]
    lines += search + [f"nameserver {s}" for s in usable[:3]]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class NftMachine:
    name: str
    address: str
    interface: str


@dataclass(frozen=True)
class Allow:
    """New TCP connections from `src` to `dst` on `port` pass the host."""

    src: str
    dst: str
    port: int


def render_nft(machines: Sequence[NftMachine], allows: Sequence[Allow] = ()) -> str:
    """An `nft -f` script that replaces `table ip launchpad` atomically.

    With no machines it only deletes the table. The leading `table ip
    launchpad` (an add, a no-op if it exists) lets the delete succeed when the
    table is absent.
    """
    script = [f"table ip {NFT_TABLE}", f"delete table ip {NFT_TABLE}"]
    if not machines:
        return "\n".join(script) + "\n"
    by_name = {m.name: m for m in machines}
    wildcard = f'"{IFACE_PREFIX}*"'
    masquerade = [
        f"\t\tip saddr {m.address} oifname != {wildcard} masquerade comment \"{m.name}\""
        for m in sorted(machines, key=lambda m: m.name)
    ]
    # Machines hold CAP_NET_ADMIN in their own namespace and could take another
    # machine's address; allows and masquerade key on addresses, so a packet
    # from a machine's link must carry that machine's address.
    antispoof = [
        f"\t\tiifname \"{m.interface}\" ip saddr != {m.address} drop comment \"{m.name} anti-spoof\""
        for m in sorted(machines, key=lambda m: m.name)
    ]
    accepts = []
    for a in sorted(set(allows), key=lambda a: (a.src, a.dst, a.port)):
        if a.src in by_name and a.dst in by_name:
            src, dst = by_name[a.src], by_name[a.dst]
            accepts.append(
                f"\t\tip saddr {src.address} ip daddr {dst.address} tcp dport {a.port} accept "
                f"comment \"{a.src} -> {a.dst}:{a.port}\""
            )
    script += [
        f"table ip {NFT_TABLE} {{",
        "\tchain postrouting {",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        *masquerade,
        "\t}",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
        *antispoof,
        f"\t\toifname {wildcard} ct state established,related accept",
        f"\t\tiifname {wildcard} oifname {wildcard} jump between",
        # Only the host itself (not the forward path) may open connections to a
        # machine, as with a cloud firewall in front of an instance.
        f"\t\toifname {wildcard} ct state new drop",
        "\t}",
        "\tchain between {",
        *accepts,
        "\t\tdrop",
        "\t}",
        "}",
    ]
    return "\n".join(script) + "\n"


def apply_nft(script: str) -> None:
    proc = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nft -f failed: {proc.stderr.strip()}\n--- script ---\n{script}")


def nft_table_exists() -> bool:
    proc = subprocess.run(["nft", "list", "table", "ip", NFT_TABLE], capture_output=True, text=True)
    return proc.returncode == 0


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def netns_exists(netns: str) -> bool:
    return Path("/run/netns", netns).exists()


def link_exists(iface: str, netns: str | None = None) -> bool:
    args = ["-n", netns] if netns else []
    return _ip(*args, "link", "show", "dev", iface, check=False).returncode == 0


def ensure_link(netns: str, iface: str, subnet: IPv4Network) -> None:
    """Create (or repair) the namespace, the veth pair, addresses and routes.

    Idempotent: `up` calls it before the first boot, the supervisor before every
    boot, so a host reboot (which empties /run/netns) heals on the next start."""
    if not netns_exists(netns):
        _ip("netns", "add", netns)
    if not link_exists(iface):
        if link_exists(MACHINE_IFACE, netns):
            _ip("-n", netns, "link", "del", MACHINE_IFACE)
        _ip("link", "add", iface, "type", "veth", "peer", "name", MACHINE_IFACE, "netns", netns)
    host = f"{host_address(subnet)}/{subnet.prefixlen}"
    machine = f"{machine_address(subnet)}/{subnet.prefixlen}"
    _ip("addr", "replace", host, "dev", iface)
    _ip("link", "set", iface, "up")
    _ip("-n", netns, "link", "set", "lo", "up")
    _ip("-n", netns, "addr", "replace", machine, "dev", MACHINE_IFACE)
    _ip("-n", netns, "link", "set", MACHINE_IFACE, "up")
    _ip("-n", netns, "route", "replace", "default", "via", str(host_address(subnet)))


def remove_link(netns: str, iface: str) -> None:
    if link_exists(iface):
        _ip("link", "del", iface)
    if netns_exists(netns):
        _ip("netns", "del", netns)


IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


def enable_forwarding(record: Path) -> None:
    """Turn on IPv4 forwarding, remembering in `record` what it was so the last
    `down` can put it back."""
    before = IP_FORWARD.read_text().strip()
    if not record.exists():
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"ip_forward_before": before}) + "\n")
    if before != "1":
        IP_FORWARD.write_text("1\n")


def restore_forwarding(record: Path) -> None:
    """Put ip_forward back to what it was before the first machine (no-op if we
    never changed anything)."""
    if not record.exists():
        return
    before = json.loads(record.read_text()).get("ip_forward_before", "1")
    if before != "1":
        IP_FORWARD.write_text(f"{before}\n")
    record.unlink()
