"""Day-2 operations on a Heroku stack, through Heroku's Platform API (launchpad/ops/heroku_api.py).

The same commands as on the VM hosts, mapped to what Heroku offers:

    status     the app, its dynos and formation, the current release (Heroku's vN and the
               Launchpad release id its build carried), and one GET of the site
    logs       a Logplex session (`--lines`, `--follow`); units: app (the app's dynos), nginx
               (Heroku's router stands where Nginx does), release (the release phase)
    run        a one-off dyno with the app's code, config vars and .profile, attached through
               Heroku's rendezvous service; its exit code is ours
    restart    every dyno restarted (SIGTERM, then a new dyno; 30 s to finish requests)
    releases   Heroku's releases, newest first, with the Launchpad release id of each build
    rollback   Heroku's rollback: a new release with an earlier release's code and config vars

Not available on Heroku, and why (each command says so and exits 2): `reload` (a dyno
cannot be sent HUP: restart replaces it), `ssh` (dynos take no SSH; Heroku Exec is a CLI
plugin), `logs --since` (Logplex keeps only the last 1,500 lines), `logs --unit bootstrap`
(there is no boot: the build log is the Build resource's output stream URL), `run --tty`
(interactive: use `heroku run`), `--host` (Heroku's router picks the dyno).
"""

from __future__ import annotations

import codecs
import json
import re
import shlex
import socket
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from launchpad.ops.connect import site_health
from launchpad.ops.heroku_api import HerokuApi, app_path, opener_for
from launchpad.ops.remote import OpsError

Out = Callable[[str], None]
RELEASE_ID = re.compile(r"^[0-9a-f]{12}$")
EXIT_MARKER = "\uffff heroku-command-exit-status: "
"""What the one-off command prints last (the Heroku CLI's own convention), carrying `$?`."""
MAX_RELEASES = 50
NOT_AVAILABLE = 2
UNIT_FILTERS: dict[str, dict[str, str]] = {
    "app": {"source": "app"},
    "nginx": {"source": "heroku", "dyno": "router"},
    "release": {"source": "app", "dyno": "release"},
}


class Conn(Protocol):
    def sendall(self, data: bytes, /) -> Any: ...
    def recv(self, n: int, /) -> bytes: ...
    def close(self) -> None: ...


def tls_connect(host: str, port: int) -> Conn:
    """Heroku's rendezvous service speaks TLS with a certificate for its own name."""
    raw = socket.create_connection((host, port), timeout=30)
    conn = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
    conn.settimeout(None)  # a one-off command may be silent for a long time
    return conn


def not_available(what: str, why: str, err: Out) -> int:
    err(f"launchpad: {what} is not available on Heroku: {why}")
    return NOT_AVAILABLE


# --- releases -------------------------------------------------------------------------------------


def _releases(api: HerokuApi, app: str, count: int = MAX_RELEASES) -> list[dict[str, Any]]:
    found = api.get(app_path(app, "releases"), range_header=f"version ..; order=desc, max={count}") or []
    return [r for r in found if isinstance(r, dict)]


