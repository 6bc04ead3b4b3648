"""components/aws/network.py: subnets, routes and the host's security group."""

from __future__ import annotations

import pytest

from components.aws.network import AwsNetwork, AwsNetworkArgs, first_ipv6_subnet, split_cidrs


def _network(run, admin_cidrs=()):
    return run(lambda: AwsNetwork("net", AwsNetworkArgs(admin_cidrs=list(admin_cidrs), tags={"launchpad:stack": "t"})))


def _rules(sg, port):
    return [r for r in sg.inputs["ingress"] if r["fromPort"] == port]


def test_web_ports_open_to_the_world_on_both_families(run) -> None:
    sg = _network(run).one("aws:ec2/securityGroup:SecurityGroup")
    for port in (80, 443):
        [rule] = _rules(sg, port)
        assert rule["toPort"] == port and rule["protocol"] == "tcp"
        assert rule["cidrBlocks"] == ["0.0.0.0/0"] and rule["ipv6CidrBlocks"] == ["::/0"]


def test_ssh_closed_without_admin_cidrs(run) -> None:
    sg = _network(run).one("aws:ec2/securityGroup:SecurityGroup")
    assert {r["fromPort"] for r in sg.inputs["ingress"]} == {80, 443}


def test_ssh_only_from_admin_cidrs_split_by_family(run) -> None:
    sg = _network(run, ["203.0.113.7/32", "2001:db8::/64"]).one("aws:ec2/securityGroup:SecurityGroup")
    [ssh] = _rules(sg, 22)
    assert ssh["cidrBlocks"] == ["203.0.113.7/32"]
    assert ssh["ipv6CidrBlocks"] == ["2001:db8::/64"]
    for rule in sg.inputs["ingress"]:
        if "0.0.0.0/0" in rule.get("cidrBlocks", []) or "::/0" in rule.get("ipv6CidrBlocks", []):
            assert rule["fromPort"] in (80, 443) and rule["toPort"] == rule["fromPort"]


def test_private_subnets_span_two_zones_and_have_no_public_addresses(run) -> None:
    program = _network(run)
    subnets = {r.name: r.inputs for r in program.of_type("aws:ec2/subnet:Subnet")}
    private = [subnets["net-private-0"], subnets["net-private-1"]]
    assert len({s["availabilityZone"] for s in private}) == 2
    assert not any(s.get("mapPublicIpOnLaunch") for s in private)
    assert subnets["net-public"]["mapPublicIpOnLaunch"] is True
    assert subnets["net-public"]["ipv6CidrBlock"] == "2600:1f18:abcd:1200::/64"


def test_only_the_public_subnet_routes_to_the_internet(run) -> None:
    program = _network(run)
    [assoc] = program.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    public = next(r for r in program.of_type("aws:ec2/subnet:Subnet") if r.name == "net-public")
    assert assoc.inputs["subnetId"] == public.id
    routes = program.one("aws:ec2/routeTable:RouteTable").inputs["routes"]
    assert {r.get("cidrBlock") or r.get("ipv6CidrBlock") for r in routes} == {"0.0.0.0/0", "::/0"}


@pytest.mark.parametrize("cidrs, v4, v6", [
    (["10.0.0.0/8"], ["10.0.0.0/8"], []),
    (["2001:db8::/32", "192.0.2.1/32"], ["192.0.2.1/32"], ["2001:db8::/32"]),
    ([], [], []),
])
def test_split_cidrs(cidrs, v4, v6) -> None:
    assert split_cidrs(cidrs) == (v4, v6)


def test_first_ipv6_subnet() -> None:
    assert first_ipv6_subnet("2600:1f18:1:ab00::/56") == "2600:1f18:1:ab00::/64"
