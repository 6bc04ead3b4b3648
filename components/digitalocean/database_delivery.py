"""The app's database credentials, sealed to a droplet's own key: no SSH from the deployer.

DoDatabase.sealed_payload (the app's URL and the cluster admin's) is sealed, exactly as the
release secrets are (launchpad/release/sealed.py), to the key the droplet enrolled with
(DoReleaseDelivery.host_key, or, for a droplet behind the balancer, enrolled here the same way:
its announcement read from the stack's enrollment bucket and checked with the stack's enrollment
MAC and the droplet's id, components/digitalocean/enroll_bucket.py), and
stored private in the stack's release bucket. The host's
agent opens it, grants the app's user CREATE in its database with the admin URL, and hands
the app its URL (files/agent/launchpad_agent/database.py); a droplet with another key
cannot open it. The admin URL goes to the host because only SQL can give that right on
DigitalOcean, and the deployer has no network path to the cluster; the cluster is the
stack's own, and the agent keeps the admin URL in memory only.

This is the only way the database reaches a droplet: no SSH from the deployer, no deploy key,
no `adminCidrs` needed to deploy (it opens SSH for `launchpad ssh` and day-2 only).

Creates:
- without `host_key`: command.local.Command `{name}-enroll-database` (`python -m
  launchpad.release.enroll <enrollment store> <droplet id>`), once per droplet: the droplet's
  public key, with no connection into the droplet;
- digitalocean.SpacesBucketObject `<stack>/database/<key_id>.sealed` (private), aad
  `<stack>/database/<key_id>`; deterministic for unchanged values (the store's seal seed),
  so an unchanged database shows no diff; a rotated password or a new droplet re-seals.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean

from components.digitalocean.release_store import DoReleaseStore
from launchpad.release.sealed import key_id, seal


def sealed_database(public_b64: str, payload: Mapping[str, str], stack: str, seed: str) -> tuple[str, str]:
    """(object key, sealed document) for the droplet whose public key is `public_b64`."""
    public_raw = base64.b64decode(public_b64)
    kid = key_id(public_raw)
    aad = f"{stack}/database/{kid}"
    document = seal(public_raw, json.dumps(dict(payload), sort_keys=True).encode(), aad.encode(), seed.encode())
    return f"{aad}.sealed", document


@dataclass
class DoDatabaseDeliveryArgs:
    store: DoReleaseStore
    payload: pulumi.Input[Mapping[str, str]]
    """DoDatabase.sealed_payload."""
    host_key: pulumi.Input[str] | None = None
    """The droplet's enrolled X25519 public key, base64 (DoReleaseDelivery.host_key); None: enroll here."""
    host_id: pulumi.Input[str] | None = None
    """Without host_key: the droplet's id, whose announcement in the enrollment bucket is read
    (a new droplet enrolls again)."""


class DoDatabaseDelivery(pulumi.ComponentResource):
    """The database credentials in the release bucket, readable only by the enrolled droplet."""

    object: digitalocean.SpacesBucketObject

    def __init__(self, name: str, args: DoDatabaseDeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:databases:DoDatabaseDelivery", name, None, opts)
        host_key = args.host_key
        if host_key is None and args.host_id is None:
            raise ValueError(f"{name}: DoDatabaseDeliveryArgs.host_key and host_id are both None; "
                             "give the enrolled key, or the droplet's id")
        store, stack = args.store, args.store.args.stack
        if host_key is None:
            assert args.host_id is not None  # checked above
            host_key = store.enrollment.enroll(f"{name}-enroll-database", args.host_id, self)
        sealed = pulumi.Output.all(host_key, args.payload, store.seal_seed).apply(
            lambda v: sealed_database(v[0], v[1], stack, v[2]))
        self.object = digitalocean.SpacesBucketObject(
            f"{name}-database", bucket=store.bucket.name, region=store.args.region, acl="private",
            key=pulumi.Output.unsecret(sealed.apply(lambda kd: kd[0])),
            content=sealed.apply(lambda kd: kd[1]),  # secret, as the payload it comes from
            content_type="application/json", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
