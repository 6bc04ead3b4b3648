"""One stack on the local target: its web machine and, with a database, its PostgreSQL machine.

`boot` takes the web machine's user-data rendered once and the stack's LocalPlan
(launchpad/local_plan.py), from `launchpad local up`: the CLI renders both from
Pulumi.<stack>.yaml, or receives them from `pulumi up` (components/local/host.py).
The user-data is the very one a cloud host of the stack gets; secrets reach the
machines as root-only files written into their disks, never through user-data.
`up(settings)` does both steps for callers holding validated settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from launchpad import wait
from launchpad.local import machine, records
from launchpad.local import release as local_release
from launchpad.local_plan import PASSWORD_ENV, LocalPlan, plan_for, rehearsal, user_data_for
from launchpad.render import database_agent
from launchpad.render.certificate import STORE_IN_MACHINE as CERTIFICATE_STORE_IN_MACHINE
from launchpad.render.postgres import PASSWORD_FILE, render_postgres_user_data
from launchpad.settings import Settings

STACKS_DIR = records.STATE_ROOT / "stacks"
DB_USER = database_agent.LOCAL_MASTER
"""The database machine's master (RDS's shape); the app gets its own role from the agent."""
DB_PORT = 5432
HEALTH_PATH = "healthz"
HEALTH_INTERVAL_S = 0.5
"""The machine is on a host-local link: polling often costs nothing and shortens `up`."""

Progress = Callable[[str], None]


@dataclass
class StackStatus:
    stack: str
    state: str
    """running | stopped | absent"""
    url: str | None
    address: str | None
    host_header: str | None
    database_address: str | None
    machines: list[str]
    hosts: list[dict[str, str]] = field(default_factory=list)
    """With more than one host: each web machine's name, address and state (address above: the balancer's)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def web_name(stack: str) -> str:
    return f"lp-{stack}"


def db_name(stack: str) -> str:
    return f"lp-{stack}-db"


def _instance_id(*parts: str) -> str:
    # A new user-data means a new instance, exactly like a replaced cloud host.
    return "lp-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _password(stack: str, kind: str = "db-password", env: str | None = PASSWORD_ENV) -> str:
    """A database password: from the environment (pulumi-random, via the Pulumi program),
    else generated once and kept root-only for this stack. `db-password`: the master's;
    `db-app-password`: the app role's (the stand-in for the stack's Secrets Manager secret)."""
    given = os.environ.get(env) if env else None
    path = STACKS_DIR / stack / kind
    if given:
        return given
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def url_for(address: str) -> str:
    """The URL to open; the site answers it with the plan's domain as Host header (the catch-all drops other names)."""
    return f"http://{address}/"


def _packages(user_data: str) -> list[str]:
    return [str(p) for p in (yaml.safe_load(user_data).get("packages") or [])]


def up(settings: Settings, progress: Progress = print, deadline_s: float = 900.0, prebake: bool = False,
       release: bool = True) -> StackStatus:
    """Any stack's settings on the local target (see launchpad.local_plan.rehearsal): the machines
    booted, then (`release`) the app's release published and live. Secret values: the stack's
    readable `app.secrets` and every LAUNCHPAD_SECRET_<NAME> in the environment."""
    plan = plan_for(settings)
    st = boot(plan, user_data_for(settings), progress, deadline_s, prebake)
    if release and st.address and plan.balancer is not None:
        from launchpad.local import rolling
        from launchpad.release.publish import stack_secrets

        rolling.deploy(rehearsal(settings), stack_secrets(settings), deadline_s, progress)
    elif release and st.address:
        from launchpad.local import release as local_release
        from launchpad.release.publish import stack_secrets

        local_release.deploy(rehearsal(settings), stack_secrets(settings), st.address, deadline_s, progress)
    return st


def boot(plan: LocalPlan, user_data: str, progress: Progress = print, deadline_s: float = 900.0,
         prebake: bool = False) -> StackStatus:
    """Boots the stack's machines on `user_data` (the bootstrap only); returns once cloud-init
    is done. The app arrives as a release (launchpad/local/release.py): the web machine sees
    the stack's store folder read-only and shares the host's pip wheel cache. A running
    machine with the same user-data is left as it is (no reboot, no replacement).

    `prebake` boots on a cached base layer that already holds the cloud-config's apt
    packages: faster, but less like a fresh cloud host, so it is off by default.
    """
    if plan.balancer is not None:
        from launchpad.local import fleet  # several web machines behind the balancer (hosts > 1)

        return fleet.boot(plan, user_data, progress, deadline_s, prebake)
    stack = plan.stack
    stage = start_boot(progress)

    def baked(data: str) -> list[str]:
        return _packages(data) if prebake else []

    web = web_name(stack)
    # The database changes nothing in user-data (its credentials arrive as root-only files),
    # so the web machine boots at once and cloud-init starts.
    stage(f"boot {web}")
    web_state = machine.up(machine.MachineSpec(web, user_data, _instance_id(user_data), binds=web_mounts(stack)),
                           progress=stage, replace=machine.status(web) is not None, extra_packages=baked(user_data))
    if plan.database is not None:
        # The database admits the web machine's address, known only now.
        db = boot_database(plan, [web], web_state.address, stage, prebake)
        stage("cloud-init (database)")
        machine.wait_cloud_init(db, deadline_s)
    stage("cloud-init")
    machine.wait_cloud_init(web, deadline_s)
    # The agent makes the app's role with the master credential and hands the app its URL (roles.py).
    stage(f"bootstrap done: {url_for(web_state.address)}")
    return status_of(plan)


