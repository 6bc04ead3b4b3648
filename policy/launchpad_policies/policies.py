"""The pack's policies, each with its name, description and check; every one is mandatory."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from launchpad_policies.do_database import validate_database_firewall
from launchpad_policies.ec2 import validate_ebs_encrypted, validate_imdsv2
from launchpad_policies.heroku import validate_no_secrets_in_heroku_config_vars
from launchpad_policies.ingress import validate_ssh_not_open_to_world, validate_world_open_only_web
from launchpad_policies.launch_template import validate_launch_template_encrypted, validate_launch_template_imdsv2
from launchpad_policies.rds import (
    validate_rds_backup_retention,
    validate_rds_not_public,
    validate_rds_production,
    validate_rds_storage_encrypted,
)
from launchpad_policies.stack import (
    validate_database_cluster_firewalled,
    validate_droplet_behind_firewall,
    validate_droplet_ssh_keys,
)
from launchpad_policies.user_data import validate_no_secrets_in_user_data
from launchpad_policies.values import MIN_BACKUP_RETENTION_DAYS, PRODUCTION_CONFIG, PRODUCTION_TAG


_MANDATORY = EnforcementLevel.MANDATORY

PRODUCTION_SCHEMA = PolicyConfigSchema(
    properties={PRODUCTION_CONFIG: {"type": "boolean", "default": False}},
)

def _resource_policy(name: str, description: str, validate: Any, **kwargs: Any) -> ResourceValidationPolicy:
    """Every Launchpad rule is mandatory: a broken one blocks the deployment."""
    return ResourceValidationPolicy(name=name, description=description, validate=validate, enforcement_level=_MANDATORY, **kwargs)


def _stack_policy(name: str, description: str, validate: Any) -> StackValidationPolicy:
    return StackValidationPolicy(name=name, description=description, validate=validate, enforcement_level=_MANDATORY)


POLICIES: list[Policy] = [
    _resource_policy(
        name="ec2-imdsv2-required",
        description="EC2 instances require IMDSv2 (metadataOptions.httpTokens = 'required'). CKV_AWS_79.",
        validate=validate_imdsv2),
    _resource_policy(
        name="ebs-encrypted",
        description="EC2 root and EBS block devices, and EBS volumes, are encrypted. CKV_AWS_8.",
        validate=validate_ebs_encrypted),
    _resource_policy(
        name="launch-template-imdsv2-required",
        description="EC2 launch templates require IMDSv2 (metadataOptions.httpTokens = 'required'). CKV_AWS_79.",
        validate=validate_launch_template_imdsv2),
    _resource_policy(
        name="launch-template-encrypted-root",
        description="EC2 launch templates map an encrypted root volume, and every EBS volume they map is encrypted. CKV_AWS_8.",
        validate=validate_launch_template_encrypted),
    _resource_policy(
        name="ssh-not-open-to-world",
        description="No security group or DigitalOcean firewall admits SSH (22) from 0.0.0.0/0 or ::/0. CKV_AWS_24.",
        validate=validate_ssh_not_open_to_world),
    _resource_policy(
        name="world-open-only-web",
        description="From 0.0.0.0/0 or ::/0 only ports 80 and 443 are admitted.",
        validate=validate_world_open_only_web),
    _resource_policy(
        name="rds-not-public",
        description="RDS instances are not publicly accessible. CKV_AWS_17.",
        validate=validate_rds_not_public),
    _resource_policy(
        name="rds-storage-encrypted",
        description="RDS storage is encrypted. CKV_AWS_16.",
        validate=validate_rds_storage_encrypted),
    _resource_policy(
        name="rds-backup-retention",
        description=f"RDS keeps automated backups for at least {MIN_BACKUP_RETENTION_DAYS} days. CKV_AWS_133.",
        validate=validate_rds_backup_retention),
    _resource_policy(
        name="rds-production-protection",
        description=("Production RDS instances (policy config production=true, or tag "
                     f"{PRODUCTION_TAG}=true) have deletion protection and keep a final snapshot. CKV_AWS_293."),
        validate=validate_rds_production, config_schema=PRODUCTION_SCHEMA),
    _resource_policy(
        name="no-secrets-in-user-data",
        description="EC2, launch template and droplet user-data contain no credentials. CKV_AWS_46.",
        validate=validate_no_secrets_in_user_data),
    _resource_policy(
        name="no-secrets-in-heroku-config-vars",
        description="Plain Heroku config vars hold no credentials (by name or value); secrets are sensitive config vars.",
        validate=validate_no_secrets_in_heroku_config_vars),
    _resource_policy(
        name="database-firewall-restricted",
        description="DigitalOcean database firewall rules admit droplets, tags or single IP addresses only.",
        validate=validate_database_firewall),
    _stack_policy(
        name="droplet-behind-firewall",
        description="Every droplet is covered by a DigitalOcean firewall (dropletIds or tag). CKV_DIO_4.",
        validate=validate_droplet_behind_firewall),
    _stack_policy(
        name="droplet-ssh-keys",
        description="A droplet reachable on SSH (22) has sshKeys. CKV_DIO_2.",
        validate=validate_droplet_ssh_keys),
    _stack_policy(
        name="database-cluster-firewalled",
        description="Every DigitalOcean database cluster has a DatabaseFirewall.",
        validate=validate_database_cluster_firewalled),
]
