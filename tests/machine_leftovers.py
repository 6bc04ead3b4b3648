"""What a local machine's `up` creates that could outlive `down`: one check for every e2e test."""

from __future__ import annotations

import subprocess
from pathlib import Path

from launchpad.local import machine, net, proc


def _mounted(path: str) -> bool:
    return any(line.split()[4].startswith(path) for line in open("/proc/self/mountinfo"))


def leftovers(st: machine.MachineState, forward_before: str | None = None) -> list[str]:
    """Everything of the (running, when captured) machine `st` still on the host.

    With `forward_before` (no other machine is left), the shared nft table must be
    gone too and ip_forward back to what it was.
    """
    found = []
    if machine.status(st.name) is not None:
        found.append(f"state of {st.name}")
    if Path(st.state_dir).exists():
        found.append(f"state dir {st.state_dir}")
    if _mounted(st.state_dir):
        found.append(f"mount under {st.state_dir}")
    for pid in (st.pid, st.nspawn_pid, st.init_pid):
        if not pid:
            found.append(f"{st.name} was captured without all its pids")
        elif proc.alive(pid):  # zombies and recycled pids do not count
            found.append(f"process {pid}")
    if net.netns_exists(st.netns):
        found.append(f"netns {st.netns}")
    if net.link_exists(st.interface):
        found.append(f"interface {st.interface}")
    rules = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    if st.address in rules or st.interface in rules:
        found.append(f"nft rules for {st.address}")
    if forward_before is not None:
        if net.nft_table_exists():
            found.append("nft table ip launchpad")
        if net.IP_FORWARD.read_text().strip() != forward_before:
            found.append(f"ip_forward not restored to {forward_before}")
    return found
