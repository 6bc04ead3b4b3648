"""Ports and sources: every inbound rule of a security group, SG rule or DO firewall as one Ingress shape,
and the two policies over it (no world-open SSH; from the world only the web ports)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from launchpad_policies.values import (
    DO_FIREWALL,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SECURITY_GROUP_RULE,
    SSH_PORT,
    WORLD_OPEN_PORTS,
    as_int,
    as_list,
    as_mapping,
)


_PROTOCOLS = {
    "-1": "all", "all": "all", "6": "tcp", "tcp": "tcp", "17": "udp", "udp": "udp",
    "1": "icmp", "icmp": "icmp", "58": "icmpv6", "icmpv6": "icmpv6",
}


def _protocol(value: Any) -> str:
    number = as_int(value)
    text = str(number) if number is not None else str(value if value is not None else "all").strip().lower()
    return _PROTOCOLS.get(text, text)


def _is_world(source: str) -> bool:
    try:
        return ipaddress.ip_network(str(source).strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


@dataclass(frozen=True)
class Ingress:
    """One inbound rule, whatever the provider: which protocol, ports and source addresses it admits."""

    where: str
    """Key path for messages, e.g. `ingress[0]`."""
    protocol: str
    """tcp, udp, icmp, icmpv6, all, or another IP protocol as written."""
    ports: tuple[int, int] | None
    """Inclusive port range; None means every port."""
    sources: tuple[str, ...]

    @property
    def world_sources(self) -> list[str]:
        return [s for s in self.sources if _is_world(s)]

    def admits_tcp_port(self, port: int) -> bool:
        if self.protocol not in ("tcp", "all"):
            return False
        return self.ports is None or self.ports[0] <= port <= self.ports[1]

    def only_web_ports(self) -> bool:
        if self.protocol in ("icmp", "icmpv6"):
            # ICMP has no ports and carries no service; path-MTU discovery needs it.
            return True
        if self.protocol not in ("tcp", "udp") or self.ports is None:
            return False
        low, high = self.ports
        return low == high and low in WORLD_OPEN_PORTS

    def describe(self) -> str:
        if self.protocol == "all":
            return "all traffic"
        if self.ports is None:
            return f"{self.protocol} on every port"
        low, high = self.ports
        return f"{self.protocol} {low}" if low == high else f"{self.protocol} {low}-{high}"


def _aws_ports(protocol: str, from_port: Any, to_port: Any) -> tuple[int, int] | None:
    if protocol == "all":
        return None
    low, high = as_int(from_port), as_int(to_port)
    if low is None and high is None:
        return None
    low = high if low is None else low
    high = low if high is None else high
    assert low is not None and high is not None
    if low < 0 or high < 0:  # -1 means "every type/port" for ICMP and "all" rules
        return None
    return (low, high)


def _do_ports(port_range: Any) -> tuple[int, int] | None:
    text = str(port_range if port_range is not None else "").strip().lower()
    if text in ("", "all", "0"):
        return None
    low_text, _, high_text = text.partition("-")
    low, high = as_int(low_text), as_int(high_text or low_text)
    if low is None or high is None:
        return None
    return (low, high)


def as_strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in as_list(value) if v is not None)


def inbound_rules(resource_type: str, props: Mapping[str, Any]) -> list[Ingress]:
    """The inbound rules a security group, SG rule or DO firewall declares; [] for other types."""
    rules: list[Ingress] = []
    if resource_type == SECURITY_GROUP:
        for i, rule in enumerate(as_list(props.get("ingress"))):
            rule = as_mapping(rule)
            protocol = _protocol(rule.get("protocol"))
            rules.append(Ingress(
                f"ingress[{i}]", protocol, _aws_ports(protocol, rule.get("fromPort"), rule.get("toPort")),
                as_strings(rule.get("cidrBlocks")) + as_strings(rule.get("ipv6CidrBlocks"))))
    elif resource_type == SECURITY_GROUP_RULE:
        if str(props.get("type", "")).lower() == "ingress":
            protocol = _protocol(props.get("protocol"))
            rules.append(Ingress(
                "the rule", protocol, _aws_ports(protocol, props.get("fromPort"), props.get("toPort")),
                as_strings(props.get("cidrBlocks")) + as_strings(props.get("ipv6CidrBlocks"))))
    elif resource_type == SECURITY_GROUP_INGRESS_RULE:
        protocol = _protocol(props.get("ipProtocol"))
        rules.append(Ingress(
            "the rule", protocol, _aws_ports(protocol, props.get("fromPort"), props.get("toPort")),
            as_strings(props.get("cidrIpv4")) + as_strings(props.get("cidrIpv6"))))
    elif resource_type == DO_FIREWALL:
        for i, rule in enumerate(as_list(props.get("inboundRules"))):
            rule = as_mapping(rule)
            if str(rule.get("action") or "allow").lower() == "deny":
                continue
            protocol = _protocol(rule.get("protocol"))
            ports = None if protocol in ("icmp", "all") else _do_ports(rule.get("portRange"))
            rules.append(Ingress(f"inboundRules[{i}]", protocol, ports, as_strings(rule.get("sourceAddresses"))))
    return rules


def _ssh_reference(resource_type: str) -> str:
    return "CKV_AWS_24" if resource_type.startswith("aws:") else "as CKV_AWS_24 for AWS"


def validate_ssh_not_open_to_world(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for rule in inbound_rules(args.resource_type, args.props):
        world = rule.world_sources
        if world and rule.admits_tcp_port(SSH_PORT):
            report_violation(
                f"{rule.where} admits {rule.describe()} from {', '.join(world)}, which includes SSH (22); "
                f"admit 22 only from admin CIDRs ({_ssh_reference(args.resource_type)}).",
                None)


def validate_world_open_only_web(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for rule in inbound_rules(args.resource_type, args.props):
        world = rule.world_sources
        if world and not rule.only_web_ports():
            report_violation(
                f"{rule.where} admits {rule.describe()} from {', '.join(world)}; from the whole internet only "
                "tcp/udp 80 and 443 may be open: narrow the sources to known CIDRs or the ports to 80/443.",
                None)
