"""`launchpad deploy|releases|rollback`: ship the app to a running host, list releases, go back.

    launchpad deploy --stack dev               build + publish a release, wait until it is live
    launchpad releases --stack dev [--json]    id, when, source hash, status, which is live
    launchpad rollback --stack dev [--to ID]   make an earlier release live again (kept on the host: seconds)

On the local target these work on the stack's running machine (`launchpad local up` first).
Cloud stacks publish through `pulumi up` (the release objects are Pulumi resources).
`deploy` takes the settings `pulumi up` validated on standard input (`--settings -`) when
the Pulumi program drives it; secret values come from `LAUNCHPAD_SECRET_<NAME>` variables.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer

from launchpad.cli import fleet, heroku
from launchpad.cli.common import StackOpt, load_settings, need_root
from launchpad.ops.remote import OpsError
from launchpad.release.publish import SecretsMissing, stack_secrets
from launchpad.release.s3 import StoreError
from launchpad.settings import Settings

DeadlineOpt = Annotated[float, typer.Option(help="Seconds to wait for the release to be live.")]


def _settings(stack: str, settings_file: typer.FileText | None) -> Settings:
    if settings_file is None:
        return load_settings(stack)
    try:
        return Settings.model_validate({**json.loads(settings_file.read()), "stack": stack})
    except ValueError as err:
        typer.echo(f"launchpad deploy --settings: not the settings JSON `pulumi up` writes: {err}", err=True)
        raise typer.Exit(2) from None


def _address(settings: Settings) -> str:
    from launchpad.local import machine
    from launchpad.local.release import web_name

    state = machine.status(web_name(settings.stack))
    if state is None or not state.init_pid:
        where = "" if settings.provider == "local" else f" (stack {settings.stack} runs on {settings.provider}: `pulumi up` deploys it)"
        typer.echo(f"stack {settings.stack}: no running local machine{where}; start it with "
                   f"`sudo launchpad local up --stack {settings.stack}`", err=True)
        raise typer.Exit(2)
    return state.address


def deploy_release(settings: Settings, deadline: float, as_json: bool = False) -> dict[str, Any]:
    """Publish and roll the stack's release on its local machine; exit 1 with the agent's reason if refused."""
    from launchpad.local import release as local_release

    try:
        secrets = stack_secrets(settings)
    except SecretsMissing as err:
        typer.echo(f"launchpad deploy: {err}", err=True)
        raise typer.Exit(2) from None
    if fleet.booted(settings.stack):  # hosts > 1: host by host through the balancer
        return fleet.deploy_release(settings, secrets, deadline, as_json)
    address = _address(settings)
    started = time.monotonic()
    say = (lambda line: typer.echo(line, err=True)) if as_json else typer.echo
    try:
        prepared, live = local_release.deploy(settings, secrets, address, deadline, progress=say)
    except (local_release.ReleaseFailed, TimeoutError) as err:
        typer.echo(f"launchpad deploy: stack {settings.stack}: {err}", err=True)
        raise typer.Exit(1) from None
    return {"release": live.release, "url": f"http://{address}/", "address": address,
            "seconds": round(time.monotonic() - started, 2), "live_after_s": round(live.seconds, 2),
            "artifact": prepared.artifact.sha256, "artifact_bytes": prepared.artifact.bytes}


def deploy(stack: StackOpt = "dev", deadline: DeadlineOpt = 900.0,
           as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
           settings_file: Annotated[typer.FileText | None, typer.Option("--settings", metavar="FILE", help="Settings JSON from `pulumi up` ('-': standard input) instead of Pulumi.<stack>.yaml.")] = None) -> None:
    """Build the app's release, publish it and wait until the host serves it (no host replacement)."""
    if settings_file is None:
        heroku.dispatch(stack, "deploy")  # `--settings` comes from `pulumi up` for provider local only
    need_root()
    settings = _settings(stack, settings_file)
    result = deploy_release(settings, deadline, as_json)
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
    else:
        typer.echo(f"release {result['release']} live on stack {stack} in {result['seconds']:.1f} s "
                   f"({result['live_after_s']:.1f} s after publishing): {result['url']}")


def releases(stack: StackOpt = "dev", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the stack's releases: id, when, source hash, status on the host, which one is live."""
    heroku.dispatch(stack, "releases", as_json=as_json)
    from launchpad.local import release as local_release

    settings = load_settings(stack)
    if _on_cloud(settings):
        from launchpad.cli import release_cloud

        try:
            rows = release_cloud.history(settings)
        except (StoreError, OpsError) as err:
            typer.echo(f"launchpad releases: {err}", err=True)
            raise typer.Exit(2) from None
    else:
        rows = fleet.history(stack) if fleet.booted(stack) else local_release.history(stack)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    if not rows:
        typer.echo(f"stack {stack}: no releases yet (`launchpad deploy --stack {stack}`)")
        return
    typer.echo(f"{'':2}{'ID':<13} {'CREATED':<21} {'SOURCE':<13} {'STATUS':<10} {'TOOK':>6}")
    for r in rows:
        mark = "* " if r["live"] else "  "
        took = f"{r['took_s']:.1f}s" if isinstance(r.get("took_s"), (int, float)) else ""
        typer.echo(f"{mark}{r['id']:<13} {r['created']:<21} {r['source_hash'][:12]:<13} {r['status']:<10} {took:>6}")


def rollback(stack: StackOpt = "dev",
             to: Annotated[str | None, typer.Option("--to", help="Release id (default: the previous good one).")] = None,
             deadline: DeadlineOpt = 60.0) -> None:
    """Make an earlier release live again; waits until the host serves it."""
    heroku.dispatch(stack, "rollback", to=to)
    from launchpad.local import release as local_release

    settings = load_settings(stack)
    if _on_cloud(settings):
        _rollback_cloud(settings, to, deadline)
        return
    need_root()
    if fleet.booted(stack):
        fleet.rollback(settings, to, deadline)
        return
    address = _address(settings)
    started = time.monotonic()
    try:
        live = local_release.rollback(stack, address, settings.domain, to, deadline, progress=typer.echo)
    except (local_release.ReleaseFailed, TimeoutError) as err:
        typer.echo(f"launchpad rollback: stack {stack}: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"release {live.release} live again on stack {stack} in {time.monotonic() - started:.1f} s "
               f"({live.seconds:.1f} s after the pointer moved)")


def _on_cloud(settings: Settings) -> bool:
    """A cloud stack with no local rehearsal machine: its store is the bucket `pulumi up` made."""
    from launchpad.local import machine
    from launchpad.local.release import web_name

    return (settings.provider in ("aws", "digitalocean") and machine.status(web_name(settings.stack)) is None
            and not fleet.booted(settings.stack))


def _rollback_cloud(settings: Settings, to: str | None, deadline: float) -> None:
    from launchpad.cli import release_cloud

    started = time.monotonic()
    try:
        target, switch_s = release_cloud.rollback(settings, to, deadline)
    except (StoreError, OpsError) as err:
        typer.echo(f"launchpad rollback: {err}", err=True)
        raise typer.Exit(2) from None
    except (TimeoutError, release_cloud.RollFailed) as err:
        typer.echo(f"launchpad rollback: stack {settings.stack}: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"release {target} live again on stack {settings.stack} in {time.monotonic() - started:.1f} s "
               f"({switch_s:.1f} s after the pointer moved; `pulumi up` with a new release moves it on)")
