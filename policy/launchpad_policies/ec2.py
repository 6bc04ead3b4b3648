"""EC2 and EBS: IMDSv2 required, every block device and volume encrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from launchpad_policies.values import EBS_VOLUME, EC2_INSTANCE, as_list, as_mapping, shown_value


def imdsv2_problem(props: Mapping[str, Any], who: str) -> str | None:
    """Why `metadataOptions` (of an instance or a launch template) allows IMDSv1, or None.
    `who`: what answers the metadata requests, for the message."""
    options = as_mapping(props.get("metadataOptions"))
    if str(options.get("httpEndpoint") or "").lower() == "disabled":
        return None  # no metadata service at all is stricter than IMDSv2
    tokens = options.get("httpTokens")
    if tokens == "required":
        return None
    shown = "not set (the AMI or account default applies, often 'optional')" if tokens is None else repr(tokens)
    return (f"metadataOptions.httpTokens is {shown}; set it to 'required' so {who} "
            "answers only IMDSv2 session requests, which SSRF through the app cannot make (CKV_AWS_79).")


def validate_imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != EC2_INSTANCE:
        return
    if problem := imdsv2_problem(args.props, "the metadata service"):
        report_violation(problem, None)


def validate_ebs_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    if args.resource_type == EBS_VOLUME:
        if props.get("encrypted") is not True:
            report_violation(
                f"encrypted is {shown_value(props.get('encrypted'))}; set encrypted=True (CKV_AWS_8).", None)
    elif args.resource_type == EC2_INSTANCE:
        root = props.get("rootBlockDevice")
        if root is None:
            report_violation(
                "rootBlockDevice is not set, so the root volume is encrypted only if the account turned on "
                "EBS encryption by default; set rootBlockDevice.encrypted=True (CKV_AWS_8).", None)
        elif as_mapping(root).get("encrypted") is not True:
            report_violation(
                f"rootBlockDevice.encrypted is {shown_value(as_mapping(root).get('encrypted'))}; set it to True (CKV_AWS_8).",
                None)
        for i, device in enumerate(as_list(props.get("ebsBlockDevices"))):
            device = as_mapping(device)
            if device.get("encrypted") is not True:
                name = device.get("deviceName") or "?"
                report_violation(
                    f"ebsBlockDevices[{i}] ({name}) encrypted is {shown_value(device.get('encrypted'))}; "
                    "set it to True (CKV_AWS_8).", None)
