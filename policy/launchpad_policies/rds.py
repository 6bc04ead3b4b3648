"""RDS: private, encrypted, backed up, and in production protected from deletion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from launchpad_policies.values import (
    MIN_BACKUP_RETENTION_DAYS,
    PRODUCTION_CONFIG,
    PRODUCTION_TAG,
    RDS_INSTANCE,
    as_int,
    as_mapping,
    is_true,
    shown_value,
)


def validate_rds_not_public(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == RDS_INSTANCE and is_true(args.props.get("publiclyAccessible")):
        report_violation(
            "publiclyAccessible is True; set it to False and reach the database from the app host "
            "inside the VPC (CKV_AWS_17).", None)


def validate_rds_storage_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == RDS_INSTANCE and not is_true(args.props.get("storageEncrypted")):
        report_violation(
            f"storageEncrypted is {shown_value(args.props.get('storageEncrypted'))}; set storageEncrypted=True "
            "(CKV_AWS_16).", None)


def validate_rds_backup_retention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE:
        return
    raw = args.props.get("backupRetentionPeriod")
    days = as_int(raw)
    if days is None or days < MIN_BACKUP_RETENTION_DAYS:
        shown = "not set (AWS keeps 1 day)" if raw is None else repr(raw)
        report_violation(
            f"backupRetentionPeriod is {shown}; keep backups for {MIN_BACKUP_RETENTION_DAYS} to 35 days "
            "(CKV_AWS_133).", None)


def is_production(config: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    """True if the policy config says `production: true` or the resource carries the production tag.

    Either one is enough, and neither can switch the other off: a production database tagged as such
    stays protected even if someone runs the pack without the production config.
    """
    if is_true(config.get(PRODUCTION_CONFIG)):
        return True
    return is_true(as_mapping(props.get("tags")).get(PRODUCTION_TAG))


def validate_rds_production(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE or not is_production(args.get_config(), args.props):
        return
    if not is_true(args.props.get("deletionProtection")):
        report_violation(
            f"production database: deletionProtection is {shown_value(args.props.get('deletionProtection'))}; "
            "set deletionProtection=True so `pulumi destroy` or a replace cannot drop it (CKV_AWS_293).", None)
    if is_true(args.props.get("skipFinalSnapshot")):
        report_violation(
            "production database: skipFinalSnapshot is True; set it to False (and a "
            "finalSnapshotIdentifier) so deleting it leaves a snapshot.", None)
