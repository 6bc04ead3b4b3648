"""Where a new droplet announces its own key to `pulumi up`: enrollment with no way into the droplet.

Creates:
- digitalocean.SpacesBucket `<release bucket>-enroll` (private, `force_destroy`: it holds only the
  droplets' public keys, each rewritten by a new droplet);
- digitalocean.SpacesKey with one grant, `readwrite` on this bucket only. It goes in user-data
  (agent.json, secrets.enrollment) and is no more secret than the enrollment value already there:
  whoever reads user-data can make a valid MAC anyway, and the metadata service answers root only
  (files/nftables.conf.j2). Spaces keys are per bucket, so it reaches no release, secret or status.

The agent writes `<stack>/enroll/<droplet id>.json` (files/agent/launchpad_agent/enroll.py); `enroll()`
adds, to a component of the caller's, the command that waits for it with the same key and checks
its MAC and droplet id (launchpad/release/enroll.py): no address of the droplet is used, so a droplet
behind the balancer (whose firewall admits the web from the balancer alone) enrolls like one alone.
Why not the status bucket: it exists only behind a balancer, and its key is sealed (it may write a
roll's inputs); this key must exist before any sealing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_digitalocean as digitalocean

from components.readiness import python_command
from launchpad.release.enroll import ENROLL_ENV, KEY_ENV, SECRET_ENV
from launchpad.render.release_host import enroll_bucket_name
from launchpad.settings import PROJECT_ROOT

TIMEOUT_S = 900


def enroll_command(module: str, store: str, droplet_id: str, endpoint: str, region: str, timeout: int = TIMEOUT_S) -> str:
    """`python -m <module> <store> <droplet id> ...`: launchpad.release.enroll (the sealing key) or
    launchpad.ops.host_key (the SSH host key), both from the droplet's enrollment document."""
    return shlex.join([python_command(), "-m", module, store, str(droplet_id), "--endpoint", endpoint,
                       "--region", region, "--timeout", str(timeout)])


@dataclass
class DoEnrollBucketArgs:
    stack: str
    region: str
    release_bucket: pulumi.Input[str]
    """The stack's release bucket's name (DoReleaseStore.bucket_name)."""
    enroll_hex: pulumi.Input[str]
    """The stack's enrollment value (DoReleaseStore.enroll_hex), a secret."""


class DoEnrollBucket(pulumi.ComponentResource):
    """A private bucket the droplets announce their keys in, and the one key that may write it."""

    bucket_name: pulumi.Output[str]
    store: pulumi.Output[str]
    """`s3://<release bucket>-enroll/<stack>/enroll`: where each droplet writes `<droplet id>.json`."""
    key: digitalocean.SpacesKey
    endpoint: str

    def __init__(self, name: str, args: DoEnrollBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:DoEnrollBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.args = args
        self.endpoint = f"https://{args.region}.digitaloceanspaces.com"
        bucket = digitalocean.SpacesBucket(
            f"{name}-enroll", name=pulumi.Output.from_input(args.release_bucket).apply(enroll_bucket_name),
            region=args.region, acl="private", force_destroy=True, opts=child)
        self.bucket_name = bucket.name
        self.store = pulumi.Output.concat("s3://", bucket.name, f"/{args.stack}/enroll")
        self.key = digitalocean.SpacesKey(
            f"{name}-enroll-write", name=f"{name}-enroll-write",
            grants=[digitalocean.SpacesKeyGrantArgs(bucket=bucket.name, permission="readwrite")], opts=child)
        self.register_outputs({"bucket_name": self.bucket_name, "store": self.store})

    def agent_spec(self) -> pulumi.Output[dict]:
        """agent.json's `secrets.enrollment` (a secret: it holds the key)."""
        return pulumi.Output.secret(pulumi.Output.all(self.store, self.key.access_key, self.key.secret_key).apply(
            lambda v: {"store": v[0], "enrollment_key_id": v[1], "enrollment_key_secret": v[2]}))

    def enroll(self, name: str, droplet_id: pulumi.Input[str], parent: pulumi.Resource,
               module: str = "launchpad.release.enroll") -> pulumi.Output[str]:
        """A command (child of `parent`) that waits for droplet `droplet_id`'s enrollment and prints
        what `module` prints of it; runs again only for a new droplet."""
        run = command.local.Command(
            name, create=pulumi.Output.all(self.store, droplet_id).apply(
                lambda v: enroll_command(module, str(v[0]), str(v[1]), self.endpoint, self.args.region)),
            dir=str(PROJECT_ROOT), triggers=[droplet_id],
            environment={ENROLL_ENV: pulumi.Output.secret(self.args.enroll_hex),
                         KEY_ENV: self.key.access_key, SECRET_ENV: self.key.secret_key},
            opts=pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["stderr"]))
        return run.stdout.apply(lambda out: (out or "").strip())
