"""Where the droplets behind a DigitalOcean balancer publish their status for a rolling release.

Creates:
- digitalocean.SpacesBucket `<release bucket>-status` (private, `force_destroy`: it holds only
  the droplets' last status.json each, rewritten after every release);
- digitalocean.SpacesKey with one grant, `readwrite` on this bucket only. It is sealed to each
  droplet with the store's read-only key (DoReleaseDeliveryArgs.status_key); Spaces keys are
  per bucket, so a droplet that can write its status cannot write a release, a pin or the
  pointer. Every droplet of the stack holds the same key: one could overwrite another's status,
  which can only stall or mislead a roll about that droplet; the balancer's health check on
  rejoin is checked as well (launchpad/ops/roll_do.py).
The agent names its object by its droplet id: `<stack>/status/<droplet id>.json` (report.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean

from launchpad.render.release_host import status_bucket_name


@dataclass
class DoStatusBucketArgs:
    region: str
    release_bucket: pulumi.Input[str]
    """The stack's release bucket's name (DoReleaseStore.bucket_name)."""


class DoStatusBucket(pulumi.ComponentResource):
    """A private bucket the droplets write their status to, and the one key that may."""

    bucket_name: pulumi.Output[str]
    write_key: digitalocean.SpacesKey

    def __init__(self, name: str, args: DoStatusBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:DoStatusBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = digitalocean.SpacesBucket(
            f"{name}-status", name=pulumi.Output.from_input(args.release_bucket).apply(status_bucket_name),
            region=args.region, acl="private", force_destroy=True, opts=child)
        self.bucket_name = bucket.name
        self.write_key = digitalocean.SpacesKey(
            f"{name}-status-write", name=f"{name}-status-write",
            grants=[digitalocean.SpacesKeyGrantArgs(bucket=bucket.name, permission="readwrite")], opts=child)
        self.register_outputs({"bucket_name": self.bucket_name})
