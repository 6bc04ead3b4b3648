"""The gate between building a host and sending it traffic.

Creates:
- command.local.Command that runs `python -m launchpad.wait` (launchpad/wait.py) where
  `pulumi up` runs: it polls `http://<host's own address><health path>` (with the site's
  Host header, since nginx drops other names) until it answers 200 (any answer below 500
  for an app without `app.healthPath`) carrying `X-Launchpad-Release: <release id>`, or
  fails the update after the deadline with what it last saw and how to read the host's
  logs. It runs again whenever the host is replaced or the release changes: `pulumi up`
  returns once the new release is live and healthy, not on any 200.

With TLS on the host (`tls_name`, the domain), the check is HTTPS on the host's own address
the way browsers will reach it once the address moves: SNI and Host = the domain, the
certificate verified for that name, the release's id in the answer. `tls_mode` "required"
(a stack with `dnsZone`: the host obtains its certificate by DNS-01 before its first release,
or takes the stack's stored one); "auto" (HTTP-01 only): a host that has no certificate at all
passes on HTTP health only while the domain is not served over HTTPS today (a stack's first host:
HTTP-01 needs the address first); otherwise it must serve HTTPS correctly, so a replacement that
could not take the stored certificate never takes the address.

Stacks register the public address association with `depends_on=[readiness]`, so a
new host takes the address only after it is healthy.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_command as command

from launchpad.settings import PROJECT_ROOT

DEFAULT_TIMEOUT = 900
HEALTH_PATH = "/healthz"


def python_command() -> str:
    """This interpreter, relative to the project when it is the project's venv.

    Pulumi runs the program from the project folder; a relative path keeps the
    command identical across machines, so running `pulumi up` from a laptop and
    from CI does not count as a change. A change would re-run the check against a
    host that was not replaced, whose own address (on EC2, the ephemeral IPv4 the
    Elastic IP took over) may be gone.
    """
    exe = Path(sys.executable)
    if Path.cwd() == PROJECT_ROOT and exe.is_relative_to(PROJECT_ROOT):
        return f"./{exe.relative_to(PROJECT_ROOT)}"
    return str(exe)


def wait_command(address: str, domain: str | None, database: bool, timeout: int, logs: str,
                 release: str | None = None, health_path: str | None = HEALTH_PATH, scheme: str = "http",
                 tls_name: str | None = None, tls_mode: str = "required") -> str:
    if scheme not in ("http", "https"):
        raise ValueError(f"scheme {scheme!r}: expected http or https")
    if tls_mode not in ("required", "auto"):
        raise ValueError(f"tls_mode {tls_mode!r}: expected required or auto")
    if tls_name:
        scheme = "https"
    args = [python_command(), "-m", "launchpad.wait", f"{scheme}://{address}{health_path or '/'}", "--timeout", str(timeout)]
    if tls_name:
        args += ["--sni", tls_name, "--tls", tls_mode]
    if domain:
        args += ["--host", domain]
    if database:
        args.append("--database")
    if release:
        args += ["--release", release]
    if health_path is None:
        args.append("--lenient")
    args += ["--logs", logs]
    return " ".join(shlex.quote(a) for a in args)


@dataclass
class ReadinessArgs:
    address: pulumi.Input[str]
    """The host's own public address, never the stable public one."""
    host_id: pulumi.Input[str]
    """A replaced host re-runs the check."""
    domain: str | None = None
    """Sent as the Host header."""
    database: bool = False
    """Require the app's health answer to report `"database": "ok"`."""
    logs: pulumi.Input[str] = ""
    """How to look at the host's logs, printed on failure."""
    timeout: int = DEFAULT_TIMEOUT
    release_id: str | None = None
    """Wait for this release to be live (the X-Launchpad-Release header); a new id re-runs the check."""
    health_path: str | None = HEALTH_PATH
    """The app's health path (`app.healthPath`); None: GET / and any answer below 500 is healthy."""
    scheme: str = "http"
    """https where the address has a certificate of its own (Heroku's `*.herokuapp.com`), so an app
    that redirects plain HTTP to HTTPS is checked as its users reach it."""
    tls_name: str | None = None
    """The host terminates TLS for this name (the domain): check HTTPS on its own address with this
    SNI, the certificate verified for it, before the address moves."""
    tls_mode: str = "required"
    """required: HTTPS must answer; auto: a host with no certificate at all yet (HTTP-01) passes on HTTP."""
    after: Sequence[pulumi.Resource] = ()
    """What must be done before checking (e.g. the credentials' delivery). A component's own
    `depends_on` would not hold back its children, so the check itself waits on these."""


class Readiness(pulumi.ComponentResource):
    """Waits for the host's health check from where `pulumi up` runs; fails the update if it never passes."""

    command: command.local.Command
    url: pulumi.Output[str]

    def __init__(self, name: str, args: ReadinessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:checks:Readiness", name, None, opts)
        if args.timeout <= 0:
            raise ValueError(f"{name}: timeout is {args.timeout}; give the host some seconds (default {DEFAULT_TIMEOUT})")
        create = pulumi.Output.all(args.address, args.logs).apply(
            lambda v: wait_command(v[0], args.domain, args.database, args.timeout, v[1], args.release_id, args.health_path,
                                   args.scheme, args.tls_name, args.tls_mode))
        triggers: list[pulumi.Input[str]] = [args.host_id]
        if args.release_id:
            triggers.append(args.release_id)
        self.command = command.local.Command(
            f"{name}-healthz", create=create, triggers=triggers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)))
        scheme = "https" if args.tls_name else args.scheme
        self.url = pulumi.Output.concat(f"{scheme}://", args.address, args.health_path or "/")
        self.register_outputs({"url": self.url})
