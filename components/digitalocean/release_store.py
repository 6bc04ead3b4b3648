"""The stack's release store on DigitalOcean, and the delivery of its secrets to a droplet.

DigitalOcean has no instance identity, so nothing the droplet could be authorised with is
in user-data; instead the droplet makes its own key pair and the deployer seals to it
(launchpad/release/sealed.py, contract in /work/plan.md). Two components, since the key
exists only once the droplet runs:

DoReleaseStore (before the droplet) creates:
- digitalocean.SpacesBucket (ACL private, versioning on, old versions expire after 30 days,
  `force_destroy`: it holds only rebuildable releases; Spaces encrypts data at rest);
- digitalocean.SpacesKey with one grant: `read` on this bucket only;
- random.RandomId `enroll` (the HMAC key the droplet's key announcement is checked with; it
  goes in user-data and authorises nothing) and random.RandomPassword `seal-seed` (makes
  sealing deterministic, so unchanged secrets show no diff); both secret in Pulumi's state;
- DoEnrollBucket (components/digitalocean/enroll_bucket.py): the private bucket
  `<release bucket>-enroll` each droplet announces its key in, with a key scoped to it;
- under `<stack>/`: the artifact and the manifest (digitalocean.SpacesBucketObject, private,
  kept in the bucket when replaced, for rollback), and the release agent `agent/<sha256>.pyz`,
  public-read (open code; the droplet fetches it before it has any key, and runs it only if its
  sha256 is the one pinned in user-data; inline it would fill most of the 64 KiB user-data).

DoReleaseDelivery (after the droplet) creates:
- command.local.Command `enroll`: waits for the droplet's announcement in the enrollment bucket
  and checks its MAC and droplet id (launchpad/release/enroll.py); runs again only for a new
  droplet; no connection into the droplet, so it works behind a balancer too;
- `<stack>/hosts/<key_id>.sealed` (public-read: ciphertext only): the read-only Spaces key,
  sealed to the droplet; `<stack>/secrets/<version>.<key_id>.sealed` (private): app.secrets;
- the pointer `<stack>/releases/desired.json`, once artifact, manifest and secrets are there
  (not behind a balancer: there the roll writes it, components/digitalocean/rollout.py; the
  sealed credentials then also carry the status bucket's write key).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_random as random

from components.digitalocean.enroll_bucket import DoEnrollBucket, DoEnrollBucketArgs
from components.release import ReleaseArgs, manifest_json, pointer_json, released_at
from launchpad.release.sealed import key_id, seal
from launchpad.render import release_host

NONCURRENT_DAYS = 30


def endpoint(region: str) -> str:
    return f"https://{region}.digitaloceanspaces.com"


def bucket_name_for(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", f"{name}-releases".lower()).strip("-")


@dataclass
class DoReleaseStoreArgs(ReleaseArgs):
    region: str = "nyc3"


class DoReleaseStore(pulumi.ComponentResource):
    """A private, versioned Spaces bucket with the stack's releases and a read-only key for it."""

    bucket: digitalocean.SpacesBucket
    bucket_name: pulumi.Output[str]
    endpoint: str
    read_key: digitalocean.SpacesKey
    enroll_hex: pulumi.Output[str]
    seal_seed: pulumi.Output[str]
    enrollment: DoEnrollBucket
    objects: list[pulumi.Resource]
    agent_key: pulumi.Output[str]

    def __init__(self, name: str, args: DoReleaseStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:DoReleaseStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.args = args
        self.endpoint = endpoint(args.region)
        self.bucket = digitalocean.SpacesBucket(
            bucket_name_for(name), region=args.region, acl="private", force_destroy=True,
            versioning=digitalocean.SpacesBucketVersioningArgs(enabled=True),
            lifecycle_rules=[digitalocean.SpacesBucketLifecycleRuleArgs(
                enabled=True, abort_incomplete_multipart_upload_days=1,
                noncurrent_version_expiration=digitalocean.SpacesBucketLifecycleRuleNoncurrentVersionExpirationArgs(
                    days=NONCURRENT_DAYS))],
            opts=child)
        self.bucket_name = self.bucket.name
        self.read_key = digitalocean.SpacesKey(
            f"{name}-releases-read", name=f"{name}-releases-read",
            grants=[digitalocean.SpacesKeyGrantArgs(bucket=self.bucket.name, permission="read")], opts=child)
        enroll = random.RandomId(f"{name}-enroll", byte_length=32,
                                 opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["hex", "b64Std", "b64Url", "dec"]))
        self.enroll_hex = pulumi.Output.secret(enroll.hex)
        self.seal_seed = random.RandomPassword(f"{name}-seal-seed", length=48, special=False, opts=child).result
        self.enrollment = DoEnrollBucket(name, DoEnrollBucketArgs(
            stack=args.stack, region=args.region, release_bucket=self.bucket.name, enroll_hex=self.enroll_hex), opts=child)

        at = released_at(name, args.manifest.id, self)
        self.released_at = at
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        prefix = args.stack
        artifact = digitalocean.SpacesBucketObject(
            f"{name}-artifact", bucket=self.bucket.name, region=args.region, acl="private",
            key=f"{prefix}/artifacts/{args.artifact.sha256}.tar.gz", source=str(args.artifact.path),
            content_type="application/gzip", opts=kept)
        manifest = digitalocean.SpacesBucketObject(
            f"{name}-manifest", bucket=self.bucket.name, region=args.region, acl="private",
            key=f"{prefix}/releases/{args.manifest.id}.json", content=manifest_json(args.manifest, at),
            content_type="application/json", opts=kept)
        agent = digitalocean.SpacesBucketObject(
            f"{name}-agent", bucket=self.bucket.name, region=args.region, acl="public-read",
            key=f"{prefix}/{release_host.agent_key()}", content_base64=base64.b64encode(release_host.agent_pyz()).decode(),
            content_type="application/zip", opts=kept)
        self.agent_key = agent.key
        """Known once the agent object exists: user-data that reads it makes the droplet wait for it."""
        self.objects = [artifact, manifest]
        self.register_outputs({"bucket_name": self.bucket_name, "endpoint": self.endpoint, "agent_key": self.agent_key})


