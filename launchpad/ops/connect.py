"""From a stack name to a Target: read the stack the way `pulumi` does, and refuse early,
naming the config key or permission to add, when access is not configured.

- local: the machine's own record (no Pulumi needed: `launchpad local up` made it);
- aws / digitalocean: `pulumi stack output --json --stack S`, the `access` output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from launchpad.ops import access as access_record
from launchpad.ops.remote import OpsError
from launchpad.ops.targets import AwsTarget, LocalMachine, LocalTarget, SshTarget
from launchpad.settings import PROJECT_ROOT, Settings

Target = AwsTarget | SshTarget | LocalTarget
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
IDENTITY_ENV = "LAUNCHPAD_SSH_IDENTITY"


def capture(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a preparatory command (pulumi, aws, ssh-keygen), capturing its output."""
    if shutil.which(argv[0]) is None:
        raise OpsError(_missing_tool(argv[0]))
    return subprocess.run(list(argv), capture_output=True, text=True, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL)


def _missing_tool(tool: str) -> str:
    need = {
        "pulumi": "the Pulumi CLI (https://www.pulumi.com/docs/install/), logged in to the stack's backend",
        "aws": "the AWS CLI v2 (2.12 or newer: `aws ec2-instance-connect open-tunnel`)",
        "ssh": "the OpenSSH client",
        "ssh-keygen": "the OpenSSH client (ssh-keygen)",
        "nsenter": "util-linux (nsenter)",
    }
    return f"{tool}: not found on PATH; install {need.get(tool, tool)}"


def stack_outputs(stack: str, run: Runner = capture) -> dict[str, Any]:
    """`pulumi stack output --json --stack S`, run in the project."""
    done = run(["pulumi", "stack", "output", "--json", "--stack", stack])
    if done.returncode != 0:
        raise OpsError(f"pulumi stack output --stack {stack} failed (exit {done.returncode}): {done.stderr.strip()}\n"
                       f"  is the backend logged in (pulumi login) and does stack {stack} exist (pulumi stack ls)?")
    try:
        data = json.loads(done.stdout or "{}")
    except ValueError as err:
        raise OpsError(f"pulumi stack output --json --stack {stack}: not JSON ({err}): {done.stdout[:200]!r}") from None
    if not isinstance(data, dict):
        raise OpsError(f"pulumi stack output --json --stack {stack}: expected an object, got {type(data).__name__}")
    return data


def check_cloud_config(settings: Settings) -> None:
    """What the stack's own config must open before a cloud host can be reached."""
    if settings.provider != "digitalocean":
        return
    stack = settings.stack
    if not settings.admin_cidrs:
        raise OpsError(
            f"launchpad:adminCidrs is empty, so SSH to stack {stack}'s droplet is closed: add your address, e.g.\n"
            f"  pulumi config set --stack {stack} --path 'launchpad:adminCidrs[0]' 203.0.113.7/32\n"
            f"then `pulumi up --stack {stack}` and retry")
    if not settings.ssh_keys:
        raise OpsError(
            f"launchpad:sshKeys is empty, so no key may log in to stack {stack}'s droplet: add your public key, e.g.\n"
            f"  pulumi config set --stack {stack} --path 'launchpad:sshKeys[0]' \"$(cat ~/.ssh/id_ed25519.pub)\"\n"
            f"then `pulumi up --stack {stack}` and retry")


def cloud_target(settings: Settings, outputs: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Target:
    env = os.environ if env is None else env
    check_cloud_config(settings)
    record = access_record.parse(settings.stack, outputs)
    if settings.provider == "aws":
        if record.transport != "eice":
            raise OpsError(f"stack {settings.stack}: access.transport is {record.transport!r}, expected 'eice' on aws")
        return AwsTarget(settings.stack, record, outputs=dict(outputs))
    if record.transport != "ssh":
        raise OpsError(f"stack {settings.stack}: access.transport is {record.transport!r}, expected 'ssh' on digitalocean")
    return SshTarget(settings.stack, record, identity=env.get(IDENTITY_ENV) or None, outputs=dict(outputs))


def local_target(settings: Settings, term: str | None = None) -> LocalTarget:
    """Every running web machine of the stack: one, or several behind the local balancer."""
    from launchpad.local import fleet, machine
    from launchpad.local import stack as local_stack

    if os.geteuid() != 0:
        raise OpsError("the local target is entered with nsenter, which needs root: run launchpad with sudo")
    if fleet.booted(settings.stack):
        found = fleet.web_machines(settings.stack)
    else:
        single = machine.status(local_stack.web_name(settings.stack))
        found = [single] if single is not None else []
    machines = tuple(LocalMachine(m.name, m.address, m.init_pid) for m in found if m.init_pid)
    if not machines:
        raise OpsError(f"stack {settings.stack} has no running local web machine: start it with "
                       f"`sudo launchpad local up --stack {settings.stack}`")
    status = local_stack.status(settings)
    return LocalTarget(machines, term=term or os.environ.get("TERM", "dumb"), url=status.url,
                       host_header=status.host_header)


def target_for(settings: Settings, run: Runner = capture) -> Target:
    if settings.provider == "local":
        return local_target(settings)
    return cloud_target(settings, stack_outputs(settings.stack, run))


def site_url(settings: Settings, target: Target) -> tuple[str | None, str | None]:
    """The URL users open and the Host header it needs. Local: the machine's address (+ the domain);
    cloud: the `url` output, read along with `access` (one `pulumi stack output` per command)."""
    if isinstance(target, LocalTarget):
        return target.url, target.host_header
    url = target.outputs.get("url") if target.outputs else None
    return (str(url) if url else None), None


def site_health(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float) -> dict[str, Any]:
    """One GET of the site as users see it: status, time, and the release the answer says is live
    (`X-Launchpad-Release`). Any answer below 500 is healthy; no answer is not. VM hosts and Heroku alike."""
    url = request.full_url
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as resp:
            code, release = resp.status, resp.headers.get("X-Launchpad-Release")
    except urllib.error.HTTPError as err:
        code, release = err.code, err.headers.get("X-Launchpad-Release")
    except (urllib.error.URLError, OSError) as err:
        return {"url": url, "healthy": False, "error": str(getattr(err, "reason", err))}
    return {"url": url, "healthy": code < 500, "status": code, "ms": round((time.monotonic() - started) * 1000),
            "release": release}


def pick_hosts(target: Target, host: str | None, default_all: bool) -> list[int]:
    """`--host N|all`: indexes into target.hosts; default one host (run) or all (logs)."""
    count = len(target.hosts)
    if host is None:
        return list(range(count)) if default_all else [0]
    if host == "all":
        return list(range(count))
    if host.isdigit() and int(host) < count:
        return [int(host)]
    names = ", ".join(f"{i} ({h.name})" for i, h in enumerate(target.hosts))
    raise OpsError(f"--host: {host!r} is not a host of this stack; valid: all, {names}")
