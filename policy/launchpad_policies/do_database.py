"""DigitalOcean database firewall: rules name droplets, tags or single addresses, never a range."""

from __future__ import annotations

import ipaddress

from pulumi_policy import ReportViolation, ResourceValidationArgs

from launchpad_policies.values import DO_DATABASE_FIREWALL, as_list, as_mapping


_DB_FIREWALL_TYPES = ("droplet", "tag", "ip_addr")


def validate_database_firewall(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != DO_DATABASE_FIREWALL:
        return
    for i, rule in enumerate(as_list(args.props.get("rules"))):
        rule = as_mapping(rule)
        kind, value = rule.get("type"), rule.get("value")
        if kind not in _DB_FIREWALL_TYPES:
            report_violation(
                f"rules[{i}] has type {kind!r}; use one of {', '.join(_DB_FIREWALL_TYPES)} "
                "(ip_addr with a single address).", None)
        elif kind == "ip_addr":
            try:
                network = ipaddress.ip_network(str(value).strip(), strict=False)
            except ValueError:
                report_violation(f"rules[{i}] ip_addr value {value!r} is not an IP address.", None)
                continue
            if network.num_addresses != 1:
                scope = "the whole internet" if network.prefixlen == 0 else f"{network.num_addresses} addresses"
                report_violation(
                    f"rules[{i}] admits ip_addr {value!r} ({scope}); name single addresses "
                    "(e.g. '203.0.113.7') or admit the app droplet by type 'droplet' or 'tag'.", None)