def _sealed_secrets(public_b64: str, values: Mapping[str, str], aad: str, seed: str) -> str:
    plaintext = json.dumps(dict(sorted(values.items())), sort_keys=True).encode()
    return seal(base64.b64decode(public_b64), plaintext, aad.encode(), seed.encode())


@dataclass
class DoReleaseDeliveryArgs:
    store: DoReleaseStore
    host_id: pulumi.Input[str]
    """The droplet's id: its enrollment is `<stack>/enroll/<id>.json` in the enrollment bucket."""
    after: Sequence[pulumi.Resource] = ()
    """What the first release must find on the droplet (the database URL, delivered over SSH):
    the pointer is written after these."""
    status_key: digitalocean.SpacesKey | None = None
    """Behind a balancer: the status bucket's write key (components/digitalocean/status_bucket.py),
    sealed to the droplet with the read key, so its agent can publish its status for the roll."""
    pointer: bool = True
    """False behind a balancer: the roll writes the stack's pointer (components/digitalocean/rollout.py)."""


class DoReleaseDelivery(pulumi.ComponentResource):
    """Seals the read key and the secrets to the droplet's own key, then points it at the release."""

    host_key: pulumi.Output[str]
    pointer: digitalocean.SpacesBucketObject | None
    objects: list[pulumi.Resource]
    """The sealed credentials and secrets: the droplet can take a release once they exist."""

    def __init__(self, name: str, args: DoReleaseDeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:DoReleaseDelivery", name, None, opts)
        store, rel = args.store, args.store.args
        prefix, region = rel.stack, rel.region
        self.host_key = store.enrollment.enroll(f"{name}-enroll", args.host_id, self)
        key = self.host_key.apply(lambda b64: key_id(base64.b64decode(b64)))

        status = args.status_key
        credentials = pulumi.Output.all(self.host_key, key, store.read_key.access_key, store.read_key.secret_key,
                                        store.seal_seed, status.access_key if status else "", status.secret_key if status else "").apply(
            lambda v: seal(base64.b64decode(v[0]), json.dumps({"access_key_id": v[2], "secret_access_key": v[3],
                                                               **({"status_access_key_id": v[5], "status_secret_access_key": v[6]}
                                                                  if v[5] else {})}, sort_keys=True).encode(),
                           f"{prefix}/hosts/{v[1]}".encode(), v[4].encode()))
        hosts = digitalocean.SpacesBucketObject(
            f"{name}-host-credentials", bucket=store.bucket.name, region=region, acl="public-read",
            key=key.apply(lambda k: f"{prefix}/hosts/{k}.sealed"), content=credentials,
            content_type="application/json", opts=pulumi.ResourceOptions(parent=self))

        version = rel.manifest.secrets.version or "none"
        sealed = pulumi.Output.all(self.host_key, rel.secrets, store.seal_seed).apply(
            lambda v: _sealed_secrets(v[0], v[1], f"{prefix}/secrets/{version}", v[2]))
        secrets = digitalocean.SpacesBucketObject(
            f"{name}-secrets", bucket=store.bucket.name, region=region, acl="private",
            key=key.apply(lambda k: f"{prefix}/secrets/{version}.{k}.sealed"), content=sealed,
            content_type="application/json", opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))

        self.objects = [hosts, secrets]
        self.pointer = None if not args.pointer else digitalocean.SpacesBucketObject(
            f"{name}-desired", bucket=store.bucket.name, region=region, acl="private",
            key=f"{prefix}/releases/desired.json", content=pointer_json(rel.manifest.id, store.released_at),
            content_type="application/json", cache_control="no-store",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*store.objects, hosts, secrets, *args.after]))
        self.register_outputs({"host_key": self.host_key})
