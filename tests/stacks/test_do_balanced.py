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
        # The firewall stays on the host tag while a roll takes a droplet off the balancer's rotation tag.
        assert firewall.inputs["tags"] == ["launchpad-test"] and lb.inputs["dropletTag"] == "launchpad-test-lb"


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


def test_database_url_reaches_every_droplet_sealed(run) -> None:
    program = build(run, **{"launchpad:database": {"enabled": True}})
    sealed = [o for o in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject") if o.name.endswith("-database")]
    assert len(sealed) == 3 and all(o.inputs["acl"] == "private" for o in sealed)
    assert not program.of_type("command:remote:Command")


def test_releases_roll_droplet_by_droplet_through_the_rotation_tag(program: Program) -> None:
    droplets = program.of_type("digitalocean:index/droplet:Droplet")
    assert all({"launchpad-test", "launchpad-test-lb"} <= set(d.inputs["tags"]) for d in droplets)
    [roll] = [c for c in program.of_type("command:local:Command") if "launchpad.ops.roll digitalocean" in c.inputs["create"]]
    create = roll.inputs["create"]
    lb = program.one("digitalocean:index/loadBalancer:LoadBalancer")
    for arg in (f"--balancer {lb.id}", "--host-tag launchpad-test", "--rotation-tag launchpad-test-lb", "--region fra1"):
        assert arg in create
    objects = program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject")
    # No pointer object: the roll writes the stack's pointer once every droplet serves the release.
    assert not [o for o in objects if o.inputs["key"] == "test/releases/desired.json"]
    sealed = [o for o in objects if o.inputs["key"].startswith("test/hosts/")]
    enrolls = [c for c in program.of_type("command:local:Command") if "launchpad.release.enroll" in c.inputs["create"]]
    assert len(enrolls) >= 3
    assert sealed and all(program.depends_on(roll, o) for o in sealed)
    assert all(program.depends_on(roll, d) for d in droplets) and program.depends_on(roll, lb)
    assert program.outputs["rollout"]["rotation_tag"] == "launchpad-test-lb"


def test_droplets_publish_their_status_to_a_bucket_of_its_own(program: Program) -> None:
    buckets = program.of_type("digitalocean:index/spacesBucket:SpacesBucket")
    [status] = [b for b in buckets if b.name.endswith("-status")]
    [release] = [b for b in buckets if b.name.endswith("-releases")]
    assert status.inputs["acl"] == "private" and status.inputs["name"] == f"{release.state.get('name', release.inputs.get('name'))}-status"
    [key] = [k for k in program.of_type("digitalocean:index/spacesKey:SpacesKey") if k.name.endswith("-status-write")]
    assert key.inputs["grants"] == [{"bucket": status.inputs["name"], "permission": "readwrite"}]
    text = program.of_type("digitalocean:index/droplet:Droplet")[0].inputs["userData"]
    assert '"host_id": "digitalocean"' in text and f'"status_store": "s3://{status.inputs["name"]}/test/status"' in text


def test_each_droplet_enrolls_through_the_bucket_not_its_address(program: Program) -> None:
    """Behind the balancer the droplets admit the web from it alone, so no deployer command may need a
    droplet's address: each reads `<stack>/enroll/<droplet id>.json` from the enrollment bucket."""
    droplets = program.of_type("digitalocean:index/droplet:Droplet")
    enrolls = [c for c in program.of_type("command:local:Command")
               if "launchpad.release.enroll" in c.inputs["create"] or "launchpad.ops.host_key" in c.inputs["create"]]
    ids = {str(d.id) for d in droplets}
    enrolled = {c.inputs["create"].split(" s3://", 1)[1].split()[1] for c in enrolls}
    assert len(droplets) == 3 and enrolled == ids
    assert not [c for c in enrolls if "http://" in c.inputs["create"] or DROPLET_IP in c.inputs["create"]]
    for droplet in droplets:
        assert '"enrollment_key_secret"' in droplet.inputs["userData"]
        assert "/.well-known/launchpad/host-key" not in droplet.inputs["userData"]
