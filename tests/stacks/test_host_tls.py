"""Issue 12 under mocks: a single host's HTTPS across replacements on AWS and DigitalOcean.

The stack's certificate store and the host's permissions on it (AWS: a Secrets Manager secret,
Get/Put on it only; DNS-01 in the zone limited to the `_acme-challenge.` TXT records), the
apex/www records in `dnsZone` pointing at the stable address, and readiness checking HTTPS
with SNI = the domain on the host's own address before the address moves.
"""

from __future__ import annotations

import base64
import gzip
import json
import shlex

import yaml

from pulumi_mocks import DROPLET_IP, ELASTIC_IP, INSTANCE_IP, RESERVED_IP, Program
from launchpad.settings import validate
from stacks import aws as aws_stack
from stacks import digitalocean as do_stack

DOMAIN = "rocket.example.com"
TLS = {"launchpad:domain": DOMAIN, "launchpad:email": "ops@example.com"}
ZONE = {"launchpad:dnsZone": "example.com"}
AWS = {"launchpad:provider": "aws", "launchpad:region": "eu-west-1"}
DO = {"launchpad:provider": "digitalocean", "launchpad:region": "nyc3"}


def build(run, module, config: dict) -> Program:
    settings = validate(config, "test")
    return run(lambda: module.build(settings), stack="test")


def readiness_args(program: Program) -> list[str]:
    cmd = next(c for c in program.of_type("command:local:Command") if c.name.endswith("-healthz"))
    return shlex.split(cmd.inputs["create"])


def aws_files(program: Program) -> dict[str, str]:
    text = gzip.decompress(base64.b64decode(program.one("aws:ec2/instance:Instance").inputs["userDataBase64"])).decode()
    data = yaml.safe_load(text)
    return {"packages": data["packages"], **{f["path"]: f.get("content", "") for f in data["write_files"]}}


