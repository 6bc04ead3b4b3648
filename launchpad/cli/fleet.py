"""`launchpad deploy|rollback|releases` on a balanced local stack (hosts > 1): the release rolls host
by host through the balancer (launchpad/local/rolling.py); launchpad/cli/release.py hands over here
when the stack runs as a fleet of local machines."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import typer

from launchpad.settings import Settings


def booted(stack: str) -> bool:
    from launchpad.local import fleet

    return fleet.booted(stack)


def deploy_release(settings: Settings, secrets: Mapping[str, str], deadline: float, as_json: bool = False) -> dict[str, Any]:
    from launchpad.local import balancer, rolling

    started = time.monotonic()
    say = (lambda line: typer.echo(line, err=True)) if as_json else typer.echo
    try:
        prepared, rolled = rolling.deploy(settings, secrets, deadline, progress=say)
    except (rolling.ReleaseFailed, TimeoutError, balancer.BalancerError) as err:
        typer.echo(f"launchpad deploy: stack {settings.stack}: {err}", err=True)
        raise typer.Exit(1) from None
    address = balancer.address(settings.stack)
    return {"release": rolled.release, "url": f"http://{address}/", "address": address,
            "seconds": round(time.monotonic() - started, 2), "live_after_s": round(rolled.seconds, 2),
            "artifact": prepared.artifact.sha256, "artifact_bytes": prepared.artifact.bytes, "hosts": rolled.hosts}


def rollback(settings: Settings, to: str | None, deadline: float) -> None:
    from launchpad.local import balancer, rolling

    started = time.monotonic()
    try:
        rolled = rolling.rollback(settings.stack, settings.domain, to, deadline, progress=typer.echo)
    except (rolling.ReleaseFailed, TimeoutError, balancer.BalancerError) as err:
        typer.echo(f"launchpad rollback: stack {settings.stack}: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"release {rolled.release} live again on stack {settings.stack} in {time.monotonic() - started:.1f} s "
               f"({len(rolled.hosts)} hosts rolled one by one)")


def history(stack: str) -> list[dict[str, Any]]:
    from launchpad.local import rolling

    return rolling.history(stack)
