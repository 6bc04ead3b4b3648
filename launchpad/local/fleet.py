"""A balanced stack on the local target (launchpad:hosts > 1): N web machines behind the balancer.

Machines (all removed by `launchpad local down`):
- lp-<stack>-web-<i>, i = 0..N-1: the web machines, every one booted on the same user-data, as a
  cloud's launch template boots every instance of a group. Each sees the stack's release store
  read-only; its agent follows `releases/desired/<machine name>.json` when the deployer pinned
  it there, else the stack's `releases/desired.json` (launchpad/local/rolling.py);
- lp-<stack>-lb: HAProxy at the fixed address the web machines' Nginx trusts (balancer.py),
  allowed to open port 80 on each web machine and nothing else (the host's nft table);
- lp-<stack>-db with `database.enabled`: PostgreSQL admitting every web machine, whose URL
  each web machine gets as a root-only file.

Users reach the site at the balancer's address. Which machines a stack has is recorded in
/var/lib/launchpad/stacks/<stack>/fleet.json at boot, so `down`, `logs` and the deployer know
them without the stack's settings (and never guess from machine names).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from launchpad.local import balancer, machine, records
from launchpad.local import release as local_release
from launchpad.local import stack as local_stack
from launchpad.local_plan import LocalPlan
from launchpad.render import balanced
from launchpad.render.haproxy import HealthCheck

RECORD = "fleet.json"
Progress = local_stack.Progress


def web_names(stack: str, hosts: int) -> list[str]:
    return [f"lp-{stack}-web-{i}" for i in range(hosts)]


def server_name(machine_name: str) -> str:
    """The web machine's name in HAProxy's backend: web-<i>."""
    return "web-" + machine_name.rsplit("-", 1)[1]


def record_path(stack: str) -> Path:
    return local_stack.STACKS_DIR / stack / RECORD


def record(stack: str) -> dict[str, Any] | None:
    try:
        data = json.loads(record_path(stack).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("web"), list) else None


def _save(stack: str, data: dict[str, Any]) -> None:
    records.write_record(record_path(stack), data)


def booted(stack: str) -> bool:
    """The stack runs as a fleet (its web machines were booted behind a balancer)."""
    data = record(stack)
    return data is not None and any(machine.status(n) is not None for n in data["web"])


def machines(stack: str) -> list[str]:
    """Every machine the fleet record names: web machines, balancer, database."""
    data = record(stack) or {}
    return [*data.get("web", []), *(n for n in (data.get("balancer"), data.get("database")) if n)]


def web_machines(stack: str) -> list[machine.MachineState]:
    """The fleet's web machines that exist, in host order."""
    data = record(stack) or {}
    found = [machine.status(n) for n in data.get("web", [])]
    return [m for m in found if m is not None]


def check_of(plan: LocalPlan) -> HealthCheck:
    assert plan.balancer is not None
    return HealthCheck(plan.balancer.health_path, plan.balancer.health_host, plan.balancer.strict)


def boot(plan: LocalPlan, user_data: str, progress: Progress, deadline_s: float, prebake: bool) -> local_stack.StackStatus:
    """Boots the web machines, the database (if any) and the balancer; returns once cloud-init is
    done everywhere. Running machines with unchanged user-data are left as they are; web machines
    beyond `plan.hosts` (a smaller fleet than last time) leave the balancer and are removed."""
    stack = plan.stack
    stage = local_stack.start_boot(progress)
    balancer.check_address(stack)
    baked = local_stack._packages(user_data) if prebake else []
    before = record(stack) or {}
    names = web_names(stack, plan.hosts)
    _save(stack, {**before, "web": sorted(set(before.get("web", [])) | set(names), key=_host_order),
                  "balancer": balancer.name(stack)})
    mounts = local_stack.web_mounts(stack)
    webs = []
    for name in names:
        stage(f"boot {name}")
        spec = machine.MachineSpec(name, user_data, local_stack._instance_id(user_data, name), binds=mounts)
        webs.append(machine.up(spec, progress=stage, replace=machine.status(name) is not None, extra_packages=baked))
    lb_subnet = str(balanced.local_balancer_subnet(stack))
    if any(w.subnet == lb_subnet for w in webs):
        raise balancer.BalancerError(f"a web machine took the balancer's address range {lb_subnet}; down the stack and up again")
    db_name = None
    if plan.database is not None:
        # Booted on the plain base layer even with prebake, as before: only the web machines are prebaked.
        db_name = local_stack.boot_database(plan, [w.name for w in webs], [w.address for w in webs], stage, prebake=False)
    servers = [(server_name(w.name), w.address) for w in webs]
    stage(f"boot {balancer.name(stack)} (HAProxy) at {balancer.address(stack)}")
    balancer.boot(stack, servers, check_of(plan), stage, extra_packages=["haproxy"] if prebake else ())
    for w in webs:
        machine.allow(balancer.name(stack), w.name, balancer.PORT)
    for name in [*names, balancer.name(stack), *([db_name] if db_name else [])]:
        stage(f"cloud-init {name}")
        machine.wait_cloud_init(name, deadline_s)
    if balancer.configure(stack, servers, check_of(plan)):
        stage("balancer: HAProxy reloaded with the web machines")
    for gone in sorted(set(before.get("web", [])) - set(names), key=_host_order):
        stage(f"down {gone} (hosts is now {plan.hosts})")
        machine.down(gone)
        (local_release.store_dir(stack) / "releases" / "desired" / f"{gone}.json").unlink(missing_ok=True)
    _save(stack, {"web": names, "balancer": balancer.name(stack), "database": db_name, "hosts": plan.hosts})
    stage(f"bootstrap done: http://{balancer.address(stack)}/ (balancing {len(webs)} web machines)")
    return status_of(plan)


def _host_order(name: str) -> tuple[int, str]:
    tail = name.rsplit("-", 1)[-1]
    return (int(tail) if tail.isdigit() else 1 << 30, name)


def status_of(plan: LocalPlan) -> local_stack.StackStatus:
    stack = plan.stack
    lb = machine.status(balancer.name(stack))
    db = machine.status(local_stack.db_name(stack))
    webs = [machine.status(n) for n in web_names(stack, plan.hosts)]
    present = [w for w in webs if w is not None]
    names = [m.name for m in [*present, lb, db] if m is not None]
    hosts = [{"name": w.name, "address": w.address, "state": w.state} for w in present]
    db_address = db.address if db else None
    if lb is None and not present:
        return local_stack.StackStatus(stack, "absent", None, None, None, db_address, names, hosts)
    states = {m.state for m in [*present, lb] if m is not None}
    state = states.pop() if len(states) == 1 and len(present) == plan.hosts and lb is not None else "degraded"
    address = lb.address if lb else None
    return local_stack.StackStatus(stack, state, local_stack.url_for(address) if address else None, address, plan.domain,
                                   db_address, names, hosts)


def logs(stack: str) -> list[str]:
    return [name for name in machines(stack) if machine.status(name) is not None]
