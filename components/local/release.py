"""The app's release on the stack's local machine, for `pulumi up` with the local provider.

Creates:
- `{name}-release` (pulumi_command.local.Command): `launchpad deploy --stack S --settings -`
  with the validated settings on standard input (secret values masked) and each of
  `app.secrets` as a secret `LAUNCHPAD_SECRET_<NAME>` variable. It builds the artifact,
  publishes it into the stack's store folder, pokes the machine's agent and returns once
  Nginx serves the release id (or fails with the agent's reason). It runs again when the
  release id changes (code, dependencies, env, secrets, command...) or the machine is
  replaced; an app change therefore rolls a release in place and never touches the
  machine's command, whose trigger is the user-data alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command

from components.readiness import python_command
from launchpad import local_plan
from launchpad.release.publish import SECRET_ENV_PREFIX
from launchpad.settings import PROJECT_ROOT


def deploy_command(python: str, stack: str) -> str:
    return local_plan.cli(python, "deploy", "--stack", stack, "--settings", "-", "--json")


@dataclass
class LocalReleaseArgs:
    stack: str
    settings_json: str
    """Settings as `launchpad deploy --settings -` reads them (launchpad/release/publish.py: settings_json)."""
    release_id: str
    """The manifest id the program computed: a new one rolls the release."""
    host_id: pulumi.Input[str]
    """A replaced machine gets the release again (and readiness waits for it)."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    after: Sequence[pulumi.Resource] = ()


class LocalRelease(pulumi.ComponentResource):
    """Publishes the stack's release to its local machine and waits until it is live."""

    release_id: pulumi.Output[str]
    command: command.local.Command

    def __init__(self, name: str, args: LocalReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:LocalRelease", name, None, opts)
        environment: dict[str, pulumi.Input[str]] = {
            f"{SECRET_ENV_PREFIX}{key}": pulumi.Output.secret(value) for key, value in args.secrets.items()}
        self.command = command.local.Command(
            f"{name}-release",
            create=deploy_command(python_command(), args.stack),
            stdin=args.settings_json,
            dir=str(PROJECT_ROOT),
            environment=environment or None,
            triggers=[args.release_id, args.host_id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after), additional_secret_outputs=["stderr"]))
        self.release_id = self.command.stdout.apply(lambda out: str(json.loads(out or "{}").get("release", args.release_id)))
        self.register_outputs({"release_id": self.release_id})
