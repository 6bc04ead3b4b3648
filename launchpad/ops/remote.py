"""The on-host side of every day-2 operation: the exact commands a host runs.

One table for every provider: AWS (over EC2 Instance Connect), DigitalOcean (over
SSH) and the local target (nsenter) all run these same argv lists on the host, as
root (the transports add `sudo -n` for the admin user). Nothing here knows how the
command travels; launchpad/ops/targets.py does.

Units, in the user's words:
- app: the app's blue/green slots `<app>@a.service` / `<app>@b.service` (and a host
  from before releases, `<app>.service`);
- nginx: `nginx.service` (its errors, reloads, config tests);
- access: Nginx's access log, one line per request (`/var/log/nginx/access.log`, a file);
- bootstrap: cloud-init's output (`/var/log/cloud-init-output.log`; in the journal,
  the cloud-init stages' units, which carry the same lines);
- release: the release agent, `launchpad-agent.service`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

AGENT = "launchpad-agent"
STATUS_FILE = "/var/lib/launchpad/release/status.json"
BOOTSTRAP_LOG = "/var/log/cloud-init-output.log"
ACCESS_LOG = "/var/log/nginx/access.log"
CLOUD_INIT_UNITS = ("cloud-init-local.service", "cloud-init.service", "cloud-config.service", "cloud-final.service")
UNITS = ("app", "nginx", "access", "bootstrap", "release")
DEFAULT_LOG_UNITS = ("app", "nginx", "access", "release")
DEFAULT_LINES = 200
_RELATIVE = re.compile(r"^(\d+)\s*(s|sec|m|min|h|d|w)$")


class OpsError(RuntimeError):
    """An operation cannot be built or run; the message says which key, value or permission to fix."""


@dataclass(frozen=True)
class Remote:
    """What to run on the host. `argv` empty means an interactive login shell as the admin user."""

    argv: tuple[str, ...]
    tty: bool = False
    """Give the command a terminal (`flask shell`, the login shell)."""
    as_root: bool = True

    @property
    def shell_line(self) -> str:
        """The argv as one POSIX shell line: what sshd hands to the remote shell."""
        return shlex.join(self.argv)


def status() -> Remote:
    """The agent's JSON status: live release, slot, history, last failure."""
    return Remote((AGENT, "status", "--json"))


def journal_units(app: str, units: Sequence[str]) -> list[str]:
    """systemd unit names (globs allowed) for the user's unit words."""
    names: list[str] = []
    for unit in units:
        if unit == "app":
            names += [f"{app}@*.service", f"{app}.service"]
        elif unit == "nginx":
            names.append("nginx.service")
        elif unit == "bootstrap":
            names += list(CLOUD_INIT_UNITS)
        elif unit == "release":
            names.append(f"{AGENT}.service")
        else:
            raise OpsError(f"--unit: {unit!r} is not a unit; valid: {', '.join(UNITS)}")
    return names


def journal_since(since: str) -> str:
    """`10m`, `2h`, `1d` become journalctl's relative `-10m`; anything else (a date,
    `today`, `yesterday`) passes through for journalctl to judge."""
    text = since.strip()
    if not text:
        raise OpsError("--since: empty; give a span like 10m, 2h, 1d, or a time like '2025-01-31 12:00'")
    match = _RELATIVE.match(text)
    if match:
        return f"-{match.group(1)}{match.group(2)}"
    return text


def _tail(path: str, lines: int, follow: bool) -> list[str]:
    return ["tail", "-n", str(lines), *(["-F"] if follow else []), path]


def logs(app: str, units: Sequence[str] = DEFAULT_LOG_UNITS, follow: bool = False, since: str | None = None,
         lines: int = DEFAULT_LINES) -> Remote:
    """The journal of the chosen units, merged by time, then the access log (a file).
    `bootstrap` alone without --since reads cloud-init's output file, which outlives a
    volatile journal. --since reads the journal only: asked with `access` alone it is refused,
    and the default set then leaves the access log out."""
    if lines < 1:
        raise OpsError(f"--lines: {lines} is not valid; give 1 or more")
    chosen = list(dict.fromkeys(units or DEFAULT_LOG_UNITS))
    for unit in chosen:
        if unit not in UNITS:
            raise OpsError(f"--unit: {unit!r} is not a unit; valid: {', '.join(UNITS)}")
    if chosen == ["bootstrap"] and since is None:
        return Remote(tuple(_tail(BOOTSTRAP_LOG, lines, follow)))
    if since is not None and "access" in chosen:
        if not units or list(units) == list(DEFAULT_LOG_UNITS):
            chosen.remove("access")
        else:
            raise OpsError("--since reads the journal; the access log is a file: use --unit access with --lines or --follow")
    parts: list[list[str]] = []
    journal = [u for u in chosen if u != "access"]
    if journal:
        argv = ["journalctl", "--no-pager", "--output", "short-iso"]
        argv += ["--since", journal_since(since)] if since is not None else ["--lines", str(lines)]
        if follow:
            argv.append("--follow")
        for name in journal_units(app, journal):
            argv += ["--unit", name]
        parts.append(argv)
    if "access" in chosen:
        parts.append(_tail(ACCESS_LOG, lines, follow))
    if len(parts) == 1:
        return Remote(tuple(parts[0]))
    # Both at once: one after the other, or, following, side by side until interrupted.
    script = (" & ".join(shlex.join(p) for p in parts) + " & wait") if follow else "; ".join(shlex.join(p) for p in parts)
    return Remote(("sh", "-c", script))


def _with_live(field: str, command: str) -> Remote:
    """A command needing the live release's `field` (slot or id), which only the host knows
    (the agent's status file): one shell line, so one round trip."""
    script = (
        f'v=$(python3 -c \'import json,sys; print(json.load(open(sys.argv[1])).get("{field}") or "")\' '
        f'{STATUS_FILE} 2>/dev/null) || v=""; '
        f'if [ -z "$v" ]; then echo "no live release on this host ({STATUS_FILE} has no {field}): '
        f'deploy one first (launchpad deploy)" >&2; exit 3; fi; '
        f'exec {command}'
    )
    return Remote(("sh", "-c", script))


def reload(app: str) -> Remote:
    """Graceful, same release and processes' venv: HUP to the live slot's gunicorn master
    (`systemctl reload`); new workers start, old ones finish their requests."""
    return _with_live("slot", f'systemctl reload "{app}@$v.service"')


def restart(app: str) -> Remote:
    """A fresh master for the live release without a failed request: the agent rolls the
    live release again into the idle blue/green slot (health-checked on its own socket,
    nginx switched, old slot drained and parked with one worker); its release command does not run again."""
    return _with_live("live", f'{AGENT} deploy "$v"')


def run(argv: Sequence[str], tty: bool = False) -> Remote:
    """A one-off command in the live release's directory and full environment, as the app user."""
    if not argv:
        raise OpsError("run: no command given; e.g. launchpad run --stack prod -- flask db upgrade")
    return Remote((AGENT, "run", "--", *argv), tty=tty)


def shell() -> Remote:
    """An interactive login shell as the admin user."""
    return Remote((), tty=True, as_root=False)
