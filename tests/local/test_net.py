"""Pure parts of launchpad/local/net.py: address choice, names, resolv.conf, nft text."""

from __future__ import annotations

import os
import shutil
import subprocess
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from launchpad.local import net


def test_choose_subnet_is_deterministic_and_inside_the_pool() -> None:
    first = net.choose_subnet("web", [])
    assert first == net.choose_subnet("web", [])
    assert first.prefixlen == net.PREFIXLEN
    assert first.subnet_of(net.POOL)


def test_different_names_usually_get_different_subnets() -> None:
    subnets = {net.choose_subnet(f"m{i}", []) for i in range(50)}
    assert len(subnets) > 45  # a hash, not a constant


def test_choose_subnet_skips_taken_networks() -> None:
    preferred = net.choose_subnet("web", [])
    other = net.choose_subnet("web", [preferred])
    assert other != preferred
    assert not other.overlaps(preferred)
    # A host route covering the whole pool leaves nothing.
    with pytest.raises(RuntimeError, match="no free /30"):
        net.choose_subnet("web", [IPv4Network("10.0.0.0/8")])


def test_choose_subnet_avoids_a_wide_host_route_inside_the_pool() -> None:
    pool = IPv4Network("10.213.0.0/28")  # four /30s
    taken = [IPv4Network("10.213.0.0/29")]
    for name in ("a", "b", "c", "d", "e"):
        assert net.choose_subnet(name, taken, pool) in {IPv4Network("10.213.0.8/30"), IPv4Network("10.213.0.12/30")}


def test_addresses_in_subnet() -> None:
    subnet = IPv4Network("10.213.4.8/30")
    assert net.host_address(subnet) == IPv4Address("10.213.4.9")
    assert net.machine_address(subnet) == IPv4Address("10.213.4.10")


@pytest.mark.parametrize("name", ["web", "db", "a" * 12, "a" * 13, "launchpad-web-production"])
def test_interface_name_fits_the_kernel_limit(name: str) -> None:
    iface = net.interface_name(name)
    assert len(iface) <= net.IFNAMSIZ
    assert iface.startswith(net.IFACE_PREFIX)


def test_long_names_with_a_common_prefix_get_distinct_interfaces() -> None:
    assert net.interface_name("launchpad-web-1") != net.interface_name("launchpad-web-2")
    assert net.interface_name("web") == "lp-web"


def test_machine_resolv_conf_drops_loopback_servers(tmp_path: Path) -> None:
    host = tmp_path / "resolv.conf"
    host.write_text("search example.internal\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n")
    text = net.machine_resolv_conf(host, tmp_path / "missing")
    assert "nameserver 10.0.0.2" in text
    assert "127.0.0.53" not in text
    assert "search example.internal" in text


def test_machine_resolv_conf_falls_back_to_resolved_uplinks(tmp_path: Path) -> None:
    host = tmp_path / "resolv.conf"
    host.write_text("nameserver 127.0.0.53\n")
    uplink = tmp_path / "uplink.conf"
    uplink.write_text("nameserver 192.0.2.53\n")
    assert "nameserver 192.0.2.53" in net.machine_resolv_conf(host, uplink)
    with pytest.raises(RuntimeError, match="only loopback servers"):
        net.machine_resolv_conf(host, tmp_path / "missing")


WEB = net.NftMachine("web", "10.213.0.2", "lp-web")
DB = net.NftMachine("db", "10.213.0.6", "lp-db")


def test_nft_without_machines_only_deletes_the_table() -> None:
    script = net.render_nft([])
    assert script.splitlines() == ["table ip launchpad", "delete table ip launchpad"]


def test_nft_masquerades_every_machine_but_not_between_machines() -> None:
    script = net.render_nft([WEB, DB])
    for m in (WEB, DB):
        assert f'ip saddr {m.address} oifname != "lp-*" masquerade' in script


def test_nft_allow_opens_one_port_one_way() -> None:
    script = net.render_nft([WEB, DB], [net.Allow("web", "db", 5432)])
    assert "ip saddr 10.213.0.2 ip daddr 10.213.0.6 tcp dport 5432 accept" in script
    assert "ip saddr 10.213.0.6 ip daddr 10.213.0.2" not in script
    between = script.split("chain between {")[1]
    # The allow comes before the catch-all drop of the chain.
    assert between.index("accept") < between.index("drop")


def test_nft_drops_packets_from_a_machine_with_another_address() -> None:
    script = net.render_nft([WEB, DB])
    forward = script.split("chain forward {")[1].split("}")[0]
    assert 'iifname "lp-web" ip saddr != 10.213.0.2 drop' in forward
    assert 'iifname "lp-db" ip saddr != 10.213.0.6 drop' in forward
    # Before anything that could accept the packet.
    assert forward.index("saddr !=") < forward.index("related accept")


def test_nft_allow_for_a_missing_machine_is_left_out() -> None:
    script = net.render_nft([WEB], [net.Allow("web", "db", 5432)])
    assert "5432" not in script


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("nft"), reason="nft --check needs root and nftables")
def test_nft_script_is_accepted_by_nft() -> None:
    script = net.render_nft([WEB, DB], [net.Allow("web", "db", 5432)])
    proc = subprocess.run(["nft", "--check", "-f", "-"], input=script, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_forwarding_is_restored_only_if_we_changed_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sysctl = tmp_path / "ip_forward"
    sysctl.write_text("0\n")
    monkeypatch.setattr(net, "IP_FORWARD", sysctl)
    record = tmp_path / "host.json"
    net.enable_forwarding(record)
    assert sysctl.read_text().strip() == "1"
    net.enable_forwarding(record)  # a second machine must not overwrite "was 0"
    net.restore_forwarding(record)
    assert sysctl.read_text().strip() == "0"
    assert not record.exists()

    sysctl.write_text("1\n")
    net.enable_forwarding(record)
    net.restore_forwarding(record)
    assert sysctl.read_text().strip() == "1"
