"""Transports: one Target per provider turns a Remote (launchpad/ops/remote.py) into the
argv to run from the laptop or CI runner.

- AwsTarget (EC2 Instance Connect Endpoint): `ssh` through `aws ec2-instance-connect
  open-tunnel` (IAM `OpenTunnel`, to one instance id, inside the stack's VPC) with a
  throwaway key pushed by `send-ssh-public-key` (IAM `SendSSHPublicKey`, valid 60 s).
  The host key is the one sshd's start printed on the instance's serial console at boot
  (`get-console-output`, IAM `GetConsoleOutput`; launchpad/render/access.py), pinned per
  instance id.
- SshTarget (DigitalOcean): plain `ssh` to the admin user from `adminCidrs`; the host
  key is the one the droplet recorded at boot and `pulumi up` checked under the stack's
  enrollment MAC (launchpad/ops/host_key.py), pinned from the `access` output (never
  trust-on-first-use).
- LocalTarget: `nsenter` into the machine's namespaces through its PID 1.

`argv()` is pure (paths in, argv out: what the unit tests check); `prepare()` does the
per-connection work (key files, IAM calls) through an injected runner.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launchpad.ops.access import Access, HostRef
from launchpad.ops.remote import OpsError, Remote

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
MACHINE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KNOWN_HOSTS = "known_hosts"
KEY = "id_ed25519"
_CONSOLE_KEYS = re.compile(r"-----BEGIN SSH HOST KEY KEYS-----(.*?)-----END SSH HOST KEY KEYS-----", re.S)
_ED25519 = re.compile(r"(ssh-ed25519 [A-Za-z0-9+/]+={0,2})")
_DENIED = ("AccessDenied", "UnauthorizedOperation", "not authorized", "UnauthorizedException")


def remote_line(remote: Remote) -> str:
    """What the admin user's shell runs: root commands through non-interactive sudo."""
    return ("sudo -n " if remote.as_root else "") + remote.shell_line


def ssh_argv(*, user: str, destination: str, alias: str, workdir: Path, remote: Remote,
             proxy: str | None = None, identity: str | None = None) -> list[str]:
    """OpenSSH with the host key pinned: only the key in our own known_hosts file, under
    an alias (not the address), of type ed25519, may answer; no password prompts."""
    argv = ["ssh",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={workdir / KNOWN_HOSTS}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", f"HostKeyAlias={alias}",
            "-o", "HostKeyAlgorithms=ssh-ed25519",
            "-o", "UpdateHostKeys=no",
            "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no",
            "-o", "ConnectTimeout=20",
            "-o", "ServerAliveInterval=15",
            "-o", "LogLevel=ERROR"]
    if proxy:
        argv += ["-o", f"ProxyCommand={proxy}"]
    if identity:
        argv += ["-i", identity, "-o", "IdentitiesOnly=yes"]
    argv += ["-t" if remote.tty else "-T", "-l", user, "--", destination]
    if remote.argv:
        argv.append(remote_line(remote))
    return argv


def known_hosts_line(alias: str, host_key: str) -> str:
    parts = host_key.split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise OpsError(f"host key {host_key[:40]!r}... is not an ssh-ed25519 public key line")
    return f"{alias} {parts[0]} {parts[1]}\n"


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


@dataclass(frozen=True)
class SshTarget:
    """DigitalOcean: ssh from adminCidrs, host key pinned from the stack's `access` output."""

    stack: str
    access: Access
    identity: str | None = None
    """A private key file (`LAUNCHPAD_SSH_IDENTITY`); else ssh's own (agent, ~/.ssh/id_*)."""
    outputs: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The stack's outputs this target was read from (`url`, ...)."""

    @property
    def hosts(self) -> tuple[HostRef, ...]:
        return self.access.hosts

    def alias(self, host: HostRef) -> str:
        # An alias, not the address: the reserved IP moves to replacement droplets, each with its own key.
        return f"launchpad-{self.stack}-{host.name}"

    def prepare(self, host: HostRef, workdir: Path, run: Runner) -> None:
        key = host.host_key or self.access.host_key
        assert key is not None  # access.parse refuses a record without one
        _write_private(workdir / KNOWN_HOSTS, known_hosts_line(self.alias(host), key))

    def argv(self, host: HostRef, remote: Remote, workdir: Path) -> list[str]:
        return ssh_argv(user=self.access.user, destination=host.address, alias=self.alias(host), workdir=workdir,
                        remote=remote, identity=self.identity)

    def unreachable_hint(self) -> str:
        return ("ssh could not reach or log in to the droplet: is your current address inside launchpad:adminCidrs, "
                "and is your key (ssh-agent, ~/.ssh, or LAUNCHPAD_SSH_IDENTITY) one of launchpad:sshKeys?")


