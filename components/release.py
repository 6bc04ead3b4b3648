"""What every cloud release store takes: one release (artifact + manifest + secret values).

A release is built where `pulumi up` runs (launchpad/release/publish.py), before any
resource is registered; the cloud stores (components/aws/release_store.py,
components/digitalocean/release_store.py) upload it. The manifest's `created` and the
pointer's `at` come from `ReleaseStamp`: a local command that prints the time once per
release id, so an unchanged release reads the same on every `pulumi up` and the store's
objects show no diff (a time taken in the program would change every run).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pulumi
import pulumi_command as command

from launchpad.release.artifact import Artifact
from launchpad.release.manifest import Manifest

STAMP_COMMAND = "date -u +%Y-%m-%dT%H:%M:%SZ"


@dataclass
class ReleaseArgs:
    stack: str
    """The store prefix: objects live under `<stack>/`."""
    artifact: Artifact
    manifest: Manifest
    """Its `created` is replaced by the stamp."""
    secrets: pulumi.Input[Mapping[str, str]]
    """Secret values (the stack's `app.secrets`); stored only in the cloud's secret store."""


def released_at(name: str, release_id: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The time this release id was first published, stable afterwards."""
    stamp = command.local.Command(f"{name}-released-at", create=STAMP_COMMAND, triggers=[release_id],
                                  opts=pulumi.ResourceOptions(parent=parent))
    return stamp.stdout.apply(lambda out: (out or "").strip())


def manifest_json(manifest: Manifest, created: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(created).apply(lambda at: replace(manifest, created=at).to_json())


def pointer_json(release_id: str, at: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(at).apply(lambda when: json.dumps({"id": release_id, "at": when}, sort_keys=True) + "\n")


def secrets_json(values: pulumi.Input[Mapping[str, str]]) -> pulumi.Output[str]:
    """The secret map as the agent reads it: {"NAME": "value"}, kept secret in Pulumi's state."""
    return pulumi.Output.secret(pulumi.Output.from_input(values).apply(
        lambda v: json.dumps(dict(sorted(v.items())), sort_keys=True)))
