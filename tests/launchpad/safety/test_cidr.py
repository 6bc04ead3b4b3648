"""CIDR coverage: the union of the networks, per family, not the prefix length."""

from __future__ import annotations

from fractions import Fraction

import pytest

from launchpad.safety.cidr import IPV4_LIMIT, IPV6_LIMIT, coverage, parse_network, too_broad, too_broad_text


def nets(*texts: str) -> list:
    return [parse_network(t) for t in texts]


@pytest.mark.parametrize("cidrs", [
    ("0.0.0.0/0",), ("::/0",),
    ("0.0.0.0/1", "128.0.0.0/1"),                      # the halves (issue 13, #2)
    ("::/1", "8000::/1"),
    ("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"),
    ("11.0.0.0/8",), ("11.0.0.0/9", "11.128.0.0/9"),
    ("::ffff:0:0/96",),                                # every IPv4 address, as IPv6
    ("64:ff9b::/96",), ("2002::/16",), ("::ffff:0:0/97",),
    ("2001::/16",), ("2001:db8::/32",),
])
def test_world_equivalents_are_too_broad(cidrs: tuple[str, ...]) -> None:
    assert too_broad(nets(*cidrs)) is not None


@pytest.mark.parametrize("cidrs", [
    (), ("203.0.113.7/32",), ("198.51.100.0/24", "203.0.113.0/24"), ("11.0.0.0/9",), ("2001:db8::/48",),
    ("10.0.0.0/8",), ("172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"), ("fc00::/7",),   # not public
    ("2001:db8::/33",), ("203.0.113.7/32", "2001:db8:1::/64"), ("::ffff:203.0.113.0/120",),
])
def test_admin_sized_networks_are_fine(cidrs: tuple[str, ...]) -> None:
    assert too_broad(nets(*cidrs)) is None


def test_coverage_is_the_union_not_the_sum() -> None:
    assert coverage(nets("11.0.0.0/9", "11.0.0.0/9", "11.0.0.0/10")) == coverage(nets("11.0.0.0/9"))
    assert coverage(nets("11.0.0.0/9", "11.128.0.0/9")) == coverage(nets("11.0.0.0/8"))
    assert coverage(nets("0.0.0.0/0")).ipv4 == 1 and coverage(nets("::/0")).ipv6 == 1


def test_private_space_is_not_the_internet() -> None:
    assert coverage(nets("10.0.0.0/8", "192.168.0.0/16")).ipv4 == 0
    assert coverage(nets("10.0.0.0/7")) == coverage(nets("11.0.0.0/8"))  # only the public half counts


def test_ipv4_embedded_in_ipv6_counts_toward_ipv4() -> None:
    assert coverage(nets("::ffff:11.0.0.0/104")) .ipv4 == coverage(nets("11.0.0.0/8")).ipv4
    assert coverage(nets("2002:0b00::/24")).ipv4 == coverage(nets("11.0.0.0/8")).ipv4  # 6to4 of 11.0.0.0/8
    assert coverage(nets("2002::/16")).ipv4 == 1


def test_thresholds() -> None:
    assert IPV4_LIMIT == Fraction(1, 256) and IPV6_LIMIT == Fraction(1, 2**32)
    assert too_broad(nets("11.0.0.0/8")) and not too_broad(nets("11.0.0.0/9"))
    assert too_broad(nets("2001:db8::/32")) and not too_broad(nets("2001:db8::/33"))


@pytest.mark.parametrize("bad, reason", [
    ("fe80::1%eth0", "zone id"), ("::1%lo\n tcp dport 1-65535 accept", "zone id"), ("10.0.0.1/8", "host bits"),
    (" 10.0.0.0/8", "only hex"), ("10.0.0.0/8\n", "only hex"), ("10.0.0.0/33", "does not appear"),
    ("010.0.0.1/32", "does not appear"), ("localhost", "only hex"), ("", "only hex"),
])
def test_parse_network_is_strict(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_network(bad)


def test_provider_text_form_is_lenient_about_host_bits_and_skips_junk() -> None:
    """A security group holds what it holds: `10.0.0.1/1` admits half the internet all the same."""
    assert too_broad_text(["0.0.0.1/1", "128.0.0.1/1"]) is not None
    assert too_broad_text(["not-a-cidr", "203.0.113.7/32"]) is None
