"""stacks/local.py with launchpad:hosts > 1 under mocks: `pulumi up` hands `launchpad local up` a plan
of three web machines behind the balancer, rolls the release through `launchpad deploy` (which rolls
host by host on a fleet), waits on the balancer's address and exports `hosts` as the clouds do."""

from __future__ import annotations

from pulumi_mocks import LOCAL_IP
from launchpad import local_plan
from launchpad.settings import validate
from stacks import local as local_stack

COMMAND = "command:local:Command"


def test_three_hosts_boot_behind_the_balancer_and_export_hosts(run) -> None:
    settings = validate({"launchpad:provider": "local", "launchpad:hosts": 3, "launchpad:app": {"healthPath": "/healthz"}}, "lb")
    program = run(lambda: local_stack.build(settings), stack="lb")
    machine = next(c for c in program.of_type(COMMAND) if c.name == "web-machine")
    _, plan = local_plan.decode(machine.inputs["stdin"])
    assert plan.hosts == 3 and plan.balancer == local_plan.BalancerPlan("/healthz", "localhost", True)
    release = next(c for c in program.of_type(COMMAND) if c.name == "web-release")
    assert " deploy --stack lb --settings - --json" in release.inputs["create"]
    # public_ip is what `launchpad local up --json` answered as the stack's address: the balancer's on a fleet.
    assert program.outputs["public_ip"] == LOCAL_IP and program.outputs["url"] == f"http://{LOCAL_IP}/"
    assert program.outputs["hosts"] == []  # the mocked command lists no machines


def test_one_host_exports_no_hosts(run) -> None:
    settings = validate({"launchpad:provider": "local"}, "one")
    program = run(lambda: local_stack.build(settings), stack="one")
    assert "hosts" not in program.outputs
