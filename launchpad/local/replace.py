"""Host replacement on the local target, in the order a cloud stack replaces its host.

`pulumi up` with a changed bootstrap builds a new instance beside the old one, waits for its
readiness on the new host's own address, and only then moves the Elastic IP / reserved IP
(components/readiness.py). Locally:

1. boot a new web machine `lp-<stack>-r<N>` from the same user-data, with the stack's release
   store, pip cache and certificate store (launchpad/local/stack.py: web_mounts);
2. wait for cloud-init: its bootstrap takes the stack's stored certificate (or obtains one by
   DNS-01) before the agent's first release;
3. readiness on the new machine's own address: HTTPS with SNI = the domain, the certificate
   verified for it, the health path answering with the live release's id;
4. move the stack's public address (launchpad/local/address.py) to it, let the old machine's
   connections drain, and down the old machine.

A stack with a database is not replaced here (its URL and firewall rule go to the machine
booted by `launchpad local up`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from launchpad import wait
from launchpad.local import address, machine
from launchpad.local import stack as local_stack

Progress = Callable[[str], None]
DRAIN_S = 3.0
"""Connections the old machine accepted before the move finish before it stops."""


@dataclass(frozen=True)
class Replaced:
    old: str
    new: str
    new_address: str
    public_address: str
    ready_s: float
    """From the new machine's boot to its HTTPS readiness."""


def holder(stack: str) -> str:
    """The machine that holds (or, before any move, would hold) the stack's public address."""
    record = address.current(stack)
    return record["machine"] if record else local_stack.web_name(stack)


def next_name(stack: str) -> str:
    for n in range(1, 100):
        name = f"lp-{stack}-r{n}"
        if machine.status(name) is None and name != holder(stack):
            return name
    raise machine.MachineError(f"stack {stack}: no free replacement machine name left (lp-{stack}-r1..99)")


def replace(stack: str, user_data: str, domain: str, release_id: str, health_path: str = "/healthz",
            cafile: str | None = None, deadline_s: float = 600.0, progress: Progress = print,
            instance_id: str | None = None) -> Replaced:
    """Replace the machine holding the stack's public address by a new one from `user_data`;
    HTTPS on the new machine (SNI `domain`, verified, serving `release_id`) before the address moves."""
    old, new = holder(stack), next_name(stack)
    if machine.status(old) is None:
        raise machine.MachineError(f"stack {stack}: {old} does not exist; boot the stack first")
    started = time.monotonic()
    progress(f"boot {new} (replacing {old})")
    st = machine.up(machine.MachineSpec(new, user_data, instance_id or f"{new}-{int(time.time())}",
                                        binds=local_stack.web_mounts(stack)), progress=progress)
    machine.wait_cloud_init(new, deadline_s)
    progress(f"readiness: https://{st.address}{health_path} (SNI {domain})")
    wait.until_healthy(f"https://{st.address}{health_path}", domain, timeout=deadline_s, interval=0.5, say=progress,
                       release=release_id, sni=domain, cafile=cafile, logs=f"launchpad local logs; machine {new}")
    ready = time.monotonic() - started
    public = address.assign(stack, new)
    progress(f"address {public} -> {new} ({st.address}); draining {old} for {DRAIN_S:.0f} s")
    time.sleep(DRAIN_S)
    machine.down(old)
    return Replaced(old, new, st.address, public, ready)
