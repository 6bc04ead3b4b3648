"""`launchpad releases|rollback|deploy` on a Heroku stack: Heroku's own releases, through its Platform API.

launchpad/cli/release.py hands a stack whose provider is heroku to `dispatch` first: it reads
the stack's `app_name` output (`pulumi stack output`), authenticates with `HEROKU_API_KEY` and
runs the operation in launchpad/ops/heroku.py. `deploy` has no Heroku form (`pulumi up` builds
and releases there) and exits 2 saying so. The day-2 commands (status, logs, run, ...) reach the
same backend from launchpad/cli/ops.py.
"""

from __future__ import annotations

from typing import Any

import typer

from launchpad.cli.common import load_settings
from launchpad.ops import heroku
from launchpad.ops.connect import Runner, capture, stack_outputs
from launchpad.ops.heroku_api import HerokuApi
from launchpad.ops.remote import OpsError
from launchpad.settings import Settings

PROVIDER = "heroku"


def _err(line: str) -> None:
    typer.echo(line, err=True)


def app_name(settings: Settings, run: Runner = capture) -> str:
    """The Heroku app's name, from the stack's `app_name` output."""
    name = stack_outputs(settings.stack, run).get("app_name")
    if not isinstance(name, str) or not name:
        raise OpsError(f"stack {settings.stack} has no `app_name` output yet: run `pulumi up --stack {settings.stack}` first")
    return name


def dispatch(stack: str, operation: str, *, api: HerokuApi | None = None, run: Runner = capture, **options: Any) -> None:
    """Runs `operation` on a Heroku stack and exits with its code; returns at once for other providers."""
    settings = load_settings(stack)
    if settings.provider != PROVIDER:
        return
    raise typer.Exit(_run(settings, operation, api, run, options))


def _run(settings: Settings, operation: str, api: HerokuApi | None, run: Runner, options: dict[str, Any]) -> int:
    if operation == "deploy":
        return heroku.not_available("deploy", f"`pulumi up --stack {settings.stack}` builds and releases the app on Heroku "
                                    "(the Build resource); there is no host to push to", _err)
    try:
        api = api or HerokuApi.from_env()
        app = app_name(settings, run)
        if operation == "releases":
            return heroku.releases(api, app, typer.echo, as_json=bool(options.get("as_json")))
        if operation == "rollback":
            return heroku.rollback(api, app, typer.echo, to=options.get("to"))
    except OpsError as err:
        _err(f"launchpad: {err}")
        return 2
    raise ValueError(f"unknown operation {operation!r}")
