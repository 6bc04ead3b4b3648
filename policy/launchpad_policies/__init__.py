"""Launchpad's CrossGuard policies, importable and testable without the Pulumi engine.

One module per concern (values, ingress, ec2, rds, user_data, do_database, stack), the
list of policies in policies.py, and check_resources (offline.py) to run them without
the engine. Import from here: `from launchpad_policies import POLICIES, check_resources`.

Resource policies (run on each resource's inputs before it is created or changed):
  ec2-imdsv2-required           EC2 instances only answer IMDSv2 (CKV_AWS_79)
  ebs-encrypted                 EC2 root/EBS block devices and EBS volumes are encrypted (CKV_AWS_8)
  ssh-not-open-to-world         no SG rule / DO firewall rule admits port 22 from 0.0.0.0/0 or ::/0 (CKV_AWS_24)
  world-open-only-web           from 0.0.0.0/0 or ::/0 only tcp/udp 80 and 443 (and ICMP) are admitted
  rds-not-public                RDS instances are not publicly accessible (CKV_AWS_17)
  rds-storage-encrypted         RDS storage is encrypted (CKV_AWS_16)
  rds-backup-retention          RDS keeps backups for at least 7 days (CKV_AWS_133)
  rds-production-protection     production RDS: deletion protection on, final snapshot kept (CKV_AWS_293)
  no-secrets-in-user-data       EC2 / launch template / droplet user-data holds no credentials (CKV_AWS_46)
  database-firewall-restricted  DO database firewall rules name droplets, tags or single addresses
  no-secrets-in-heroku-config-vars  plain Heroku config vars hold no credential, by name or value

Stack policies (run once over every resource of the stack):
  droplet-behind-firewall       every droplet is covered by a DO firewall (CKV_DIO_4)
  droplet-ssh-keys              a droplet reachable on SSH has sshKeys (CKV_DIO_2)
  database-cluster-firewalled   every DO database cluster has a DatabaseFirewall

Property names are the engine's (camelCase, e.g. metadataOptions.httpTokens). `check_resources`
runs all of them over plain dicts, e.g. the resources a program registers under mocks. The
user-data scanner lives in user_data_secrets.py (beside this package).
"""

from launchpad_policies.offline import ResourceEntry, Violation, check_resources
from launchpad_policies.policies import POLICIES, PRODUCTION_SCHEMA
from launchpad_policies.rds import is_production
from launchpad_policies.values import (
    DO_DATABASE_CLUSTER, DO_DATABASE_FIREWALL, DO_FIREWALL, DROPLET, EBS_VOLUME, EC2_INSTANCE, EC2_LAUNCH_TEMPLATE,
    MIN_BACKUP_RETENTION_DAYS, PRODUCTION_CONFIG, PRODUCTION_TAG, RDS_INSTANCE, SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE, SECURITY_GROUP_RULE, SSH_PORT, UNKNOWN, WORLD_OPEN_PORTS,
)

__all__ = [
    "DO_DATABASE_CLUSTER", "DO_DATABASE_FIREWALL", "DO_FIREWALL", "DROPLET", "EBS_VOLUME", "EC2_INSTANCE",
    "EC2_LAUNCH_TEMPLATE", "MIN_BACKUP_RETENTION_DAYS", "POLICIES", "PRODUCTION_CONFIG", "PRODUCTION_SCHEMA",
    "PRODUCTION_TAG", "RDS_INSTANCE", "SECURITY_GROUP", "SECURITY_GROUP_INGRESS_RULE", "SECURITY_GROUP_RULE",
    "SSH_PORT", "UNKNOWN", "WORLD_OPEN_PORTS", "ResourceEntry", "Violation", "check_resources", "is_production",
]
