"""How much of the internet a set of CIDRs admits, per address family.

What counts is public address space: private, loopback, link-local, CGNAT, multicast and
reserved ranges cannot reach a public host from the internet, so `10.0.0.0/8` (an office
VPN, the local target's machine network) is not "the internet", while `11.0.0.0/8` is.

A prefix-length test (`/0` only) misses `0.0.0.0/1` + `128.0.0.0/1`, the IPv6 `/1` halves,
and `::ffff:0:0/96` (every IPv4 address, written as IPv6). So the guard measures the union
of the networks: the fraction of each family's space it covers. Settings (adminCidrs) and
the policy pack (security groups, DO firewalls) call the same `too_broad`.

Thresholds, per family, on the union (as a fraction of the family's public space):
- IPv4: 1/256 of the space (about a /8, 14 M addresses) or more is refused. A /8 is the largest
  block ever assigned to one organisation; an admin network, a VPN egress or a CI provider's
  published ranges (/11 to /16 per block) fit well below it.
- IPv6: 2^-32 of the space (a /32) or more is refused. A /32 is a whole ISP's (LIR's)
  allocation; one site gets a /48, one LAN a /64. "1/256 of IPv6" (a /8) would admit
  ranges no admin holds.
IPv6 networks that embed IPv4 (IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96`, NAT64
`64:ff9b::/96`, 6to4 `2002::/16`) also count, translated, toward the IPv4 coverage.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

IPV4_LIMIT = Fraction(1, 2**8)
IPV6_LIMIT = Fraction(1, 2**32)

# Hex digits, dots, colons and one slash: no zone id (%eth0), no spaces, no newlines.
_LITERAL = re.compile(r"[0-9A-Fa-f:.]+(/[0-9]{1,3})?")

# IPv6 prefixes whose low bits carry an IPv4 address: (prefix, bit offset of the IPv4 address).
_EMBEDS_IPV4 = (
    (ipaddress.IPv6Network("::ffff:0:0/96"), 96),
    (ipaddress.IPv6Network("::/96"), 96),
    (ipaddress.IPv6Network("64:ff9b::/96"), 96),
    (ipaddress.IPv6Network("2002::/16"), 16),
)


def parse_network(text: str) -> Network:
    """A strict network: `203.0.113.0/24`, `2001:db8::/48`, or a bare address (a /32 or /128).

    Refused: host bits set (`10.0.0.1/8`), zone ids (`fe80::1%eth0`), whitespace or anything
    else around the literal, leading zeros. Raises ValueError saying which.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {type(text).__name__}")
    if "%" in text:
        raise ValueError("an IPv6 zone id ('%...') names a local interface, not a network")
    if not _LITERAL.fullmatch(text):
        raise ValueError("only hex digits, '.', ':' and one '/prefix' may appear")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as err:
        raise ValueError(str(err)) from None


# Not reachable from (or not a source on) the internet.
_NOT_PUBLIC_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"))
_NOT_PUBLIC_V6 = tuple(ipaddress.IPv6Network(n) for n in ("::1/128", "fc00::/7", "fe80::/10", "ff00::/8"))


def _public(nets: list[Network], excluded: tuple[Network, ...]) -> int:
    """Public addresses in the union of `nets` (excluded ranges are disjoint, so are collapsed nets)."""
    union = list(ipaddress.collapse_addresses(nets))  # type: ignore[type-var]  # one family per call
    total = sum(n.num_addresses for n in union)
    for net in union:
        for ex in excluded:
            if net.overlaps(ex):
                total -= min(net.num_addresses, ex.num_addresses)
    return total


_PUBLIC_V4 = 2**32 - sum(n.num_addresses for n in _NOT_PUBLIC_V4)
_PUBLIC_V6 = 2**128 - sum(n.num_addresses for n in _NOT_PUBLIC_V6)


def _embedded_ipv4(net: ipaddress.IPv6Network) -> list[ipaddress.IPv4Network]:
    out: list[ipaddress.IPv4Network] = []
    for prefix, offset in _EMBEDS_IPV4:
        if prefix.subnet_of(net):
            return [ipaddress.IPv4Network("0.0.0.0/0")]
        if net.subnet_of(prefix):
            bits = max(0, min(32, net.prefixlen - offset))
            value = (int(net.network_address) >> (128 - offset - 32)) & 0xFFFFFFFF
            out.append(ipaddress.IPv4Network((value & ~((1 << (32 - bits)) - 1) & 0xFFFFFFFF, bits)))
    return out


@dataclass(frozen=True)
class Coverage:
    """The fraction of each family's public address space a set of networks covers."""

    ipv4: Fraction
    ipv6: Fraction

    def describe(self) -> str:
        return f"{float(self.ipv4):.3g} of IPv4 and {float(self.ipv6):.3g} of IPv6"


def coverage(networks: Iterable[Network]) -> Coverage:
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for net in networks:
        if isinstance(net, ipaddress.IPv4Network):
            v4.append(net)
        else:
            v6.append(net)
            v4 += _embedded_ipv4(net)
    return Coverage(Fraction(_public(list(v4), _NOT_PUBLIC_V4), _PUBLIC_V4),
                    Fraction(_public(list(v6), _NOT_PUBLIC_V6), _PUBLIC_V6))


def too_broad(networks: Iterable[Network]) -> str | None:
    """Why these networks together admit (nearly) the whole internet, or None if they do not."""
    cov = coverage(networks)
    reasons = []
    if cov.ipv4 >= IPV4_LIMIT:
        reasons.append(f"together they cover {float(cov.ipv4):.3g} of all public IPv4 addresses (the limit is under 1/256, about a /8)")
    if cov.ipv6 >= IPV6_LIMIT:
        reasons.append(f"together they cover {float(cov.ipv6):.3g} of all public IPv6 addresses (the limit is under 2^-32, a /32)")
    return "; ".join(reasons) or None


def too_broad_text(cidrs: Iterable[str]) -> str | None:
    """`too_broad` for CIDR strings as a provider holds them (non-strict: host bits are ignored,
    since what the firewall admits is the whole network). Unparsable entries are skipped:
    the caller reports them on their own."""
    nets: list[Network] = []
    for text in cidrs:
        try:
            nets.append(ipaddress.ip_network(str(text).strip(), strict=False))
        except ValueError:
            continue
    return too_broad(nets)
