"""Where a droplet's TLS certificate outlives the droplet: a private Spaces bucket of the stack's own.

Creates:
- digitalocean.SpacesBucket `<stack>-certificates` (private, versioned: a bad write can be undone),
  separate from the release store, so the key a droplet may write with never reaches releases;
- digitalocean.SpacesKey with one grant: `readwrite` on that bucket only. It is what a droplet
  stores the certificate (and its key) with and a replacement droplet takes it back with
  (files/agent/launchpad_agent/certificate.py, store kind `s3`).

`spec` is the certificate step's store (/etc/launchpad/certificate.json); the key reaches the
droplet sealed to its own key (components/digitalocean/certificate_delivery.py), never in
user-data or the state of the droplet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_digitalocean as digitalocean

def bucket_name_for(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", f"{name}-certificates".lower()).strip("-")


@dataclass
class DoCertificateStoreArgs:
    stack: str
    domain: str
    region: str


class DoCertificateStore(pulumi.ComponentResource):
    """A private bucket for the stack's certificate and a key that may write that bucket only."""

    bucket: digitalocean.SpacesBucket
    key: digitalocean.SpacesKey
    spec: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: DoCertificateStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:tls:DoCertificateStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = digitalocean.SpacesBucket(
            bucket_name_for(name), region=args.region, acl="private", force_destroy=True,
            versioning=digitalocean.SpacesBucketVersioningArgs(enabled=True), opts=child)
        self.key = digitalocean.SpacesKey(
            f"{name}-certificates-rw", name=f"{name}-certificates-rw",
            grants=[digitalocean.SpacesKeyGrantArgs(bucket=self.bucket.name, permission="readwrite")], opts=child)
        region, stack, domain = args.region, args.stack, args.domain
        self.spec = self.bucket.name.apply(lambda bucket: {
            "kind": "s3", "url": f"s3://{bucket}/{stack}/{domain}.json", "region": region,
            "endpoint": f"https://{region}.digitaloceanspaces.com"})
        self.register_outputs({})