def _commits(api: HerokuApi, app: str, releases: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    """slug id -> the source version its build carried (Launchpad's release id)."""
    out: dict[str, str | None] = {}
    for release in releases:
        slug = (release.get("slug") or {}).get("id")
        if slug and slug not in out:
            out[slug] = (api.get(app_path(app, "slugs", slug)) or {}).get("commit")
    return out


def _row(release: Mapping[str, Any], commits: Mapping[str, str | None]) -> dict[str, Any]:
    slug = (release.get("slug") or {}).get("id")
    return {"version": release.get("version"), "id": release.get("id"), "at": release.get("created_at"),
            "launchpad_release": commits.get(slug) if slug else None, "status": release.get("status"),
            "current": bool(release.get("current")), "description": release.get("description") or ""}


def releases(api: HerokuApi, app: str, out: Out, as_json: bool = False, count: int = 20) -> int:
    found = _releases(api, app, count)
    rows = [_row(r, _commits(api, app, found)) for r in found]
    if as_json:
        out(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    out(f"app {app}: {len(rows)} release(s), newest first")
    for r in rows:
        mark = "*" if r["current"] else " "
        out(f"{mark} v{r['version']:<5} {r['at'] or '-':<21} {r['launchpad_release'] or '-':<12} "
            f"{r['status'] or '-':<10} {r['description']}")
    return 0


def _pick(found: Sequence[Mapping[str, Any]], commits: Mapping[str, str | None], to: str | None) -> Mapping[str, Any]:
    current = next((r for r in found if r.get("current")), found[0] if found else None)
    if current is None:
        raise OpsError("the app has no release yet: nothing to roll back")
    good = [r for r in found if r.get("status") == "succeeded" and r is not current]
    slug_of = lambda r: (r.get("slug") or {}).get("id")  # noqa: E731
    if to is None:
        earlier = [r for r in good if (r.get("version") or 0) < (current.get("version") or 0) and slug_of(r) != slug_of(current)]
        if not earlier:
            raise OpsError(f"no earlier release with other code than the current v{current.get('version')}; "
                           "see `launchpad releases`")
        return earlier[0]
    text = to.strip().lower()
    if re.fullmatch(r"v?\d+", text):
        version = int(text.lstrip("v"))
        match = [r for r in found if r.get("version") == version]
        if not match:
            raise OpsError(f"--to: no release v{version} among the last {len(found)}; see `launchpad releases`")
        if match[0].get("status") != "succeeded":
            raise OpsError(f"--to: v{version} is {match[0].get('status')!r}, not a release that ran")
        return match[0]
    if RELEASE_ID.match(text):
        match = [r for r in good if commits.get(slug_of(r) or "") == text]
        if not match:
            raise OpsError(f"--to: no succeeded release built from Launchpad release {text}; see `launchpad releases`")
        return match[0]
    raise OpsError(f"--to: {to!r} is neither a Heroku version (v12) nor a Launchpad release id (12 hex)")


def rollback(api: HerokuApi, app: str, out: Out, to: str | None = None) -> int:
    found = _releases(api, app)
    commits = _commits(api, app, found)
    target = _pick(found, commits, to)
    made = api.post(app_path(app, "releases"), {"release": target["id"],
                                                "description": f"Rollback to v{target.get('version')} (launchpad)"}) or {}
    row = _row(target, commits)
    out(f"rolled back {app} to v{row['version']} (Launchpad release {row['launchpad_release'] or '-'}): "
        f"Heroku made v{made.get('version', '?')}, with that release's code and config vars; the dynos restart now")
    return 0


# --- status, restart, logs ----------------------------------------------------------------------


def _health(url: str, timeout: float = 5.0) -> dict[str, Any]:
    return site_health(opener_for(url), urllib.request.Request(url, headers={"User-Agent": "launchpad"}), timeout)


def status_report(api: HerokuApi, app: str, url: str | None, stack: str) -> dict[str, Any]:
    info = api.get(app_path(app)) or {}
    formation = api.get(app_path(app, "formation")) or []
    dynos = api.get(app_path(app, "dynos")) or []
    latest = _releases(api, app, 1)
    current = _row(latest[0], _commits(api, app, latest)) if latest else None
    site = url or info.get("web_url")
    health = _health(site) if site else None
    web = [d for d in dynos if d.get("type") == "web"]
    ok = bool(web) and all(d.get("state") == "up" for d in web) and bool(health and health["healthy"])
    return {
        "stack": stack, "provider": "heroku", "app": app, "url": site,
        "region": (info.get("region") or {}).get("name"), "heroku_stack": (info.get("stack") or {}).get("name"),
        "formation": [{"type": f.get("type"), "quantity": f.get("quantity"), "size": f.get("size")} for f in formation],
        "dynos": [{"name": d.get("name"), "state": d.get("state"), "since": d.get("updated_at"),
                   "release": (d.get("release") or {}).get("version")} for d in dynos],
        "release": current, "health": health, "ok": ok,
    }


def status(api: HerokuApi, app: str, url: str | None, stack: str, out: Out, as_json: bool = False) -> int:
    report = status_report(api, app, url, stack)
    if as_json:
        out(json.dumps(report, indent=2, sort_keys=True))
        return 0 if report["ok"] else 1
    rel = report["release"]
    out(f"stack {stack} (heroku): {report['url'] or 'no url'}  app {app}, region {report['region']}, {report['heroku_stack']}")
    out("  release: " + (f"v{rel['version']} (Launchpad {rel['launchpad_release'] or '-'}) {rel['status']}, {rel['at']}"
                         if rel else "none yet"))
    for f in report["formation"]:
        out(f"  formation: {f['type']} x{f['quantity']} {f['size']}")
    for d in report["dynos"]:
        out(f"  dyno {d['name']}: {d['state']} since {d['since']} (v{d['release']})")
    health = report["health"]
    if health:
        out(f"  health: HTTP {health['status']} in {health['ms']} ms, X-Launchpad-Release {health.get('release') or '-'}"
            if "status" in health else f"  health: no answer from {health['url']} ({health['error']})")
    return 0 if report["ok"] else 1


def restart(api: HerokuApi, app: str, out: Out) -> int:
    api.delete(app_path(app, "dynos"))
    out(f"restarting every dyno of {app}: each gets SIGTERM (30 s to finish its requests) and a fresh dyno "
        "of the same release starts; without Heroku's preboot feature requests wait while web dynos boot")
    return 0


def logs(api: HerokuApi, app: str, out: Out, units: Sequence[str] = (), follow: bool = False, lines: int = 200) -> int:
    if lines < 1:
        raise OpsError(f"--lines: {lines} is not valid; give 1 or more")
    chosen = list(dict.fromkeys(units))
    for unit in chosen:
        if unit not in UNIT_FILTERS:
            raise OpsError(f"--unit: {unit!r} has no logs on Heroku; valid: {', '.join(UNIT_FILTERS)}")
    body: dict[str, Any] = {"lines": min(lines, 1500), "tail": follow}
    if len(chosen) == 1:
        body.update(UNIT_FILTERS[chosen[0]])
    session = api.post(app_path(app, "log-sessions"), body) or {}
    url = session.get("logplex_url")
    if not url:
        raise OpsError(f"Heroku opened no log session for {app}: {session}")
    with opener_for(url).open(urllib.request.Request(url, headers={"User-Agent": "launchpad"}), timeout=None) as stream:
        for raw in stream:
            out(raw.decode("utf-8", errors="replace").rstrip("\n"))
    return 0


# --- run ------------------------------------------------------------------------------------------

GREETING = "rendezvous\r\n"
"""What Heroku's rendezvous service sends once the secret is accepted, before the dyno's output."""


def run_command(argv: Sequence[str]) -> str:
    """The one-off dyno's command: the user's, then the exit status line the client reads back."""
    if not argv:
        raise OpsError("run: no command given; e.g. launchpad run --stack prod -- flask db upgrade")
    return f'{shlex.join(argv)}; echo "{EXIT_MARKER}$?"'


def run(api: HerokuApi, app: str, argv: Sequence[str], write: Out, err: Out,
        connect: Callable[[str, int], Conn] = tls_connect) -> int:
    """Runs `argv` in a one-off dyno, writes its output (stdout and stderr, merged by Heroku) as it
    comes, and returns its exit status."""
    dyno = api.post(app_path(app, "dynos"), {"command": run_command(argv), "attach": True, "type": "run"}) or {}
    attach = urllib.parse.urlsplit(str(dyno.get("attach_url") or ""))
    if attach.scheme != "rendezvous" or not attach.hostname or not attach.port:
        raise OpsError(f"Heroku started {dyno.get('name') or 'a dyno'} without an attach URL: {dyno.get('attach_url')!r}")
    conn = connect(attach.hostname, attach.port)
    try:
        conn.sendall(attach.path.lstrip("/").encode() + b"\r\n")
        code = _stream(conn, write)
    finally:
        conn.close()
    if code is None:
        err(f"launchpad: {dyno.get('name') or 'the one-off dyno'} closed its connection without an exit status "
            f"(`heroku logs --app {app} --dyno {dyno.get('name') or 'run'}` may say why)")
        return 1
    return code


def _stream(conn: Conn, write: Out) -> int | None:
    """Copies the dyno's output to `write` up to the exit status line; that status, or None if none came."""
    pending = ""
    greeted = False
    # Incremental: a UTF-8 character (the marker's U+FFFF included) may be split across reads.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        pending += decoder.decode(chunk)
        if not greeted:
            if len(pending) < len(GREETING) and GREETING.startswith(pending):
                continue
            if pending.startswith(GREETING):
                pending = pending[len(GREETING):]
            greeted = True
        marker = pending.find(EXIT_MARKER)
        if marker >= 0:
            end = pending.find("\n", marker)
            if end < 0:
                continue  # the status line is still arriving
            if marker:
                write(pending[:marker])
            code = pending[marker + len(EXIT_MARKER):end].strip()
            return int(code) if code.isdigit() else 1
        keep = len(EXIT_MARKER)  # a marker split across chunks: hold back that much
        if len(pending) > keep:
            write(pending[:-keep])
            pending = pending[-keep:]
    pending += decoder.decode(b"", final=True)
    if pending:
        write(pending)
    return None
