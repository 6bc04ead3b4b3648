"""`launchpad status|logs|restart|reload|run|ssh`: day-2 operations, the same on every provider.

Each command reads the stack (its Pulumi.<stack>.yaml for the provider and app, and for
a cloud stack `pulumi stack output --json` for how to reach its hosts), builds what the
host must run (launchpad/ops/remote.py) and runs it over the provider's transport
(launchpad/ops/targets.py): EC2 Instance Connect on AWS, SSH with a pinned host key on
DigitalOcean, nsenter on the local target. Output streams; the remote exit code is ours.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Annotated, Any

import typer

from launchpad.cli.common import StackOpt, load_settings
from launchpad.ops import remote
from launchpad.ops.connect import Target, pick_hosts, site_health, site_url, stack_outputs, target_for
from launchpad.ops.execute import SSH_FAILED, Done, call, call_all, exit_code
from launchpad.ops.remote import OpsError
from launchpad.settings import Settings

HostOpt = Annotated[str | None, typer.Option("--host", help="Host index or 'all' (see `launchpad status`).")]
HEALTH_TIMEOUT_S = 5.0


def _fail(err: OpsError) -> typer.Exit:
    typer.echo(f"launchpad: {err}", err=True)
    return typer.Exit(2)


def _heroku(settings: Settings, action: str, **kw: Any) -> None:
    """A Heroku stack has no host to enter: the same commands go to Heroku's Platform API
    (launchpad/ops/heroku.py); what Heroku cannot do is refused there, with why."""
    from launchpad.ops import heroku
    from launchpad.ops.heroku_api import HerokuApi

    def err(line: str) -> None:
        typer.echo(line, err=True)

    def write(text: str) -> None:
        typer.echo(text, nl=False)

    try:
        if kw.pop("host", None) is not None:
            raise typer.Exit(heroku.not_available("--host", "Heroku's router picks the dyno", err))
        outputs = stack_outputs(settings.stack)
        app = str(outputs.get("app_name") or "")
        if not app:
            raise OpsError(f"stack {settings.stack} has no 'app_name' output: run `pulumi up --stack {settings.stack}`")
        api = HerokuApi.from_env()
        if action == "status":
            code = heroku.status(api, app, outputs.get("url"), settings.stack, typer.echo, as_json=kw["as_json"])
        elif action == "logs":
            if kw["since"] is not None:
                code = heroku.not_available("logs --since", "Logplex keeps only the last 1,500 lines", err)
            else:
                code = heroku.logs(api, app, typer.echo, kw["units"], follow=kw["follow"], lines=kw["lines"])
        elif action == "restart":
            code = heroku.restart(api, app, typer.echo)
        elif action == "run":
            code = (heroku.not_available("run --tty", "interactive one-off dynos need `heroku run`", err) if kw["tty"]
                    else heroku.run(api, app, kw["command"], write, err))
        elif action == "reload":
            code = heroku.not_available("reload", "a dyno cannot be sent HUP; `launchpad restart` replaces it", err)
        else:
            code = heroku.not_available("ssh", "dynos take no SSH (Heroku Exec is a CLI plugin: `heroku ps:exec`)", err)
    except OpsError as error:
        raise _fail(error) from None
    raise typer.Exit(code)


def _connect(stack: str) -> tuple[Settings, Target]:
    settings = load_settings(stack)
    try:
        return settings, target_for(settings)
    except OpsError as err:
        raise _fail(err) from None


def _finish(target: Target, results: list[Done]) -> None:
    """Exit with the remote command's code; ssh's own failure (255) gets the transport's hint."""
    if any(r.code == SSH_FAILED for r in results):
        typer.echo(f"launchpad: {target.unreachable_hint()}", err=True)
    raise typer.Exit(exit_code(results))


def _on_hosts(stack: str, operation: remote.Remote, host: str | None, default_all: bool, together: bool = False) -> None:
    settings, target = _connect(stack)
    try:
        chosen = [target.hosts[i] for i in pick_hosts(target, host, default_all)]
        if together:
            results = call_all(target, chosen, operation)
        else:
            results = []
            for h in chosen:
                if len(chosen) > 1:
                    typer.echo(f"==> {h.name} ({h.address})", err=True)
                results.append(call(target, h, operation))
    except OpsError as err:
        raise _fail(err) from None
    _finish(target, results)


def _health(url: str, host_header: str | None, local: bool) -> dict[str, Any]:
    """One GET of the site as users see it: status, time, and the release nginx says is live."""
    handlers = [urllib.request.ProxyHandler({})] if local else []
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"Host": host_header} if host_header else {})
    return site_health(opener, request, HEALTH_TIMEOUT_S)


def status(stack: StackOpt = "dev", as_json: Annotated[bool, typer.Option("--json")] = False, host: HostOpt = None) -> None:
    """Hosts, live release, health and URL of a running stack."""
    if (given := load_settings(stack)).provider == "heroku":
        _heroku(given, "status", as_json=as_json, host=host)
    settings, target = _connect(stack)
    report: dict[str, Any] = {"stack": stack, "provider": settings.provider, "hosts": []}
    try:
        for i in pick_hosts(target, host, default_all=True):
            h = target.hosts[i]
            done = call(target, h, remote.status(), captured=True)
            entry: dict[str, Any] = {"index": i, "name": h.name, "address": h.address, "reachable": done.code != SSH_FAILED}
            try:
                entry["release"] = json.loads(done.stdout) if done.code == 0 else None
            except ValueError:
                entry["release"] = None
            if done.code != 0:
                entry["error"] = (done.stderr.strip() or f"exit {done.code}")[-500:]
            report["hosts"].append(entry)
    except OpsError as err:
        raise _fail(err) from None
    if settings.balanced and settings.provider in ("aws", "digitalocean"):
        report["published"] = _published(settings)
    url, host_header = site_url(settings, target)
    report["url"] = url
    report["health"] = _health(url, host_header, settings.provider == "local") if url else None
    ok = all(e["reachable"] and e["release"] is not None for e in report["hosts"]) and bool(report["health"] and report["health"]["healthy"])
    report["ok"] = ok
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        typer.echo(_status_text(report))
    raise typer.Exit(0 if ok else 1)


