"""The local balancer machine: HAProxy from Debian in front of a balanced stack's web machines,
the local stand-in for the ALB / DigitalOcean Load Balancer (launchpad:hosts > 1).

It is a machine like the others (records, supervisor, the host's nft table): its own network
namespace, at the fixed /30 the web machines' Nginx already trusts for X-Forwarded-For
(render/balanced.py: `local_balancer_subnet`, a function of the stack's name). It boots once on
its #cloud-config (render/haproxy.py); when the web machines change (hosts 3 -> 4, a machine
re-created elsewhere) the config is rewritten in place and HAProxy reloaded, hitless, rather
than the balancer replaced, as a cloud balancer keeps running while its targets change.

The deployer drives it through HAProxy's runtime API (a root-only unix socket in the machine,
reached with nsenter): drain a host before its release, put it back once it serves the new
one, read each server's state and counters (`show stat`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

from launchpad.local import machine, net, records
from launchpad.render import balanced
from launchpad.render.haproxy import (ADMIN_SOCKET, BACKEND, CONFIG_PATH, HealthCheck, drain_command, ready_command,
                                      render_balancer_user_data, render_haproxy_config)

Progress = Callable[[str], None]
PORT = 80
FORMAT = 1
"""Bump when the balancer's cloud-config changes in a way a running balancer must be re-created for."""

_ADMIN = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    f"s.connect({ADMIN_SOCKET!r})\n"
    "s.sendall(sys.argv[1].encode() + b'\\n')\n"
    "out = b''\n"
    "while chunk := s.recv(65536):\n"
    "    out += chunk\n"
    "sys.stdout.write(out.decode())\n"
)
"""One runtime API command, run by the machine's python3 (cloud-init's): no socat needed."""


class BalancerError(RuntimeError):
    """The balancer did not do what was asked; the message says what it answered."""


def name(stack: str) -> str:
    return balanced.local_balancer_name(stack)


def address(stack: str) -> str:
    return balanced.local_balancer_address(stack)


def _instance_id(stack: str) -> str:
    # Not the user-data's hash: a changed server list is applied in place (configure), not by a new machine.
    return "lp-" + hashlib.sha256(f"balancer\0{stack}\0{FORMAT}".encode()).hexdigest()[:16]


def check_address(stack: str) -> None:
    """The balancer's /30 must be free (or already its own): the web machines trust exactly it."""
    subnet = balanced.local_balancer_subnet(stack)
    own = machine.status(name(stack))
    if own is not None:
        if own.subnet != str(subnet):
            raise BalancerError(f"machine {own.name} runs at {own.address}, not at {subnet.network_address + 2}, the address "
                                f"the web machines trust: `launchpad local down --stack {stack}` and up again")
        return
    for m in records.list_machines():
        if IPv4Network(m.subnet).overlaps(subnet):
            raise BalancerError(f"the balancer's address range {subnet} (fixed by the stack name {stack!r}) is held by machine "
                                f"{m.name}; down that machine or pick another stack name")
    for other in net.host_networks():
        if other.overlaps(subnet):
            raise BalancerError(f"the balancer's address range {subnet} (fixed by the stack name {stack!r}) overlaps {other} "
                                "on this host; pick another stack name")


def boot(stack: str, servers: Sequence[tuple[str, str]], check: HealthCheck, progress: Progress,
         extra_packages: Sequence[str] = ()) -> machine.MachineState:
    """Boots the balancer (or finds it running) and returns once systemd is up; `configure` after
    cloud-init is done applies `servers` to a balancer that was already running."""
    check_address(stack)
    config = render_haproxy_config(stack, servers, check)
    spec = machine.MachineSpec(name(stack), render_balancer_user_data(stack, config), _instance_id(stack))
    st = machine.up(spec, progress=progress, replace=machine.status(spec.name) is not None, extra_packages=extra_packages)
    if st.address != address(stack):
        machine.down(spec.name)
        raise BalancerError(f"machine {spec.name} came up at {st.address}, not at {address(stack)}, the address the web "
                            "machines trust; it was removed")
    return st


