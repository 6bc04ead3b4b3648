"""The `launchpad` command: render a stack's host files, and run any stack on the local target.

    launchpad render [--stack dev] [--out DIR]
    launchpad local up|down|status|logs [--stack dev]
    launchpad config-reference
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path
from typing import Annotated

import typer

from launchpad.settings import ConfigError, Settings, load_from_file, reference_markdown

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
local_app = typer.Typer(no_args_is_help=True, help="Run a stack's exact bootstrap on a local Debian 12 machine (systemd-nspawn).")
app.add_typer(local_app, name="local")

StackOpt = Annotated[str, typer.Option("--stack", "-s", help="Stack name: reads Pulumi.<stack>.yaml.")]


def _settings(stack: str) -> Settings:
    """The stack's settings: from the Pulumi program when it drives us (already
    validated, passed as JSON), else from Pulumi.<stack>.yaml."""
    from launchpad.local.stack import SETTINGS_ENV

    try:
        given = os.environ.get(SETTINGS_ENV)
        if given:
            return Settings.model_validate({**json.loads(given), "stack": stack})
        return load_from_file(stack)
    except ConfigError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(2) from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@app.command()
def render(stack: StackOpt = "dev", out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("out")) -> None:
    """Write the files the stack's host will run, for review: user-data, nginx, systemd units, scripts.

    Each file lands at its path on the host under OUT/<stack>/host/; the packed app is
    listed with checksums (app.manifest) instead of as an opaque archive. Values only
    the cloud knows (database endpoint, secret ARN) appear as <placeholders>.
    """
    from launchpad.render.bootstrap import DatabaseLink, host_files, render_user_data

    settings = _settings(stack)
    database = None
    if settings.database.enabled and settings.provider == "aws":
        database = DatabaseLink("<rds-endpoint>", 5432, settings.database.name, "<master-user>",
                                secret_arn="<rds-master-secret-arn>", region=settings.resolved_region)
    root = out / stack
    _write(root / "user-data", render_user_data(settings, database))
    for f in host_files(settings, database):
        if f.b64:
            _write(root / "host" / (f.path.lstrip("/") + ".manifest"), _manifest(f.content))
        else:
            _write(root / "host" / f.path.lstrip("/"), f.content)
    typer.echo(f"rendered stack {stack} ({settings.provider}) into {root}")


def _manifest(b64: str) -> str:
    import base64

    lines = []
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(b64))) as tar:
        for m in sorted(tar.getmembers(), key=lambda m: m.name):
            data = tar.extractfile(m)
            digest = hashlib.sha256(data.read()).hexdigest() if data else "-"
            lines.append(f"{digest}  {m.size:>8}  {m.name}")
    return "\n".join(lines) + "\n"


@app.command("config-reference")
def config_reference() -> None:
    """Print the config reference (Markdown), generated from the settings model."""
    typer.echo(reference_markdown())


def _need_root() -> None:
    if os.geteuid() != 0:
        typer.echo("launchpad local needs root (debootstrap, systemd-nspawn, network namespaces): run it with sudo", err=True)
        raise typer.Exit(2)


@local_app.command("up")
def local_up(stack: StackOpt = "dev",
             as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON when ready.")] = False,
             deadline: Annotated[float, typer.Option(help="Seconds to wait for cloud-init and /healthz.")] = 900.0,
             prebake: Annotated[bool, typer.Option(help="Boot on a cached base that already holds the stack's apt packages (faster; less like a fresh host).")] = False) -> None:
    """Boot the stack's machine(s) and return when /healthz answers through Nginx."""
    from launchpad.local import machine, stack as local_stack

    _need_root()
    settings = _settings(stack)
    started = time.monotonic()
    try:
        st = local_stack.up(settings, progress=lambda line: typer.echo(line, err=as_json), deadline_s=deadline, prebake=prebake)
    except (machine.MachineError, TimeoutError) as err:
        typer.echo(f"launchpad local up: stack {stack} did not become ready:\n{err}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(st.to_json())
    else:
        host = f" -H 'Host: {st.host_header}'" if st.host_header else ""
        typer.echo(f"stack {stack} ready in {time.monotonic() - started:.1f} s: {st.url}\n  try: curl{host} {st.url}")


@local_app.command("down")
def local_down(stack: StackOpt = "dev") -> None:
    """Stop and delete the stack's machine(s), leaving nothing behind."""
    from launchpad.local import stack as local_stack

    _need_root()
    local_stack.down(stack, progress=typer.echo)
    typer.echo(f"stack {stack}: down")


@local_app.command("status")
def local_status(stack: StackOpt = "dev", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show the stack's URL, address and state."""
    from launchpad.local import stack as local_stack

    st = local_stack.status(_settings(stack))
    if as_json:
        typer.echo(st.to_json())
    else:
        typer.echo(f"stack {stack}: {st.state}" + (f" at {st.url} ({st.address})" if st.url else ""))


@local_app.command("logs")
def local_logs(stack: StackOpt = "dev") -> None:
    """Print cloud-init and service logs of the stack's machine(s)."""
    from launchpad.local import stack as local_stack

    _need_root()
    typer.echo(local_stack.logs(stack))


def main() -> None:
    app(prog_name="launchpad")


if __name__ == "__main__":
    main()
