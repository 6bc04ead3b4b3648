"""Ports and sources: every inbound rule of a security group, SG rule or DO firewall as one Ingress shape,
and the two policies over it (no world-open SSH; from the world only the web ports)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from launchpad.safety.cidr import too_broad_text

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


def _world(sources: tuple[str, ...] | list[str]) -> list[str]:
    """The fewest sources (largest first) that together open (nearly) the whole internet, or [].

    Measured as address space covered per family (launchpad/safety/cidr.py, the same guard as
    adminCidrs), so 0.0.0.0/1 + 128.0.0.0/1 or ::ffff:0:0/96 count as the world, not only a /0."""
    if not too_broad_text(sources):
        return []
    sized = []
    for text in sources:
        try:
            net = ipaddress.ip_network(str(text).strip(), strict=False)
        except ValueError:
            continue
        sized.append((net.version, net.num_addresses, str(text)))
    picked: list[str] = []
    for version in (4, 6):  # per family: "0.0.0.0/0, ::/0" names both halves of the world
        family: list[str] = []
        for _, _, text in sorted((x for x in sized if x[0] == version), key=lambda x: -x[1]):
            family.append(text)
            if too_broad_text(family):
                picked += family
                break
    picked = picked or [text for _, _, text in sized]
    return [s for s in sources if s in picked]


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
        return _world(self.sources)

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


def _split_world(rules: list[Ingress]) -> tuple[list[Ingress], list[str]]:
    """Rules that are world-open on their own, or else (no rule alone is) the sources of all of
    them if their union is: `[0.0.0.0/1]` in one rule and `[128.0.0.0/1]` in the next."""
    alone = [r for r in rules if r.world_sources]
    if alone:
        return alone, []
    union = [s for r in rules for s in r.sources]
    return [], (union if _world(union) else [])


def validate_ssh_not_open_to_world(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    ssh = [r for r in inbound_rules(args.resource_type, args.props) if r.admits_tcp_port(SSH_PORT)]
    alone, union = _split_world(ssh)
    for rule in alone:
        report_violation(
            f"{rule.where} admits {rule.describe()} from {', '.join(rule.world_sources)}, which includes SSH (22); "
            f"{too_broad_text(rule.sources)}; admit 22 only from admin CIDRs ({_ssh_reference(args.resource_type)}).",
            None)
    if union:
        report_violation(
            f"{', '.join(r.where for r in ssh)} together admit SSH (22) from {', '.join(union)}; {too_broad_text(union)}; "
            f"admit 22 only from admin CIDRs ({_ssh_reference(args.resource_type)}).", None)


def validate_world_open_only_web(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    other = [r for r in inbound_rules(args.resource_type, args.props) if not r.only_web_ports()]
    alone, union = _split_world(other)
    for rule in alone:
        report_violation(
            f"{rule.where} admits {rule.describe()} from {', '.join(rule.world_sources)}; from the whole internet only "
            "tcp/udp 80 and 443 may be open: narrow the sources to known CIDRs or the ports to 80/443.",
            None)
    if union:
        report_violation(
            f"{', '.join(r.where for r in other)} together admit more than the web ports from {', '.join(union)} "
            f"({too_broad_text(union)}); from the whole internet only tcp/udp 80 and 443 may be open.", None)