def certificate_policy(program: Program) -> dict:
    policy = next(p for p in program.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-certificate"))
    return json.loads(policy.inputs["policy"])


def test_aws_dns01_checks_https_with_sni_on_the_hosts_own_address_before_the_eip_moves(run) -> None:
    program = build(run, aws_stack, {**AWS, **TLS, **ZONE})
    args = readiness_args(program)
    assert f"https://{INSTANCE_IP}/" in args
    assert args[args.index("--sni") + 1] == DOMAIN and args[args.index("--tls") + 1] == "required"
    assert args[args.index("--host") + 1] == DOMAIN
    cmd = next(c for c in program.of_type("command:local:Command") if c.name.endswith("-healthz"))
    association = program.one("aws:ec2/eipAssociation:EipAssociation")
    assert program.depends_on(association, cmd)


def test_aws_without_a_zone_checks_https_whenever_the_host_holds_a_certificate(run) -> None:
    args = readiness_args(build(run, aws_stack, {**AWS, **TLS}))
    assert args[args.index("--tls") + 1] == "auto" and args[args.index("--sni") + 1] == DOMAIN


def test_aws_plain_http_stack_keeps_the_http_check(run) -> None:
    args = readiness_args(build(run, aws_stack, AWS))
    assert "--sni" not in args and any(a.startswith(f"http://{INSTANCE_IP}/") for a in args)


def test_aws_certificate_secret_only_the_host_writes_and_its_permission(run) -> None:
    program = build(run, aws_stack, {**AWS, **TLS, **ZONE})
    secret = next(s for s in program.of_type("aws:secretsmanager/secret:Secret") if s.name.endswith("-certificate"))
    assert secret.inputs["namePrefix"] == "launchpad/test/certificate-"
    assert not [v for v in program.of_type("aws:secretsmanager/secretVersion:SecretVersion") if "certificate" in v.name]
    statements = {s["Sid"]: s for s in certificate_policy(program)["Statement"]}
    assert statements["CertificateStore"]["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
    assert statements["CertificateStore"]["Resource"] == secret.state["arn"]
    records = statements["AcmeChallengeRecords"]
    assert records["Action"] == "route53:ChangeResourceRecordSets"
    assert records["Resource"] == "arn:aws:route53:::hostedzone/Z0MOCKZONE"
    assert records["Condition"] == {"ForAllValues:StringEquals": {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"_acme-challenge.{DOMAIN}", f"_acme-challenge.www.{DOMAIN}"],
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"]}}
    assert set(statements) == {"CertificateStore", "AcmeChallengeRecords", "AcmeChallengeReads"}
    assert statements["AcmeChallengeReads"]["Action"] == ["route53:ListHostedZones", "route53:GetChange"]


def test_aws_http01_stack_gets_no_route53_permission(run) -> None:
    statements = certificate_policy(build(run, aws_stack, {**AWS, **TLS}))["Statement"]
    assert [s["Sid"] for s in statements] == ["CertificateStore"]


def test_aws_host_is_told_the_store_and_waits_for_its_permission(run) -> None:
    program = build(run, aws_stack, {**AWS, **TLS, **ZONE})
    files = aws_files(program)
    secret = next(s for s in program.of_type("aws:secretsmanager/secret:Secret") if s.name.endswith("-certificate"))
    config = json.loads(files["/etc/launchpad/certificate.json"])
    assert config["store"] == {"kind": "aws-secretsmanager", "arn": secret.state["arn"], "region": "eu-west-1"}
    assert config["names"] == [DOMAIN, f"www.{DOMAIN}"]
    assert "certificates" not in json.loads(files["/etc/launchpad/agent.json"])
    assert "--dns-route53" in files["/usr/local/sbin/launchpad-certificate"]
    assert "python3-certbot-dns-route53" in files["packages"]
    policy = next(p for p in program.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-certificate"))
    assert program.depends_on(program.one("aws:ec2/instance:Instance"), policy)


def test_aws_zone_gets_apex_and_www_at_the_elastic_ip(run) -> None:
    program = build(run, aws_stack, {**AWS, **TLS, **ZONE})
    records = {r.inputs["name"]: r for r in program.of_type("aws:route53/record:Record")}
    assert set(records) == {DOMAIN, f"www.{DOMAIN}"}
    for record in records.values():
        assert (record.inputs["type"], record.inputs["records"], record.inputs["zoneId"]) == ("A", [ELASTIC_IP], "Z0MOCKZONE")
    assert ("aws:route53/getZone:getZone", {"name": "example.com", "privateZone": False}) in program.calls


def test_aws_without_a_zone_manages_no_records(run) -> None:
    assert not build(run, aws_stack, {**AWS, **TLS}).of_type("aws:route53/record:Record")


def test_digitalocean_zone_gets_apex_and_www_at_the_reserved_ip(run) -> None:
    program = build(run, do_stack, {**DO, **TLS, **ZONE})
    records = {r.inputs["name"]: r for r in program.of_type("digitalocean:index/dnsRecord:DnsRecord")}
    assert set(records) == {"rocket", "www.rocket"}
    for record in records.values():
        assert (record.inputs["domain"], record.inputs["type"], record.inputs["value"]) == ("example.com", "A", RESERVED_IP)
    args = readiness_args(program)
    # No DNS-01 on DigitalOcean yet (the API token would have to reach the droplet): HTTPS when it holds one.
    assert f"https://{DROPLET_IP}/" in args and args[args.index("--tls") + 1] == "auto"


def test_digitalocean_apex_zone_record_is_at(run) -> None:
    program = build(run, do_stack, {**DO, "launchpad:domain": "example.com", **ZONE})
    assert sorted(r.inputs["name"] for r in program.of_type("digitalocean:index/dnsRecord:DnsRecord")) == ["@", "www"]


def test_aws_tls_stack_passes_the_policy_pack_and_user_data_carries_no_secret(run) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy"))
    from launchpad_policies import check_resources
    from user_data_secrets import find_secrets

    program = build(run, aws_stack, {**AWS, **TLS, **ZONE, "launchpad:production": True})
    entries = [(r.type, r.name, r.inputs, r.id) for r in program.resources if r.custom]
    assert check_resources(entries, production=True) == []
    text = gzip.decompress(base64.b64decode(program.one("aws:ec2/instance:Instance").inputs["userDataBase64"])).decode()
    assert find_secrets(text) == []
    assert "PRIVATE KEY" not in text


def test_digitalocean_certificate_bucket_its_key_and_the_key_sealed_to_the_droplet(run) -> None:
    from pulumi_mocks import HOST_PRIVATE_KEY, HOST_PUBLIC_KEY, SPACES_ACCESS_KEY, SPACES_SECRET_KEY

    from launchpad.release.sealed import key_id, open_sealed

    program = build(run, do_stack, {**DO, **TLS, **ZONE})
    buckets = {b.name: b for b in program.of_type("digitalocean:index/spacesBucket:SpacesBucket")}
    certs = buckets["test-certificates"]
    assert certs.inputs["acl"] == "private"
    key = next(k for k in program.of_type("digitalocean:index/spacesKey:SpacesKey") if k.name.endswith("-certificates-rw"))
    assert key.inputs["grants"] == [{"bucket": certs.state["name"], "permission": "readwrite"}]
    # The release store's read key is not widened: still one read grant on the release bucket.
    read = next(k for k in program.of_type("digitalocean:index/spacesKey:SpacesKey") if k.name.endswith("-releases-read"))
    assert [g["permission"] for g in read.inputs["grants"]] == ["read"]
    kid = key_id(base64.b64decode(HOST_PUBLIC_KEY))
    sealed = next(o for o in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject")
                  if o.name.endswith("-certificate-key"))
    assert sealed.inputs["key"] == f"test/hosts/{kid}.certificates.sealed" and sealed.inputs["acl"] == "public-read"
    assert sealed.inputs["bucket"] != certs.state["name"]  # beside the other sealed host objects, in the release bucket
    opened = json.loads(open_sealed(HOST_PRIVATE_KEY, sealed.inputs["content"], f"test/hosts/{kid}.certificates".encode()))
    assert opened == {"access_key_id": SPACES_ACCESS_KEY, "secret_access_key": SPACES_SECRET_KEY}
    assert SPACES_SECRET_KEY not in sealed.inputs["content"]
    # The droplet is told where to look; its user-data carries no key.
    user_data = program.one("digitalocean:index/droplet:Droplet").inputs["userData"]
    config = json.loads(next(f["content"] for f in yaml.safe_load(user_data)["write_files"]
                             if f["path"] == "/etc/launchpad/certificate.json"))
    assert config["store"]["kind"] == "s3" and config["store"]["url"] == f"s3://{certs.state['name']}/test/{DOMAIN}.json"
    assert config["store"]["sealed"]["credentials"].endswith("/test/hosts/") and config["store"]["sealed"]["stack"] == "test"
    assert SPACES_SECRET_KEY not in user_data and SPACES_ACCESS_KEY not in user_data


def test_digitalocean_dns01_token_is_sealed_with_the_key_and_readiness_requires_https(run) -> None:
    from pulumi_mocks import HOST_PRIVATE_KEY, HOST_PUBLIC_KEY

    from launchpad.release.sealed import key_id, open_sealed

    token = "dop_v1_mocktoken0123456789"
    config = {**DO, **TLS, **ZONE, "launchpad:dnsToken": token}
    settings = validate(config, "test", frozenset({"launchpad:dnsToken"}))
    assert settings.dns01
    program = run(lambda: do_stack.build(settings), stack="test", config=config, secret_keys=["launchpad:dnsToken"])
    kid = key_id(base64.b64decode(HOST_PUBLIC_KEY))
    sealed = next(o for o in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject")
                  if o.name.endswith("-certificate-key"))
    opened = json.loads(open_sealed(HOST_PRIVATE_KEY, sealed.inputs["content"], f"test/hosts/{kid}.certificates".encode()))
    assert opened["dns_token"] == token
    assert token not in sealed.inputs["content"]
    user_data = program.one("digitalocean:index/droplet:Droplet").inputs["userData"]
    assert token not in user_data
    script = next(f["content"] for f in yaml.safe_load(user_data)["write_files"] if f["path"] == "/usr/local/sbin/launchpad-certificate")
    assert "--dns-digitalocean --dns-digitalocean-credentials /run/launchpad-agent/digitalocean-dns.ini" in script
    assert "python3-certbot-dns-digitalocean" in yaml.safe_load(user_data)["packages"]
    args = readiness_args(program)
    assert args[args.index("--tls") + 1] == "required"
