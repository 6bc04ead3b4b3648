"""components/digitalocean/network.py: the VPC, the host tag and the cloud firewall on it."""

from __future__ import annotations

from components.digitalocean.network import DoNetwork, DoNetworkArgs

WORLD = ["0.0.0.0/0", "::/0"]


def _network(run, admin_cidrs=()):
    return run(lambda: DoNetwork("net", DoNetworkArgs(region="fra1", host_tag="launchpad-t", admin_cidrs=list(admin_cidrs))))


def _inbound(program):
    return {(r["protocol"], r.get("portRange")): r["sourceAddresses"]
            for r in program.one("digitalocean:index/firewall:Firewall").inputs["inboundRules"]}


def test_web_from_anywhere_ssh_closed_without_admins(run) -> None:
    rules = _inbound(_network(run))
    assert rules == {("tcp", "80"): WORLD, ("tcp", "443"): WORLD, ("icmp", None): WORLD}


def test_ssh_only_from_admin_cidrs(run) -> None:
    rules = _inbound(_network(run, ["203.0.113.7/32", "2001:db8::/64"]))
    assert rules[("tcp", "22")] == ["203.0.113.7/32", "2001:db8::/64"]
    world_tcp = {port for (proto, port), sources in rules.items() if proto == "tcp" and set(sources) & set(WORLD)}
    assert world_tcp == {"80", "443"}


def test_firewall_selects_the_host_tag_and_lets_the_host_out(run) -> None:
    program = _network(run)
    firewall = program.one("digitalocean:index/firewall:Firewall")
    tag = program.one("digitalocean:index/tag:Tag")
    assert tag.inputs["name"] == "launchpad-t"
    assert firewall.inputs["tags"] == ["launchpad-t"]
    assert program.depends_on(firewall, tag)
    outbound = {(r["protocol"], r.get("portRange")) for r in firewall.inputs["outboundRules"]}
    assert {("tcp", "1-65535"), ("udp", "1-65535")} <= outbound


def test_vpc_in_the_region(run) -> None:
    assert _network(run).one("digitalocean:index/vpc:Vpc").inputs["region"] == "fra1"
