"""Where a single AWS host's TLS certificate outlives the host: the stack's certificate secret.

Creates:
- aws.secretsmanager.Secret `launchpad/<stack>/certificate-*` (encrypted with the account's Secrets
  Manager KMS key), which the stack owns but never writes: its hosts put the certificate and key
  there (files/agent/launchpad_agent/certificate.py) and a replacement host takes it from there,
  so a host replacement neither waits for nor asks Let's Encrypt (5 duplicate certificates a week).
  The host role's permission on it is components/aws/certificate_access.py.

`spec` is what the host's certificate step is told (/etc/launchpad/certificate.json's store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass
class AwsCertificateStoreArgs:
    stack: str
    domain: str
    region: str
    production: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsCertificateStore(pulumi.ComponentResource):
    """The stack's certificate secret (no value: the hosts write it)."""

    secret_arn: pulumi.Output[str]
    spec: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: AwsCertificateStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:tls:AwsCertificateStore", name, None, opts)
        secret = aws.secretsmanager.Secret(
            f"{name}-certificate", name_prefix=f"launchpad/{args.stack}/certificate-",
            description=f"TLS certificate and key of {args.domain}, written by the stack's hosts (Launchpad)",
            # Production keeps a deleted secret recoverable for a week; other stacks let it go at once.
            recovery_window_in_days=7 if args.production else 0, tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self))
        self.secret_arn = secret.arn
        region = args.region
        self.spec = secret.arn.apply(lambda arn: {"kind": "aws-secretsmanager", "arn": arn, "region": region})
        self.register_outputs({"secret_arn": self.secret_arn})
