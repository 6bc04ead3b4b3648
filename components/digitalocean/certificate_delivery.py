"""Hands a droplet the key of the stack's certificate store, sealed to the droplet's own key.

Creates:
- digitalocean.SpacesBucketObject `<stack>/hosts/<key_id>.certificates.sealed` in the release
  bucket, public-read like `<stack>/hosts/<key_id>.sealed` (ciphertext only: it opens only with
  the droplet's private key, aad `<stack>/hosts/<key_id>.certificates`): the certificate bucket's
  key (components/digitalocean/certificate_store.py: `readwrite` on that bucket, nothing else),
  and with `dns_token` (launchpad:dnsToken) the API token certbot's DigitalOcean plugin uses for DNS-01.
  The droplet's certificate step fetches it with a plain GET (files/agent/launchpad_agent/
  certificate.py); until it exists, the step fails and its timer retries every minute.

Needs the droplet's enrolled public key (components/digitalocean/release_store.py:
DoReleaseDelivery.host_key), so a replaced droplet gets its own object.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean

from components.digitalocean.certificate_store import DoCertificateStore
from components.digitalocean.release_store import DoReleaseStore
from launchpad.release.sealed import key_id, seal


def sealed_key(host_key_b64: str, access_key: str, secret_key: str, stack: str, seed: str, dns_token: str | None = None) -> str:
    public = base64.b64decode(host_key_b64)
    payload = {"access_key_id": access_key, "secret_access_key": secret_key, **({"dns_token": dns_token} if dns_token else {})}
    plaintext = json.dumps(payload, sort_keys=True).encode()
    return seal(public, plaintext, f"{stack}/hosts/{key_id(public)}.certificates".encode(), seed.encode())


@dataclass
class DoCertificateDeliveryArgs:
    store: DoReleaseStore
    """Where the sealed object goes (the release bucket's hosts/ prefix) and the sealing seed."""
    certificates: DoCertificateStore
    host_key: pulumi.Input[str]
    """The droplet's enrolled X25519 public key (base64)."""
    dns_token: pulumi.Input[str] | None = None
    """`launchpad:dnsToken` (DNS-01 through DigitalOcean DNS), sealed with the key."""


class DoCertificateDelivery(pulumi.ComponentResource):
    """The certificate store's key, sealed to one droplet."""

    def __init__(self, name: str, args: DoCertificateDeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:tls:DoCertificateDelivery", name, None, opts)
        rel = args.store.args
        stack = rel.stack
        key = args.certificates.key
        content = pulumi.Output.all(args.host_key, key.access_key, key.secret_key, args.store.seal_seed, args.dns_token).apply(
            lambda v: sealed_key(v[0], v[1], v[2], stack, v[3], v[4]))
        path = pulumi.Output.from_input(args.host_key).apply(
            lambda b64: f"{stack}/hosts/{key_id(base64.b64decode(b64))}.certificates.sealed")
        digitalocean.SpacesBucketObject(
            f"{name}-certificate-key", bucket=args.store.bucket.name, region=rel.region, acl="public-read", key=path,
            content=content, content_type="application/json", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
