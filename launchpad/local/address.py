"""A movable public address on the local target: the local stand-in for an Elastic IP / reserved IP.

A cloud stack's users reach a stable address that `pulumi up` moves from the old host to a new
one only once the new one is ready. Locally that address is an IPv4 /32 on the host's loopback
(from the machines' pool, so no machine subnet overlaps it) and an nftables table of its own,
`table ip launchpad_address_<stack>`, that DNATs its ports 80 and 443 to the current machine.
Moving it is one atomic `nft -f`: new connections go to the new machine, established ones
finish where they started (conntrack), as with a cloud address moved between instances.
Only this host's own connections are redirected (the output hook): like the machines, the
address is reachable from this host only.

The record (address, current machine) is /var/lib/launchpad/stacks/<stack>/address.json;
`release` removes the table, the loopback address and the record.
"""

from __future__ import annotations

import json
import re
import subprocess
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from launchpad.local import machine, net, records

PORTS = (80, 443)
RECORD = "address.json"
LABEL = "lo"


def _table(stack: str) -> str:
    return "launchpad_address_" + re.sub(r"[^A-Za-z0-9_]", "_", stack)


def _record_path(stack: str) -> Path:
    return records.STATE_ROOT / "stacks" / stack / RECORD


def current(stack: str) -> dict[str, str] | None:
    """{"address": ..., "machine": ..., "target": ...} or None when the stack has no movable address."""
    try:
        data = json.loads(_record_path(stack).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "address" in data else None


def render(stack: str, address: str, target: str) -> str:
    """The `nft -f` script that (re)points `address` at `target`, replacing the stack's table atomically."""
    table = _table(stack)
    ports = ", ".join(str(p) for p in PORTS)
    return "\n".join([
        f"table ip {table}", f"delete table ip {table}",
        f"table ip {table} {{",
        "\tchain output {",
        "\t\ttype nat hook output priority -100; policy accept;",
        f"\t\tip daddr {IPv4Address(address)} tcp dport {{ {ports} }} dnat to {IPv4Address(target)}",
        "\t}",
        "}",
    ]) + "\n"


def _save(stack: str, data: dict[str, str]) -> None:
    records.write_record(_record_path(stack), data)


def assign(stack: str, machine_name: str) -> str:
    """Point the stack's public address at `machine_name` (allocating the address the first time);
    returns the address. The association of a cloud stack's address with its new host."""
    st = machine.status(machine_name)
    if st is None or not st.address:
        raise machine.MachineError(f"machine {machine_name} does not exist: boot it before giving it the address")
    with records.host_lock():
        record = current(stack)
        if record is None:
            taken = net.host_networks() + [IPv4Network(m.subnet) for m in machine.list_machines()]
            address = str(net.host_address(net.choose_subnet(f"{stack}-address", taken)))
            subprocess.run(["ip", "-4", "addr", "add", f"{address}/32", "dev", LABEL], check=True, capture_output=True, text=True)
        else:
            address = record["address"]
        try:
            net.apply_nft(render(stack, address, st.address))
        except Exception:
            if record is None:  # nothing of a first assignment that failed stays on the host
                subprocess.run(["ip", "-4", "addr", "del", f"{address}/32", "dev", LABEL], capture_output=True, text=True)
            raise
        _save(stack, {"address": address, "machine": machine_name, "target": st.address})
    return address


def release(stack: str) -> None:
    """Remove the stack's public address: its nft table, the loopback address and the record. No-op if none."""
    record = current(stack)
    if record is None:
        return
    table = _table(stack)
    net.apply_nft(f"table ip {table}\ndelete table ip {table}\n")
    subprocess.run(["ip", "-4", "addr", "del", f"{record['address']}/32", "dev", LABEL], capture_output=True, text=True)
    _record_path(stack).unlink(missing_ok=True)
