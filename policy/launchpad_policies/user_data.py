"""No credentials in EC2, launch template or droplet user-data (the scanner: user_data_secrets.py)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from packed_archives import as_text, never_shipped, packed_payloads
from user_data_secrets import decode_user_data_base64, find_secrets, user_data_documents

from launchpad_policies.values import DROPLET, EC2_INSTANCE, EC2_LAUNCH_TEMPLATE


_USER_DATA_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {
    # type: ((property, is base64), ...)
    EC2_INSTANCE: (("userData", False), ("userDataBase64", True)),
    EC2_LAUNCH_TEMPLATE: (("userData", True),),
    DROPLET: (("userData", False),),
}


def validate_no_secrets_in_user_data(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for field, is_base64 in _USER_DATA_FIELDS.get(args.resource_type, ()):
        value = args.props.get(field)
        if not isinstance(value, str) or not value:
            continue
        if is_base64:
            try:
                value = decode_user_data_base64(value)
            except ValueError as error:
                report_violation(f"{field} {error}, so it cannot be checked for secrets.", None)
                continue
        for label, text in user_data_documents(value):
            where = f"{field} {label}".rstrip()
            for finding in find_secrets(text):
                report_violation(
                    f"{where} line {finding.line} {finding.what}. User-data is readable by every process on "
                    "the host (metadata service) and by anyone who can describe the instance: deliver the "
                    "secret at run time (a file written by the deploy, SSM/Secrets Manager) and have the "
                    "line read it (CKV_AWS_46).", None)
            # What it carries packed (an app folder as tar.gz + base64) is read too.
            for packed, data in packed_payloads(text):
                inner = f"{where} {packed}".strip()
                if reason := never_shipped(packed):
                    report_violation(f"{inner}: user-data {reason}; leave it out of the app folder (CKV_AWS_46).", None)
                member = as_text(data)
                for finding in find_secrets(member) if member is not None else []:
                    report_violation(f"{inner} line {finding.line} {finding.what}; user-data is readable on the "
                                     "host and through the provider's API: deliver it at run time (CKV_AWS_46).", None)
