"""stacks/digitalocean.py with launchpad:hosts > 1 under mocks: N tagged droplets, the DO Load Balancer
(forwarding rules, redirect, health path, managed certificate), the firewall admitting web only from it."""

from __future__ import annotations

import pytest

from pulumi_mocks import BALANCER_IP, DO_VPC_RANGE, DROPLET_IP, Program
from launchpad.settings import validate
from stacks import digitalocean as do_stack

BASE = {"launchpad:provider": "digitalocean", "launchpad:region": "fra1", "launchpad:hosts": 3}
TLS = {"launchpad:domain": "rocket.example.com", "launchpad:dnsZone": "example.com"}


def build(run, **config) -> Program:
    settings = validate({**BASE, **config}, "test")
    return run(lambda: do_stack.build(settings), stack="test")


@pytest.fixture(params=["http", "tls"])
def program(request, run) -> Program:
    return build(run, **(TLS if request.param == "tls" else {}))


def test_n_droplets_carry_the_tag_the_balancer_selects(program: Program) -> None:
    droplets = program.of_type("digitalocean:index/droplet:Droplet")
    assert len(droplets) == 3
    lb = program.one("digitalocean:index/loadBalancer:LoadBalancer").inputs
    assert all(lb["dropletTag"] in d.inputs["tags"] for d in droplets)
    assert lb["vpcUuid"] == program.one("digitalocean:index/vpc:Vpc").id
    assert not program.of_type("digitalocean:index/reservedIp:ReservedIp")


def test_droplets_trust_the_vpc_range_and_two_hops(program: Program) -> None:
    for droplet in program.of_type("digitalocean:index/droplet:Droplet"):
        text = droplet.inputs["userData"]
        assert f"set_real_ip_from {DO_VPC_RANGE};" in text and "LAUNCHPAD_TRUSTED_PROXIES=2" in text


def test_health_check_asks_the_apps_health_path(run) -> None:
    program = build(run, **{"launchpad:app": {"healthPath": "/healthz"}})
    check = program.one("digitalocean:index/loadBalancer:LoadBalancer").inputs["healthcheck"]
    assert (check["protocol"], check["port"], check["path"]) == ("http", 80, "/healthz")


def test_web_reaches_droplets_only_from_the_balancer(program: Program) -> None:
    lb = program.one("digitalocean:index/loadBalancer:LoadBalancer")
    firewalls = program.of_type("digitalocean:index/firewall:Firewall")
    web_rules = [(f, r) for f in firewalls for r in f.inputs["inboundRules"] if r.get("portRange") in ("80", "443")]
    assert sorted(r["portRange"] for _, r in web_rules) == ["443", "80"]
    for firewall, rule in web_rules:
        assert rule["sourceLoadBalancerUids"] == [lb.id] and not rule.get("sourceAddresses")
        assert firewall.inputs["tags"] == [lb.inputs["dropletTag"]]


def test_plain_http_when_no_zone(run) -> None:
    lb = build(run).one("digitalocean:index/loadBalancer:LoadBalancer").inputs
    [rule] = lb["forwardingRules"]
    assert (rule["entryProtocol"], rule["entryPort"], rule["targetProtocol"], rule["targetPort"]) == ("http", 80, "http", 80)
    assert not lb.get("redirectHttpToHttps")


def test_tls_with_a_managed_certificate_and_redirect(run) -> None:
    program = build(run, **TLS)
    cert = program.one("digitalocean:index/certificate:Certificate")
    assert cert.inputs["type"] == "lets_encrypt" and cert.inputs["domains"] == ["rocket.example.com", "www.rocket.example.com"]
    lb = program.one("digitalocean:index/loadBalancer:LoadBalancer").inputs
    https = next(r for r in lb["forwardingRules"] if r["entryProtocol"] == "https")
    assert (https["entryPort"], https["targetProtocol"], https["targetPort"], https["certificateName"]) == (443, "http", 80, cert.state["name"])
    assert lb["redirectHttpToHttps"] is True
    records = program.of_type("digitalocean:index/dnsRecord:DnsRecord")
    assert sorted((r.inputs["domain"], r.inputs["name"], r.inputs["value"]) for r in records) == [
        ("example.com", "rocket", BALANCER_IP), ("example.com", "www.rocket", BALANCER_IP)]
    assert program.outputs["url"] == "https://rocket.example.com/"


def test_outputs(program: Program) -> None:
    assert program.outputs["public_ip"] == BALANCER_IP
    assert [h["address"] for h in program.outputs["hosts"]] == [DROPLET_IP] * 3
    assert len(program.outputs["hosts"]) == 3


def test_database_url_reaches_every_droplet(run) -> None:
    program = build(run, **{"launchpad:database": {"enabled": True}, "launchpad:adminCidrs": ["203.0.113.7/32"],
                            "launchpad:sshKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7mockmockmockmockmockmockmockmockmockmock ops@laptop"]})
    envs = [c for c in program.of_type("command:remote:Command") if "DATABASE_URL" in str(c.inputs) or "app.env" in str(c.inputs)]
    assert len({c.name for c in envs}) >= 3