@dataclass(frozen=True)
class AwsTarget:
    """AWS: EC2 Instance Connect Endpoint; IAM-authorized tunnel and 60-second keys."""

    stack: str
    access: Access
    outputs: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def hosts(self) -> tuple[HostRef, ...]:
        return self.access.hosts

    def _aws(self, *args: str) -> list[str]:
        return ["aws", *args, "--region", str(self.access.region)]

    def console_argv(self, host: HostRef) -> list[str]:
        return self._aws("ec2", "get-console-output", "--instance-id", str(host.instance_id), "--latest",
                         "--output", "text", "--query", "Output")

    def send_key_argv(self, host: HostRef, workdir: Path) -> list[str]:
        return self._aws("ec2-instance-connect", "send-ssh-public-key", "--instance-id", str(host.instance_id),
                         "--instance-os-user", self.access.user, "--ssh-public-key", f"file://{workdir / KEY}.pub")

    def keygen_argv(self, workdir: Path) -> list[str]:
        return ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"launchpad-{self.stack}", "-f", str(workdir / KEY)]

    def proxy(self) -> str:
        return f"aws ec2-instance-connect open-tunnel --instance-id %h --region {self.access.region}"

    def prepare(self, host: HostRef, workdir: Path, run: Runner) -> None:
        done = run(self.console_argv(host))
        if done.returncode != 0 and "latest" in done.stderr.lower():
            # `--latest` is Nitro-only; older (Xen) types give the buffered output instead.
            done = run([a for a in self.console_argv(host) if a != "--latest"])
        self._check(done, "ec2:GetConsoleOutput", host)
        _write_private(workdir / KNOWN_HOSTS, known_hosts_line(str(host.instance_id), console_host_key(done.stdout, host)))
        done = run(self.keygen_argv(workdir))
        if done.returncode != 0:
            raise OpsError(f"ssh-keygen failed (exit {done.returncode}): {done.stderr.strip()}")
        done = run(self.send_key_argv(host, workdir))
        self._check(done, "ec2-instance-connect:SendSSHPublicKey", host)

    def argv(self, host: HostRef, remote: Remote, workdir: Path) -> list[str]:
        return ssh_argv(user=self.access.user, destination=str(host.instance_id), alias=str(host.instance_id),
                        workdir=workdir, remote=remote, proxy=self.proxy(), identity=str(workdir / KEY))

    def _check(self, done: subprocess.CompletedProcess[str], permission: str, host: HostRef) -> None:
        if done.returncode == 0:
            return
        err = done.stderr.strip()
        if any(word in err for word in _DENIED):
            raise OpsError(f"AWS refused {permission} on {host.instance_id}: grant your identity {permission} "
                           f"(README: Operating a stack, AWS permissions). AWS said: {err}")
        raise OpsError(f"{permission} on {host.instance_id} failed (exit {done.returncode}): {err}")

    def unreachable_hint(self) -> str:
        return ("ssh through the EC2 Instance Connect Endpoint failed: your identity needs "
                "ec2-instance-connect:OpenTunnel on the stack's endpoint (README: Operating a stack, AWS permissions)")


def console_host_key(console: str, host: HostRef) -> str:
    """The ed25519 host key the instance printed between cloud-init's markers on its console."""
    blocks = _CONSOLE_KEYS.findall(console or "")
    for block in reversed(blocks):  # the newest boot's print wins
        found = _ED25519.search(block)
        if found:
            return found.group(1)
    raise OpsError(f"the console of {host.instance_id} shows no SSH host keys yet: the host prints them at the end "
                   "of every boot, when sshd starts; wait a minute after a (re)boot and retry")


@dataclass(frozen=True)
class LocalMachine:
    name: str
    address: str
    init_pid: int
    """The machine's PID 1 as the host sees it: nsenter's target."""


@dataclass(frozen=True)
class LocalTarget:
    """The local target: nsenter into each web machine as root (this process is root already)."""

    machines: tuple[LocalMachine, ...]
    admin_user: str = "ops"
    term: str = "dumb"
    url: str | None = None
    """Where the site answers: the web machine, or the balancer machine in front of several."""
    host_header: str | None = None

    @property
    def hosts(self) -> tuple[HostRef, ...]:
        return tuple(HostRef(m.name, m.address) for m in self.machines)

    def prepare(self, host: HostRef, workdir: Path, run: Runner) -> None:
        return None

    def argv(self, host: HostRef, remote: Remote, workdir: Path) -> list[str]:
        pid = next(m.init_pid for m in self.machines if m.name == host.name)
        inner = list(remote.argv) if remote.argv else ["su", "--login", self.admin_user]
        term = self.term if remote.tty else "dumb"
        return ["nsenter", "--target", str(pid), "--all", "--root", "--wd",
                "env", "-i", f"PATH={MACHINE_PATH}", "HOME=/root", "LANG=C.UTF-8", f"TERM={term}", *inner]

    def unreachable_hint(self) -> str:
        return "a local machine did not run the command: is the stack up? (launchpad local status)"
