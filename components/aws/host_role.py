"""The AWS identity of the app host: what lets it read its releases and secrets.

Creates:
- aws.iam.Role that only EC2 can assume;
- aws.iam.RolePolicy allowing exactly `secretsmanager:GetSecretValue` on the given
  secret ARNs (the app's secrets, the RDS-managed master secret) and `s3:GetObject` on
  the given object ARNs (the stack's prefix in its release bucket), and behind a balancer
  `s3:PutObject` on its own status object (`<stack>/status/${aws:userid}.json`), nothing else;
- aws.iam.InstanceProfile wrapping the role, for the instance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

ASSUME_ROLE_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def read_secrets_policy(arns: Sequence[str], object_arns: Sequence[str] = (), status_arns: Sequence[str] = ()) -> str:
    statements = [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": list(arns)}]
    if object_arns:
        statements.append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": list(object_arns)})
    if status_arns:
        # `${aws:userid}` is `<role id>:<instance id>` for an instance role: each host may put its own status only.
        statements.append({"Effect": "Allow", "Action": "s3:PutObject", "Resource": list(status_arns)})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass
class AwsHostRoleArgs:
    secret_arns: Sequence[pulumi.Input[str]]
    """Secrets Manager secrets the host may read, and nothing more."""
    object_arns: Sequence[pulumi.Input[str]] = ()
    """S3 objects the host may read (`arn:aws:s3:::<bucket>/<stack>/*`: its releases)."""
    status_arns: Sequence[pulumi.Input[str]] = ()
    """S3 objects the host may put: its published status (`.../status/${aws:userid}.json`) behind a balancer."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsHostRole(pulumi.ComponentResource):
    """An instance profile whose only permission is reading the given secrets."""

    instance_profile_name: pulumi.Output[str]
    role: aws.iam.Role

    def __init__(self, name: str, args: AwsHostRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:AwsHostRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not args.secret_arns:
            raise ValueError(f"{name}: AwsHostRoleArgs.secret_arns is empty; the role exists only to read secrets")
        self.role = aws.iam.Role(f"{name}-role", assume_role_policy=ASSUME_ROLE_POLICY,
                                 description="Launchpad host: reads its releases and secrets", tags=dict(args.tags), opts=child)
        count, objects = len(args.secret_arns), len(args.object_arns)
        policy = aws.iam.RolePolicy(f"{name}-read-secrets", role=self.role.id,
                                    policy=pulumi.Output.all(*args.secret_arns, *args.object_arns, *args.status_arns).apply(
                                        lambda v: read_secrets_policy(v[:count], v[count:count + objects], v[count + objects:])),
                                    opts=child)
        # The profile waits for the permission, so an instance never boots with a role that can't read yet.
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=self.role.name, tags=dict(args.tags),
                                          opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        self.instance_profile_name = profile.name
        self.register_outputs({"instance_profile_name": self.instance_profile_name})
