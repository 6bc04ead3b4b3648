"""EC2 launch templates (the Auto Scaling group's hosts, launchpad:hosts > 1): IMDSv2 required and an
encrypted root volume, as for a single instance (ec2.py): every host the group launches inherits them."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from launchpad_policies.ec2 import imdsv2_problem
from launchpad_policies.values import EC2_LAUNCH_TEMPLATE, as_list, as_mapping, is_true, shown_value


def validate_launch_template_imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != EC2_LAUNCH_TEMPLATE:
        return
    if problem := imdsv2_problem(args.props, "every instance the group launches"):
        report_violation(problem, None)


def validate_launch_template_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != EC2_LAUNCH_TEMPLATE:
        return
    mappings = [as_mapping(m) for m in as_list(args.props.get("blockDeviceMappings"))]
    volumes = [(i, m) for i, m in enumerate(mappings) if m.get("ebs") is not None]
    if not volumes:
        report_violation(
            "blockDeviceMappings maps no EBS volume, so the instances' root volume is encrypted only if the account "
            "turned on EBS encryption by default; map the AMI's root device (/dev/xvda on Debian) with "
            "ebs.encrypted = 'true' (CKV_AWS_8).", None)
        return
    for i, mapping in volumes:
        encrypted = as_mapping(mapping.get("ebs")).get("encrypted")
        if not is_true(encrypted):  # the provider types it as a string, "true"; a bool passes too
            report_violation(
                f"blockDeviceMappings[{i}] ({mapping.get('deviceName') or '?'}) ebs.encrypted is {shown_value(encrypted)}; "
                "set it to 'true' (CKV_AWS_8).", None)
