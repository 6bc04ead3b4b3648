"""The stack's release store on AWS: where the host's agent pulls releases from.

Creates:
- aws.s3.Bucket (private, `force_destroy`: it holds only rebuildable releases) with
  BucketOwnershipControls (ACLs off), BucketPublicAccessBlock (all four on),
  BucketServerSideEncryptionConfiguration (SSE-S3, AES-256), BucketVersioning (on),
  BucketLifecycleConfiguration (old versions expire after 30 days, stale multipart
  uploads after 1) and a BucketPolicy refusing any request without TLS;
- under `<stack>/`: the artifact (`artifacts/<sha256>.tar.gz`, aws.s3.BucketObjectv2 from
  the built file), the manifest (`releases/<id>.json`) and, once both exist with the
  secrets, the pointer (`releases/desired.json`), which is what makes the host roll (with
  `rolled`, several hosts: no pointer object; components/aws/rollout.py rolls host by host and
  writes it last);
- `<stack>/agent/<sha256>.pyz`: the release agent, which EC2's 16 KiB user-data cannot carry;
  the host's bootstrap fetches it through its role and checks the sha256 pinned in user-data;
- aws.secretsmanager.Secret + SecretVersion holding `app.secrets` as JSON (always
  created, even empty, so adding a first secret later changes no host input);
- command.local.Command stamping the release's publication time (components/release.py).

Artifact and manifest objects are `retain_on_delete`: a new release replaces them in
Pulumi's state but leaves the old ones in the bucket, so `launchpad rollback` can
point the host back at them. `read_arns` is what the instance role may read: the
objects under this stack's prefix and the one secret, nothing else.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.release import ReleaseArgs, manifest_json, pointer_json, released_at, secrets_json
from launchpad.render import release_host

NONCURRENT_DAYS = 30


def tls_only_policy(bucket_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })


def bucket_resource_name(name: str) -> str:
    # S3 names: lowercase letters, digits, '-'; Pulumi appends a random suffix.
    return re.sub(r"[^a-z0-9-]+", "-", f"{name}-releases".lower()).strip("-")


@dataclass
class AwsReleaseStoreArgs(ReleaseArgs):
    tags: Mapping[str, str] = field(default_factory=dict)
    rolled: bool = False
    """Several hosts behind a balancer: no pointer object here; the roll writes the pointer once
    every host serves the release (components/aws/rollout.py)."""


class AwsReleaseStore(pulumi.ComponentResource):
    """A private, encrypted, versioned S3 bucket with the stack's releases, and its secrets."""

    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    prefix: str
    secret_arn: pulumi.Output[str]
    object_arn: pulumi.Output[str]
    """`arn:aws:s3:::<bucket>/<stack>/*`: the host's read scope."""
    release_id: str
    pointer: aws.s3.BucketObjectv2 | None
    objects: list[pulumi.Resource]
    """What a host needs before it is pointed at the release: artifact, manifest, secret value."""
    status_arn: pulumi.Output[str]
    """`arn:aws:s3:::<bucket>/<stack>/status/${aws:userid}.json`: the one object a host may put (its status)."""
    agent_key: pulumi.Output[str]
    """Known once the agent object exists: user-data that reads it makes the host wait for it."""

    def __init__(self, name: str, args: AwsReleaseStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:releases:AwsReleaseStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.prefix = args.stack
        self.release_id = args.manifest.id

        self.bucket = aws.s3.Bucket(bucket_resource_name(name), force_destroy=True, tags=tags, opts=child)
        bucket_id = self.bucket.id
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-releases-ownership", bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=child)
        public = aws.s3.BucketPublicAccessBlock(
            f"{name}-releases-private", bucket=bucket_id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-releases-encryption", bucket=bucket_id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))], opts=child)
        versioning = aws.s3.BucketVersioning(
            f"{name}-releases-versioning", bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"), opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-releases-lifecycle", bucket=bucket_id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="old-versions", status="Enabled", filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_DAYS),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1))],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        aws.s3.BucketPolicy(f"{name}-releases-tls-only", bucket=bucket_id, policy=self.bucket.arn.apply(tls_only_policy),
                            opts=pulumi.ResourceOptions(parent=self, depends_on=[public]))
        ready = [ownership, public, encryption, versioning]

        secret = aws.secretsmanager.Secret(
            f"{name}-app-secrets", description=f"Launchpad: app.secrets of stack {args.stack}",
            recovery_window_in_days=7, tags=tags, opts=child)
        secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-app-secrets-value", secret_id=secret.id, secret_string=secrets_json(args.secrets), opts=child)

        at = released_at(name, args.manifest.id, self)
        kept = pulumi.ResourceOptions(parent=self, depends_on=ready, retain_on_delete=True)
        artifact = aws.s3.BucketObjectv2(
            f"{name}-artifact", bucket=bucket_id, key=f"{self.prefix}/artifacts/{args.artifact.sha256}.tar.gz",
            source=pulumi.FileAsset(str(args.artifact.path)), content_type="application/gzip", tags=tags, opts=kept)
        manifest = aws.s3.BucketObjectv2(
            f"{name}-manifest", bucket=bucket_id, key=f"{self.prefix}/releases/{args.manifest.id}.json",
            content=manifest_json(args.manifest, at), content_type="application/json", tags=tags, opts=kept)
        agent = aws.s3.BucketObjectv2(
            f"{name}-agent", bucket=bucket_id, key=f"{self.prefix}/{release_host.agent_key()}",
            content_base64=base64.b64encode(release_host.agent_pyz()).decode(), content_type="application/zip",
            tags=tags, opts=kept)
        self.agent_key = agent.key
        self.objects = [artifact, manifest, secret_version]
        self.pointer = None if args.rolled else aws.s3.BucketObjectv2(
            f"{name}-desired", bucket=bucket_id, key=f"{self.prefix}/releases/desired.json",
            content=pointer_json(args.manifest.id, at), content_type="application/json", cache_control="no-store",
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=self.objects))

        self.bucket_name = self.bucket.bucket
        self.secret_arn = secret.arn
        self.object_arn = pulumi.Output.concat(self.bucket.arn, f"/{self.prefix}/*")
        self.status_arn = pulumi.Output.concat(self.bucket.arn, f"/{self.prefix}/status/${{aws:userid}}.json")
        self.register_outputs({"bucket_name": self.bucket_name, "secret_arn": self.secret_arn,
                               "object_arn": self.object_arn, "release_id": self.release_id, "agent_key": self.agent_key})
