"""A release rolled over the ALB's hosts one by one, as a step of `pulumi up` (launchpad:hosts > 1).

Creates:
- command.local.Command `{name}-roll`: `python -m launchpad.ops.roll aws ...` where `pulumi up`
  runs, again for each new release id. For each instance registered in the target group:
  deregister it and wait for the deregistration delay, write its pin
  `<stack>/releases/desired/<instance-id>.json`, wait until the status its agent publishes
  (`<stack>/status/<role id>:<instance-id>.json`) names the release live, register it again and
  wait until the target group calls it healthy; then the stack's pointer, then the pins go.
  A host that refuses the release stops the roll there (`pulumi up` fails with the agent's
  stage and output); the hosts behind it never saw it, those before it are rolled back.

Why a command and not a dynamic provider: the roll is an action, not a resource with state to
diff, and the same entry point serves `launchpad rollback` (launchpad/cli/release_cloud.py);
a dynamic provider would pickle its code into the state and still need boto3 in the engine.
Order in the stack: after the store's objects (artifact, manifest, secret value) and the
target group, before the Auto Scaling group: on the first `pulumi up` there is no host yet,
the roll only writes the pointer, and the group's first hosts boot on it. The store writes no
pointer object of its own (AwsReleaseStoreArgs.rolled).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command

from components.readiness import python_command
from launchpad.settings import PROJECT_ROOT

HOST_TIMEOUT_S = 900
"""A host's agent has this long to report the release live (a dependency change builds a venv)."""


def roll_command(python: str, store: str, region: str, target_group_arn: str, release_id: str, profile: str | None,
                 timeout: int = HOST_TIMEOUT_S) -> str:
    args = [python, "-m", "launchpad.ops.roll", "aws", "--store", store, "--region", region,
            "--target-group", target_group_arn, "--release", release_id, "--timeout", str(timeout)]
    if profile:
        args += ["--profile", profile]
    return " ".join(shlex.quote(a) for a in args)


@dataclass
class AwsRolloutArgs:
    store: pulumi.Input[str]
    """`s3://<bucket>/<stack>`."""
    region: str
    target_group_arn: pulumi.Input[str]
    release_id: str
    after: Sequence[pulumi.Resource] = field(default_factory=list)
    """The store's objects the hosts will fetch: the roll starts once they exist."""


class AwsRollout(pulumi.ComponentResource):
    """Rolls the stack's release host by host through the target group; `pulumi up` fails if it stops."""

    roll: command.local.Command

    def __init__(self, name: str, args: AwsRolloutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:AwsRollout", name, None, opts)
        profile = pulumi.Config("aws").get("profile")
        self.roll = command.local.Command(
            f"{name}-roll",
            create=pulumi.Output.all(args.store, args.target_group_arn).apply(
                lambda v: roll_command(python_command(), v[0], args.region, v[1], args.release_id, profile)),
            dir=str(PROJECT_ROOT), triggers=[args.release_id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)))
        self.register_outputs({"release_id": args.release_id})