def start_boot(progress: Progress) -> Progress:
    """The boot's stage reporter (seconds since the boot began), once the base image is ready.
    Single host and fleet alike."""
    started = time.monotonic()

    def stage(text: str) -> None:
        progress(f"[{time.monotonic() - started:6.1f}s] {text}")

    stage("base image")
    machine.ensure_base(progress=stage)
    return stage


def web_mounts(stack: str) -> list[tuple[str, str, bool]]:
    """(host folder, machine folder, read-only) a web machine gets: the release store, the pip cache
    and the stack's certificate store (read-write: a host stores the certificate it obtained)."""
    read_only, read_write = local_release.binds(stack)
    return ([(str(h), m, True) for h, m in read_only] + [(str(h), m, False) for h, m in read_write]
            + [(str(certificate_store(stack)), CERTIFICATE_STORE_IN_MACHINE, False)])


def certificate_store(stack: str) -> Path:
    """The stack's certificate store on this host: root-only, shared by every web machine of the
    stack (files/agent/launchpad_agent/certificate.py reads and writes it)."""
    path = STACKS_DIR / stack / "certificates"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def boot_database(plan: LocalPlan, webs: list[str], client: str | list[str], stage: Progress, prebake: bool) -> str:
    """Boots the database machine admitting `client` (the web machines' addresses), opens its port
    to each of `webs` and gives them the master and app credentials as root-only files (what RDS's
    and the stack's Secrets Manager secrets hold on AWS); returns its name. Single host and fleet
    alike; cloud-init is waited for by the caller."""
    assert plan.database is not None
    stack, db = plan.stack, db_name(plan.stack)
    password = _password(stack)
    db_data = render_postgres_user_data(stack, plan.database.version, plan.database.name, DB_USER, client)
    stage(f"boot {db}")
    db_state = machine.up(machine.MachineSpec(db, db_data, _instance_id(db_data, password),
                                              {PASSWORD_FILE: (password.encode(), 0o600)}),
                          progress=stage, replace=machine.status(db) is not None,
                          extra_packages=_packages(db_data) if prebake else [])
    for web in webs:
        machine.allow(web, db, DB_PORT)
        write_credentials(web, {"username": DB_USER, "password": password},
                          {"password": _password(stack, "db-app-password", None), "host": db_state.address,
                           "port": DB_PORT, "dbname": plan.database.name})
    return db


def write_credentials(web: str, master: dict, app: dict) -> None:
    """The two root-only files the web machine's agent reads (render/database_agent.py)."""
    for path, value in ((database_agent.MASTER_FILE, master), (database_agent.APP_FILE, app)):
        machine.run(web, ["sh", "-c", f"umask 077; mkdir -p {Path(path).parent}; cat > {path}.new && mv {path}.new {path}"],
                    input=json.dumps(value))


def status(settings: Settings) -> StackStatus:
    return status_of(plan_for(settings))


def status_of(plan: LocalPlan) -> StackStatus:
    if plan.balancer is not None:
        from launchpad.local import fleet

        return fleet.status_of(plan)
    web = machine.status(web_name(plan.stack))
    db = machine.status(db_name(plan.stack))
    names = [m.name for m in (web, db) if m is not None]
    db_address = db.address if db else None
    if web is None:
        return StackStatus(plan.stack, "absent", None, None, None, db_address, names)
    return StackStatus(plan.stack, web.state, url_for(web.address), web.address, plan.domain, db_address, names)


def down(stack: str, progress: Progress = print) -> None:
    from launchpad.local import address, fleet

    moved = address.current(stack)  # a replacement host holds the stack's public address (replace.py)
    for name in dict.fromkeys([*fleet.machines(stack), web_name(stack), db_name(stack), *([moved["machine"]] if moved else [])]):
        if machine.status(name) is not None:
            progress(f"down {name}")
        machine.down(name)
    address.release(stack)
    # What the stack kept on the host beside its machines (the generated database
    # password, and whatever else lives under its folder): nothing of a downed stack stays.
    keep = STACKS_DIR / stack
    if keep.is_dir():
        shutil.rmtree(keep)


def logs(stack: str) -> str:
    from launchpad.local import fleet

    out = []
    for name in dict.fromkeys([*fleet.logs(stack), web_name(stack), db_name(stack)]):
        if machine.status(name) is not None:
            out.append(f"===== {name} =====\n{machine.logs(name)}")
    return "\n".join(out) or f"stack {stack}: no local machines"
