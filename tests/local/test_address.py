"""launchpad/local/address.py's nft script: the stack's public address DNATed to one machine, replaced atomically."""

from __future__ import annotations

import pytest

from launchpad.local import address


def test_the_address_points_at_one_machine_for_http_and_https_only() -> None:
    script = address.render("tls-move", "10.213.118.33", "10.213.236.134")
    lines = [line.strip() for line in script.splitlines()]
    # Add-then-delete-then-define: one `nft -f` transaction replaces the table whether or not it existed.
    assert lines[:3] == ["table ip launchpad_address_tls_move", "delete table ip launchpad_address_tls_move",
                         "table ip launchpad_address_tls_move {"]
    assert "type nat hook output priority -100; policy accept;" in lines
    assert "ip daddr 10.213.118.33 tcp dport { 80, 443 } dnat to 10.213.236.134" in lines
    assert sum("dnat" in line for line in lines) == 1


@pytest.mark.parametrize("bad", ["10.0.0.1; flush ruleset", "example.com"])
def test_only_ipv4_addresses_reach_the_script(bad: str) -> None:
    with pytest.raises(ValueError):
        address.render("s", bad, "10.213.0.2")
    with pytest.raises(ValueError):
        address.render("s", "10.213.0.1", bad)
