"""The `launchpad` command, assembled from one module per command group.

- render.py: `launchpad render`, `launchpad config-reference` (files for review)
- local.py: `launchpad local up|down|status|logs` (any stack on this Linux machine)
- ops.py: `launchpad status|logs|restart|reload|run|ssh` (day-2, every provider)
- release.py: `launchpad deploy|releases|rollback` (the app's releases on a running host)
- common.py: the `--stack` option, loading a stack's settings, the root check

Top floor: imports down only (settings, renderers, the local runtime), never
components/ or stacks/: the CLI runs without Pulumi.
"""

from __future__ import annotations

import typer

from launchpad.cli import local, ops, release, render

HELP = """The `launchpad` command: render a stack's host files, and run any stack on the local target.

    launchpad render [--stack dev] [--out DIR]
    launchpad local up|down|status|logs [--stack dev]
    launchpad deploy|releases|rollback [--stack S]        (the app's releases, in place)
    launchpad status|logs|restart|reload|ssh [--stack S]  (day-2, any provider)
    launchpad run [--stack S] [-t] -- CMD...
    launchpad config-reference
"""

app = typer.Typer(no_args_is_help=True, add_completion=False, help=HELP)
app.command()(render.render)
app.command("config-reference")(render.config_reference)
app.add_typer(local.app, name="local")
app.command()(release.deploy)
app.command()(release.releases)
app.command()(release.rollback)
ops.register(app)


def main() -> None:
    app(prog_name="launchpad")