def _published(settings: Settings) -> dict[str, Any]:
    """Behind a cloud balancer: each host's status as its agent last published it for the roll
    (launchpad/ops/roll_store.py), seen without entering any host."""
    from launchpad.cli import release_cloud
    from launchpad.release.s3 import StoreError

    try:
        return {"hosts": release_cloud.published(settings)}
    except (StoreError, OpsError, ValueError) as err:
        return {"error": str(err)}


def _status_text(report: dict[str, Any]) -> str:
    lines = [f"stack {report['stack']} ({report['provider']}): {report['url'] or 'no url'}"]
    for e in report["hosts"]:
        rel = e.get("release") or {}
        live = f"release {rel['live']} live (slot {rel.get('slot') or '-'})" if rel.get("live") else "no live release"
        fail = rel.get("last_failure")
        extra = f"; last failure {fail['id']} at {fail['stage']}" if fail else ""
        where = f"  [{e['index']}] {e['name']} {e['address']}: "
        if not e["reachable"]:
            lines.append(where + f"unreachable: {e.get('error')}")
        elif "error" in e:
            lines.append(where + f"reached, but the release agent did not answer: {e['error']}")
        else:
            lines.append(where + live + extra)
    published = report.get("published")
    if published is not None:
        lines.append("  as each host's agent published it (what the roll reads):" if published.get("hosts") or "error" in published
                     else "  no host has published its status yet")
        if "error" in published:
            lines.append(f"    unavailable: {published['error']}")
        for host, st in sorted((published.get("hosts") or {}).items()):
            fail = st.get("last_failure")
            lines.append(f"    {host}: " + (f"release {st['live']} live (slot {st.get('slot') or '-'})" if st.get("live") else "no live release")
                         + (f"; last failure {fail.get('id')} at {fail.get('stage')}" if isinstance(fail, dict) else ""))
    health = report.get("health")
    if health:
        lines.append(f"  health: HTTP {health['status']} in {health['ms']} ms, X-Launchpad-Release {health.get('release') or '-'}"
                     if "status" in health else f"  health: no answer from {health['url']} ({health['error']})")
    return "\n".join(lines)


def logs(stack: StackOpt = "dev",
         follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
         since: Annotated[str | None, typer.Option(help="From how long ago: 10m, 2h, 1d, or a time.")] = None,
         unit: Annotated[list[str] | None, typer.Option("--unit", "-u", help="app, nginx, access, bootstrap, release (repeatable).")] = None,
         lines: Annotated[int, typer.Option("--lines", "-n", help="Lines to show without --since.")] = remote.DEFAULT_LINES,
         host: HostOpt = None) -> None:
    """The app (both blue/green slots), Nginx, its access log and the release agent; or cloud-init's output."""
    settings = load_settings(stack)
    if settings.provider == "heroku":
        _heroku(settings, "logs", units=unit or [], follow=follow, since=since, lines=lines, host=host)
    try:
        operation = remote.logs(settings.app.unix_name, unit or remote.DEFAULT_LOG_UNITS, follow=follow, since=since, lines=lines)
    except OpsError as err:
        raise _fail(err) from None
    _on_hosts(stack, operation, host, default_all=True, together=follow)


def restart(stack: StackOpt = "dev", host: HostOpt = None) -> None:
    """A fresh gunicorn master for the live release, blue/green through the agent: no failed request."""
    settings = load_settings(stack)
    if settings.provider == "heroku":
        _heroku(settings, "restart", host=host)
    _on_hosts(stack, remote.restart(settings.app.unix_name), host, default_all=True)


def reload(stack: StackOpt = "dev", host: HostOpt = None) -> None:
    """Graceful reload (HUP) of the live slot: new workers, old ones finish their requests."""
    settings = load_settings(stack)
    if settings.provider == "heroku":
        _heroku(settings, "reload", host=host)
    _on_hosts(stack, remote.reload(settings.app.unix_name), host, default_all=True)


def run(command: Annotated[list[str], typer.Argument(help="The command, after --: launchpad run -- flask db upgrade")],
        stack: StackOpt = "dev",
        tty: Annotated[bool, typer.Option("--tty", "-t", help="Give the command a terminal (flask shell).")] = False,
        host: HostOpt = None) -> None:
    """A one-off command in the live release's directory and environment, as the app user; its exit code is ours."""
    try:
        operation = remote.run(command, tty=tty)
    except OpsError as err:
        raise _fail(err) from None
    if (settings := load_settings(stack)).provider == "heroku":
        _heroku(settings, "run", command=command, tty=tty, host=host)
    _on_hosts(stack, operation, host, default_all=False)


def ssh(stack: StackOpt = "dev", host: HostOpt = None) -> None:
    """An interactive shell on the host as the admin user."""
    if (settings := load_settings(stack)).provider == "heroku":
        _heroku(settings, "ssh", host=host)
    _on_hosts(stack, remote.shell(), host, default_all=False)


def register(app: typer.Typer) -> None:
    """Adds the day-2 commands to the top-level `launchpad` app."""
    app.command()(status)
    app.command()(logs)
    app.command()(restart)
    app.command()(reload)
    app.command()(run)
    app.command()(ssh)
