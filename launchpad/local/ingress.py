"""Which local machines may connect to which, and the host network that enforces it.

Machines are isolated from each other by default; `allow(src, dst, port)` opens
one TCP port one way (e.g. web -> database on 5432). The allow lives in dst's
state.json (records.py) and lasts until `deny` or until either machine is downed.
`apply_host_network` renders the shared `table ip launchpad` (net.py) from every
machine's record and switches IPv4 forwarding on while any machine exists.
"""

from __future__ import annotations

from launchpad.local import net, records
from launchpad.local.records import MachineError


def apply_host_network() -> None:
    """Render the nft table from every existing machine and set ip_forward.
    Caller holds records.host_lock."""
    machines = []
    allows = []
    for m in records.list_machines():
        machines.append(net.NftMachine(m.name, m.address, m.interface))
        allows += [net.Allow(src, m.name, port) for src, port in m.ingress]
    net.apply_nft(net.render_nft(machines, allows))
    if machines:
        net.enable_forwarding(records.STATE_ROOT / "host.json")
    else:
        net.restore_forwarding(records.STATE_ROOT / "host.json")


def forget(name: str) -> None:
    """Drop `name` from every other machine's allow list: a new machine by the
    same name is a different machine. Caller holds records.host_lock."""
    for other in records.list_machines():
        if other.name != name and any(src == name for src, _ in other.ingress):
            records.save_ingress(other.name, [(s, p) for s, p in other.ingress if s != name])


def allow(src: str, dst: str, port: int) -> None:
    """Let machine `src` open TCP connections to machine `dst` on `port` (e.g. web
    -> database on 5432). Everything else between machines is dropped. The rule
    lives in dst's state and lasts until `deny` or until either machine is downed."""
    _change(src, dst, port, add=True)


def deny(src: str, dst: str, port: int) -> None:
    """Undo `allow` (no-op if it was not allowed)."""
    _change(src, dst, port, add=False)


def _change(src: str, dst: str, port: int, add: bool) -> None:
    records.validate_name(src)
    records.validate_name(dst)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not valid: use 1-65535")
    if src == dst:
        raise ValueError(f"allow: source and destination are both {src!r}; a machine always reaches itself")
    with records.host_lock():
        for n in (src, dst):
            if records.load(n) is None:
                raise MachineError(f"machine {n} does not exist")
        target = records.load(dst)
        assert target is not None
        ingress = set(target.ingress)
        if add:
            ingress.add((src, port))
        else:
            ingress.discard((src, port))
        records.save_ingress(dst, sorted(ingress))
        apply_host_network()
