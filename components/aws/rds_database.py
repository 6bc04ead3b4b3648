"""The app's PostgreSQL on AWS: RDS in private subnets, reachable only from the host.

Creates:
- aws.rds.SubnetGroup over the private subnets (two availability zones);
- aws.ec2.SecurityGroup `db` admitting 5432 only from the host's security group;
- aws.rds.Instance (PostgreSQL): not publicly accessible, storage encrypted, backups
  kept, master password generated and rotated by RDS in Secrets Manager
  (`manage_master_user_password`), so Pulumi state and user-data never hold it.
  Production: Pulumi `protect`, deletion protection, and a final snapshot on delete.
- random.RandomPassword + aws.secretsmanager.Secret/SecretVersion `{name}-app-credential`:
  the app role's password ({"password": ...}), generated here, kept in Secrets Manager (and,
  encrypted, in Pulumi state). The host's agent reads it and the master secret through the
  instance role, makes the app's own role with the master (owner of the database, not master,
  not a superuser) and gives the app a URL with that role (files/agent/launchpad_agent/roles.py).
  A new value (`pulumi up` after replacing the password resource) rotates without a new host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import json

import pulumi
import pulumi_aws as aws
import pulumi_random as random

POSTGRES_PORT = 5432


@dataclass
class RdsDatabaseArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets in at least two availability zones."""
    client_security_group_id: pulumi.Input[str]
    """The only security group admitted on 5432: the host's."""
    version: str
    """PostgreSQL major version; RDS picks its current minor and upgrades it in maintenance windows."""
    instance_class: str
    storage_gb: int
    backup_retention_days: int
    name: str
    """Database name and master user name."""
    production: bool = False
    final_snapshot_identifier: str | None = None
    """Required in production: the snapshot RDS takes when the instance is deleted."""
    tags: Mapping[str, str] = field(default_factory=dict)


class RdsDatabase(pulumi.ComponentResource):
    """RDS PostgreSQL: private, encrypted, backed up, password kept by RDS in Secrets Manager."""

    address: pulumi.Output[str]
    port: pulumi.Output[int]
    secret_arn: pulumi.Output[str]
    """The RDS-managed master secret (JSON with `username` and `password`)."""
    app_secret_arn: pulumi.Output[str]
    """The app role's password ({"password": ...}), read by the host's agent."""
    instance: aws.rds.Instance

    def __init__(self, name: str, args: RdsDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:databases:RdsDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if len(args.subnet_ids) < 2:
            raise ValueError(f"{name}: subnet_ids has {len(args.subnet_ids)} subnet(s); RDS needs two, in two availability zones")
        if not 1 <= args.backup_retention_days <= 35:
            raise ValueError(f"{name}: backup_retention_days is {args.backup_retention_days}; RDS keeps 1 to 35 days")
        if args.production and not args.final_snapshot_identifier:
            raise ValueError(f"{name}: production database needs final_snapshot_identifier")
        tags = dict(args.tags)

        subnets = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=list(args.subnet_ids),
                                      description="Launchpad database: private subnets", tags=tags, opts=child)
        firewall = aws.ec2.SecurityGroup(
            f"{name}-db", vpc_id=args.vpc_id, description="Launchpad database: PostgreSQL from the host only",
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=POSTGRES_PORT, to_port=POSTGRES_PORT,
                security_groups=[args.client_security_group_id], description="PostgreSQL from the host")],
            tags={**tags, "Name": f"{name}-db"}, opts=child)

        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            engine="postgres",
            engine_version=args.version,
            instance_class=args.instance_class,
            allocated_storage=args.storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=args.name,
            username=args.name,
            manage_master_user_password=True,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[firewall.id],
            publicly_accessible=False,
            backup_retention_period=args.backup_retention_days,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            deletion_protection=args.production,
            skip_final_snapshot=not args.production,
            final_snapshot_identifier=args.final_snapshot_identifier if args.production else None,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.production))

        self.address = self.instance.address
        self.port = self.instance.port
        self.secret_arn = self.instance.master_user_secrets.apply(_secret_arn)

        # Letters and digits: nothing to quote in a URL, and no SASLprep question for SCRAM.
        password = random.RandomPassword(f"{name}-app-password", length=32, special=False, opts=child)
        app_secret = aws.secretsmanager.Secret(
            f"{name}-app-credential", description="Launchpad: the app's database role password (the agent reads it)",
            tags=tags, opts=child)
        aws.secretsmanager.SecretVersion(
            f"{name}-app-credential", secret_id=app_secret.id,
            # RandomPassword.result is a secret, and so is what is computed from it.
            secret_string=password.result.apply(lambda pw: json.dumps({"password": pw})), opts=child)
        self.app_secret_arn = app_secret.arn
        self.register_outputs({"address": self.address, "port": self.port, "secret_arn": self.secret_arn,
                               "app_secret_arn": self.app_secret_arn})


def _secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret] | None) -> str:
    arn = secrets[0].secret_arn if secrets else None
    if not arn:
        raise ValueError("RDS returned no master user secret; manage_master_user_password must be on")
    return arn
