"""What the AWS host may do for its certificate: use the stack's certificate secret and, with
DNS-01, write its challenge records, nothing else.

Creates:
- aws.iam.RolePolicy on the host's role (components/aws/host_role.py):
  - secretsmanager:GetSecretValue and PutSecretValue on the stack's certificate secret only
    (components/aws/certificate_store.py);
  - with `dns_zone` (DNS-01): route53:ChangeResourceRecordSets on that one hosted zone, only for
    TXT records named `_acme-challenge.<domain>` / `_acme-challenge.www.<domain>`, upserted or
    deleted (condition keys route53:ChangeResourceRecordSetsNormalizedRecordNames, ...RecordTypes,
    ...Actions): the host can never touch the apex or www records, nor another zone; plus the
    reads certbot-dns-route53 needs (ListHostedZones to find the zone, GetChange to wait).

Reads (invoke): aws.route53.getZone (with `dns_zone`).
`ready` resolves once the permission exists: the stack makes the host's user-data wait for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


def host_policy(secret_arn: str, domain: str, zone_id: str | None) -> str:
    statements: list[dict[str, Any]] = [{
        "Sid": "CertificateStore", "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], "Resource": secret_arn}]
    if zone_id:
        statements += [
            {"Sid": "AcmeChallengeRecords", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
             "Resource": f"arn:aws:route53:::hostedzone/{zone_id}",
             "Condition": {"ForAllValues:StringEquals": {
                 "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"_acme-challenge.{domain}", f"_acme-challenge.www.{domain}"],
                 "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                 "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"]}}},
            {"Sid": "AcmeChallengeReads", "Effect": "Allow", "Action": ["route53:ListHostedZones", "route53:GetChange"], "Resource": "*"},
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass
class AwsCertificateAccessArgs:
    role_name: pulumi.Input[str]
    secret_arn: pulumi.Input[str]
    domain: str
    dns_zone: str | None = None
    """The public hosted zone DNS-01 writes its TXT records in; None: HTTP-01, no Route 53 permission."""


class AwsCertificateAccess(pulumi.ComponentResource):
    """The host role's permission for its certificate (store, and DNS-01 challenges)."""

    ready: pulumi.Output[str]

    def __init__(self, name: str, args: AwsCertificateAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:tls:AwsCertificateAccess", name, None, opts)
        zone_id: pulumi.Input[str | None] = None
        if args.dns_zone:
            zone_id = aws.route53.get_zone_output(name=args.dns_zone.lower().rstrip("."), private_zone=False,
                                                  opts=pulumi.InvokeOptions(parent=self)).zone_id
        policy = aws.iam.RolePolicy(
            f"{name}-certificate", role=args.role_name,
            policy=pulumi.Output.all(args.secret_arn, zone_id).apply(lambda v: host_policy(v[0], args.domain, v[1])),
            opts=pulumi.ResourceOptions(parent=self))
        self.ready = policy.id
        self.register_outputs({"ready": self.ready})
