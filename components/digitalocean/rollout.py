"""A release rolled over the DigitalOcean balancer's droplets one by one, as a step of `pulumi up`.

Creates:
- command.local.Command `{name}-roll`: `python -m launchpad.ops.roll digitalocean ...` where
  `pulumi up` runs, again for each new release id. For each droplet with the host tag: take it
  off the balancer (remove the rotation tag, wait until the balancer lets go, a grace for its
  open requests), write its pin `<stack>/releases/desired/<droplet-id>.json`, wait until the
  status its agent publishes in the status bucket names the release live, tag it again and wait
  for the balancer's health checks; then the stack's pointer, then the pins go. A droplet that
  refuses the release stops the roll there and `pulumi up` fails with the agent's stage and output.
Needs DIGITALOCEAN_TOKEN (the API) and SPACES_ACCESS_KEY_ID / SPACES_SECRET_ACCESS_KEY (the store),
as the provider does. Runs after every droplet's sealed credentials exist; on the first `pulumi up`
no droplet serves anything yet, so the roll writes the pointer and waits for each to take it.
Why a command: see components/aws/rollout.py.
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


def roll_command(python: str, store: str, region: str, status_bucket: str, balancer: str, host_tag: str, rotation_tag: str,
                 release_id: str, timeout: int = HOST_TIMEOUT_S) -> str:
    args = [python, "-m", "launchpad.ops.roll", "digitalocean", "--store", store, "--region", region,
            "--status-bucket", status_bucket, "--balancer", balancer, "--host-tag", host_tag, "--rotation-tag", rotation_tag,
            "--release", release_id, "--timeout", str(timeout)]
    return " ".join(shlex.quote(a) for a in args)


@dataclass
class DoRolloutArgs:
    store: pulumi.Input[str]
    """`s3://<bucket>/<stack>`."""
    region: str
    status_bucket: pulumi.Input[str]
    balancer_id: pulumi.Input[str]
    host_tag: pulumi.Input[str]
    rotation_tag: pulumi.Input[str]
    release_id: str
    after: Sequence[pulumi.Resource] = field(default_factory=list)


class DoRollout(pulumi.ComponentResource):
    """Rolls the stack's release droplet by droplet through the Load Balancer; `pulumi up` fails if it stops."""

    roll: command.local.Command

    def __init__(self, name: str, args: DoRolloutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:DoRollout", name, None, opts)
        self.roll = command.local.Command(
            f"{name}-roll",
            create=pulumi.Output.all(args.store, args.status_bucket, args.balancer_id, args.host_tag, args.rotation_tag).apply(
                lambda v: roll_command(python_command(), v[0], args.region, v[1], v[2], v[3], v[4], args.release_id)),
            dir=str(PROJECT_ROOT), triggers=[args.release_id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)))
        self.register_outputs({"release_id": args.release_id})
