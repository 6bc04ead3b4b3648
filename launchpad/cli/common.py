"""What the command groups share: the `--stack` option, a stack's validated settings, the root check."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from launchpad.settings import ConfigError, Settings, load_from_file

StackOpt = Annotated[str, typer.Option("--stack", "-s", help="Stack name: reads Pulumi.<stack>.yaml.")]


def load_settings(stack: str) -> Settings:
    """Pulumi.<stack>.yaml, validated exactly as `pulumi up` validates it; exit 2 with every problem otherwise."""
    try:
        return load_from_file(stack)
    except ConfigError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(2) from None


def need_root() -> None:
    if os.geteuid() != 0:
        typer.echo("launchpad local needs root (debootstrap, systemd-nspawn, network namespaces): run it with sudo", err=True)
        raise typer.Exit(2)
