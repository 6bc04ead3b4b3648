"""`launchpad local up|down|status|logs`: any stack's exact bootstrap on a local Debian 12 machine.

`up` boots what it is given: the user-data and LocalPlan that `pulumi up` rendered
(`--plan -`, on standard input; launchpad/local_plan.py), or, run by hand, the
same two rendered from Pulumi.<stack>.yaml.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from launchpad import local_plan
from launchpad.cli.common import StackOpt, load_settings, need_root
from launchpad.local import machine
from launchpad.local import stack as local_stack

app = typer.Typer(no_args_is_help=True, help="Run a stack's exact bootstrap on a local Debian 12 machine (systemd-nspawn).")


def _planned(stack: str, plan_file: typer.FileText | None) -> tuple[local_plan.LocalPlan, str]:
    """The plan and user-data to boot: handed over by `pulumi up`, else rendered from the stack file."""
    if plan_file is None:
        settings = load_settings(stack)
        return local_plan.plan_for(settings), local_plan.user_data_for(settings)
    try:
        user_data, plan = local_plan.decode(plan_file.read())
    except ValueError as err:
        typer.echo(f"launchpad local up --plan: {err}", err=True)
        raise typer.Exit(2) from None
    if plan.stack != stack:
        typer.echo(f"launchpad local up --plan: plan.stack is {plan.stack!r} but --stack is {stack!r}; they must agree", err=True)
        raise typer.Exit(2)
    return plan, user_data


@app.command("up")
def up(stack: StackOpt = "dev",
       as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON when ready.")] = False,
       deadline: Annotated[float, typer.Option(help="Seconds to wait for cloud-init, then for the release to be live.")] = 900.0,
       prebake: Annotated[bool, typer.Option(help="Boot on a cached base that already holds the stack's apt packages (faster; less like a fresh host).")] = False,
       plan_file: Annotated[typer.FileText | None, typer.Option("--plan", metavar="FILE", help="Boot the user-data and plan `pulumi up` rendered (JSON; '-' reads standard input) instead of rendering Pulumi.<stack>.yaml.")] = None) -> None:
    """Boot the stack's machine(s), then roll the app's release and return once it is live.

    On a running machine whose user-data is unchanged only the release rolls (no reboot). With
    `--plan` (`pulumi up`) it boots only: the program's release step deploys.
    """
    need_root()
    plan, user_data = _planned(stack, plan_file)
    started = time.monotonic()
    try:
        st = local_stack.boot(plan, user_data, progress=lambda line: typer.echo(line, err=as_json),
                              deadline_s=deadline, prebake=prebake)
    except (machine.MachineError, TimeoutError) as err:
        typer.echo(f"launchpad local up: stack {stack} did not become ready:\n{err}", err=True)
        raise typer.Exit(1) from None
    if plan_file is None:
        from launchpad.cli.release import deploy_release

        result = deploy_release(load_settings(stack), deadline, as_json)
        typer.echo(f"release {result['release']} live ({result['live_after_s']:.1f} s after publishing)", err=as_json)
    if as_json:
        typer.echo(st.to_json())
    else:
        host = f" -H 'Host: {st.host_header}'" if st.host_header else ""
        typer.echo(f"stack {stack} ready in {time.monotonic() - started:.1f} s: {st.url}\n  try: curl{host} {st.url}")


@app.command("down")
def down(stack: StackOpt = "dev") -> None:
    """Stop and delete the stack's machine(s), leaving nothing behind."""
    need_root()
    local_stack.down(stack, progress=typer.echo)
    typer.echo(f"stack {stack}: down")


@app.command("status")
def status(stack: StackOpt = "dev", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show the stack's URL, address and state (and each web machine's, behind a balancer)."""
    st = local_stack.status(load_settings(stack))
    if as_json:
        typer.echo(st.to_json())
    else:
        typer.echo(f"stack {stack}: {st.state}" + (f" at {st.url} ({st.address})" if st.url else ""))
        for i, host in enumerate(st.hosts):  # behind the local balancer (hosts > 1)
            typer.echo(f"  [{i}] {host['name']} {host['address']}: {host['state']}")


@app.command("logs")
def logs(stack: StackOpt = "dev") -> None:
    """Print cloud-init and service logs of the stack's machine(s)."""
    need_root()
    typer.echo(local_stack.logs(stack))