def configure(stack: str, servers: Sequence[tuple[str, str]], check: HealthCheck) -> bool:
    """Writes the config for `servers` if it differs from the running one, checks it and reloads
    HAProxy (hitless: the new process takes the listening socket). True when it changed."""
    config = render_haproxy_config(stack, servers, check)
    lb = name(stack)
    current = machine.run(lb, ["cat", CONFIG_PATH], check=False).stdout
    if current == config:
        return False
    script = (f"set -e; umask 022; cat > {CONFIG_PATH}.new; haproxy -c -q -f {CONFIG_PATH}.new; "
              f"mv {CONFIG_PATH}.new {CONFIG_PATH}; systemctl reload-or-restart haproxy.service")
    done = machine.run(lb, ["sh", "-c", script], check=False, input=config, timeout=60)
    if done.returncode != 0:
        raise BalancerError(f"{lb}: the new HAProxy config was refused (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return True


def admin(stack: str, line: str) -> str:
    """One runtime API command; its answer."""
    done = machine.run(name(stack), ["python3", "-c", _ADMIN, line], check=False, timeout=15)
    if done.returncode != 0:
        raise BalancerError(f"{name(stack)}: runtime API {line!r} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    answer = done.stdout.strip()
    if line.startswith("set ") and answer:
        raise BalancerError(f"{name(stack)}: runtime API {line!r} answered {answer!r}")
    return answer


@dataclass(frozen=True)
class Server:
    name: str
    status: str
    """UP, DOWN, DRAIN, MAINT (HAProxy's words; "UP 1/2" while a check changes its mind)."""
    current: int
    """Open sessions right now."""
    total: int
    retries: int
    redispatched: int
    errors_5xx: int


def parse_stat(csv_text: str) -> dict[str, Server]:
    """`show stat` (CSV) -> the `hosts` backend's servers by name."""
    lines = csv_text.lstrip("# ").splitlines()
    out = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        if row.get("pxname") != BACKEND or row.get("svname") in ("FRONTEND", "BACKEND", None):
            continue
        out[row["svname"]] = Server(row["svname"], row.get("status", ""), _int(row.get("scur")), _int(row.get("stot")),
                                    _int(row.get("wretr")), _int(row.get("wredis")), _int(row.get("hrsp_5xx")))
    return out


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def servers(stack: str) -> dict[str, Server]:
    return parse_stat(admin(stack, "show stat"))


def drain(stack: str, server: str, timeout_s: float = 15.0) -> float:
    """Takes `server` out of rotation and waits for its open sessions to finish; seconds waited."""
    admin(stack, drain_command(server))
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        seen = servers(stack).get(server)
        if seen is None:
            raise BalancerError(f"{name(stack)}: no server {server} in backend {BACKEND}")
        if seen.current == 0:
            return time.monotonic() - started
        time.sleep(0.1)
    return time.monotonic() - started


def rejoin(stack: str, server: str, timeout_s: float = 20.0) -> float:
    """Puts `server` back in rotation and waits until HAProxy's health check says UP; seconds waited."""
    admin(stack, ready_command(server))
    return wait_status(stack, server, "UP", timeout_s)


def maintain(stack: str, server: str) -> None:
    """Out of rotation, health checks off (the benchmark's way of running on fewer machines)."""
    admin(stack, f"set server {BACKEND}/{server} state maint")


def wait_status(stack: str, server: str, want: str, timeout_s: float) -> float:
    started = time.monotonic()
    last = ""
    while time.monotonic() - started < timeout_s:
        seen = servers(stack).get(server)
        last = seen.status if seen else "absent"
        if (last.split() or [''])[0] == want:
            return time.monotonic() - started
        time.sleep(0.2)
    raise BalancerError(f"{name(stack)}: server {server} is {last!r}, not {want}, after {timeout_s:g} s")
