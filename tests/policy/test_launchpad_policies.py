"""Each policy of policy/launchpad_policies/ passes good resources and fires on bad ones, with its message."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

import launchpad_policies as lp
from launchpad_policies import Violation, check_resources

ADMIN_CIDR = "203.0.113.7/32"

BENIGN_USER_DATA = """#cloud-config
users:
  - name: deploy
    lock_passwd: true
    hashed_passwd: $6$rounds=4096$saltsalt$abcdefghijklmnop
    ssh_authorized_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk4cW5rZ0bWFpbCBleGFtcGxl deploy@example
ssh_pwauth: false
chpasswd: { expire: false }
write_files:
  - path: /etc/launchpad/app.env
    content: |
      DATABASE_PASSWORD_FILE=/run/credentials/app.service/db-password
      TOKEN_FILE=/run/credentials/app.service/token
      DATABASE_URL=postgresql://app:${DB_PASSWORD}@db.internal:5432/app
      SECRET_KEY=
  - path: /opt/app/settings.py
    content: |
      SECRET_KEY = os.environ["SECRET_KEY"]
      password = open("/run/credentials/app.service/db-password").read().strip()
      if password == "":
          raise SystemExit("no password")
runcmd:
  - export PGPASSWORD="$(cat /etc/launchpad/db-password)"
  - read -r DIGITALOCEAN_TOKEN < /root/.do-token
  - psql -c "ALTER ROLE app PASSWORD '$DB_PASSWORD'"
  - echo "sha1 0123456789abcdef0123456789abcdef01234567"
  - curl -fsS https://example.com/healthz
"""


# --- good resources ---------------------------------------------------------------------------------


def ec2_instance(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "ami": "ami-0123456789abcdef0",
        "instanceType": "t3.micro",
        "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
        "rootBlockDevice": {"encrypted": True, "volumeSize": 8.0},
        "ebsBlockDevices": [{"deviceName": "/dev/sdb", "encrypted": True}],
        "userData": BENIGN_USER_DATA,
    }
    props.update(changes)
    return props


def security_group(*ingress: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "web",
        "ingress": list(ingress) or [
            {"protocol": "tcp", "fromPort": 80.0, "toPort": 80.0, "cidrBlocks": ["0.0.0.0/0"],
             "ipv6CidrBlocks": ["::/0"]},
            {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]},
            {"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": [ADMIN_CIDR]},
            {"protocol": "icmp", "fromPort": -1.0, "toPort": -1.0, "cidrBlocks": ["0.0.0.0/0"]},
        ],
        "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}],
    }


def rds_instance(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "engine": "postgres",
        "instanceClass": "db.t4g.micro",
        "allocatedStorage": 20.0,
        "publiclyAccessible": False,
        "storageEncrypted": True,
        "backupRetentionPeriod": 7.0,
        "deletionProtection": True,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": "app-final",
    }
    props.update(changes)
    return props


def droplet(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "image": "debian-12-x64", "size": "s-1vcpu-1gb", "region": "fra1",
        "sshKeys": ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"],
        "tags": ["launchpad-web"], "userData": BENIGN_USER_DATA,
    }
    props.update(changes)
    return props


def do_firewall(droplet_ids: list[float] | None = None, tags: list[str] | None = None,
                *inbound: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "inboundRules": list(inbound) or [
            {"protocol": "tcp", "portRange": "80", "sourceAddresses": ["0.0.0.0/0", "::/0"]},
            {"protocol": "tcp", "portRange": "443", "sourceAddresses": ["0.0.0.0/0", "::/0"]},
            {"protocol": "tcp", "portRange": "22", "sourceAddresses": [ADMIN_CIDR]},
            {"protocol": "icmp", "sourceAddresses": ["0.0.0.0/0", "::/0"]},
        ],
        "outboundRules": [{"protocol": "tcp", "portRange": "1-65535", "destinationAddresses": ["0.0.0.0/0"]}],
    }
    if droplet_ids is not None:
        props["dropletIds"] = droplet_ids
    if tags is not None:
        props["tags"] = tags
    return props


def launch_template(**changes: Any) -> dict[str, Any]:
    """As components/aws/fleet.py makes it: the provider types ebs.encrypted as a string."""
    props: dict[str, Any] = {
        "userData": base64.b64encode(BENIGN_USER_DATA.encode()).decode(),
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1.0},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3"}}],
    }
    props.update(changes)
    return {k: v for k, v in props.items() if v is not None}


def aws_stack() -> list[lp.ResourceEntry]:
    return [
        (lp.EC2_INSTANCE, "web", ec2_instance()),
        (lp.EC2_INSTANCE, "web-no-imds", ec2_instance(metadataOptions={"httpEndpoint": "disabled"})),
        (lp.EBS_VOLUME, "data", {"availabilityZone": "eu-central-1a", "size": 10.0, "encrypted": True}),
        (lp.SECURITY_GROUP, "web-sg", security_group()),
        (lp.SECURITY_GROUP_INGRESS_RULE, "https-v6", {
            "securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0,
            "cidrIpv6": "::/0"}),
        (lp.SECURITY_GROUP_INGRESS_RULE, "db-from-app", {
            "securityGroupId": "sg-2", "ipProtocol": "-1", "referencedSecurityGroupId": "sg-1"}),
        (lp.SECURITY_GROUP_RULE, "egress-all", {
            "type": "egress", "protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"],
            "securityGroupId": "sg-1"}),
        (lp.SECURITY_GROUP_RULE, "ssh-admin", {
            "type": "ingress", "protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": [ADMIN_CIDR],
            "securityGroupId": "sg-1"}),
        (lp.RDS_INSTANCE, "db", rds_instance()),
        (lp.EC2_LAUNCH_TEMPLATE, "lt", launch_template()),
        (lp.EC2_LAUNCH_TEMPLATE, "lt-no-imds", launch_template(metadataOptions={"httpEndpoint": "disabled"},
                                                               blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {
                                                                   "encrypted": True}}, {"deviceName": "/dev/sdb",
                                                                                         "virtualName": "ephemeral0"}])),
    ]


def do_stack() -> list[lp.ResourceEntry]:
    return [
        (lp.DROPLET, "web", droplet(), "1001"),
        # No SSH keys, but its only firewall (by tag) admits no SSH: nothing to log in to.
        (lp.DROPLET, "worker", droplet(sshKeys=[], tags=["launchpad-worker"]), "1002"),
        (lp.DO_FIREWALL, "web-fw", do_firewall([1001.0])),
        (lp.DO_FIREWALL, "worker-fw", do_firewall(None, ["launchpad-worker"], {
            "protocol": "tcp", "portRange": "443", "sourceAddresses": ["0.0.0.0/0"]})),
        (lp.DO_DATABASE_CLUSTER, "db", {"engine": "pg", "version": "16", "nodeCount": 1.0}, "db-uuid"),
        (lp.DO_DATABASE_FIREWALL, "db-fw", {"clusterId": "db-uuid", "rules": [
            {"type": "droplet", "value": "1001"},
            {"type": "tag", "value": "launchpad-worker"},
            {"type": "ip_addr", "value": "203.0.113.7"},
        ]}),
    ]


@pytest.mark.parametrize("production", [False, True])
@pytest.mark.parametrize("stack", [aws_stack, do_stack], ids=["aws", "digitalocean"])
def test_good_stacks_pass_every_policy(stack: Callable[[], list[lp.ResourceEntry]], production: bool) -> None:
    assert check_resources(stack(), production=production) == []


def test_non_production_database_may_skip_protection() -> None:
    relaxed = rds_instance(deletionProtection=False, skipFinalSnapshot=True)
    assert check_resources([(lp.RDS_INSTANCE, "db", relaxed)], production=False) == []


# --- bad resources: each rule fires with its message ------------------------------------------------


def gzip_base64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode())).decode()


WORLD_SSH = {"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}
DO_TOKEN = "dop_v1_" + "0123456789abcdef" * 4
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"

Expected = list[tuple[str, str]]
"""(policy name, fragment of the message) for every violation the case must produce, and no other."""

BAD_CASES: list[tuple[str, list[lp.ResourceEntry], bool, Expected]] = [
    ("imds-optional", [(lp.EC2_INSTANCE, "web", ec2_instance(metadataOptions={"httpTokens": "optional"}))], False,
     [("ec2-imdsv2-required", "metadataOptions.httpTokens is 'optional'; set it to 'required'")]),
    ("imds-unset", [(lp.EC2_INSTANCE, "web", ec2_instance(metadataOptions=None))], False,
     [("ec2-imdsv2-required", "metadataOptions.httpTokens is not set")]),
    ("root-unencrypted", [(lp.EC2_INSTANCE, "web", ec2_instance(rootBlockDevice={"encrypted": False}))], False,
     [("ebs-encrypted", "rootBlockDevice.encrypted is False; set it to True (CKV_AWS_8)")]),
    ("root-unset", [(lp.EC2_INSTANCE, "web", ec2_instance(rootBlockDevice=None))], False,
     [("ebs-encrypted", "rootBlockDevice is not set")]),
    ("ebs-device-unencrypted", [(lp.EC2_INSTANCE, "web", ec2_instance(ebsBlockDevices=[
        {"deviceName": "/dev/sdb", "encrypted": True}, {"deviceName": "/dev/sdc"}]))], False,
     [("ebs-encrypted", "ebsBlockDevices[1] (/dev/sdc) encrypted is not set")]),
    ("launch-template-imds-optional", [(lp.EC2_LAUNCH_TEMPLATE, "lt", launch_template(metadataOptions={
        "httpEndpoint": "enabled", "httpTokens": "optional"}))], False,
     [("launch-template-imdsv2-required", "metadataOptions.httpTokens is 'optional'; set it to 'required'")]),
    ("launch-template-imds-unset", [(lp.EC2_LAUNCH_TEMPLATE, "lt", launch_template(metadataOptions=None))], False,
     [("launch-template-imdsv2-required", "metadataOptions.httpTokens is not set")]),
    ("launch-template-root-unencrypted", [(lp.EC2_LAUNCH_TEMPLATE, "lt", launch_template(blockDeviceMappings=[
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "false", "volumeType": "gp3"}}]))], False,
     [("launch-template-encrypted-root", "blockDeviceMappings[0] (/dev/xvda) ebs.encrypted is 'false'")]),
    ("launch-template-data-volume-unencrypted", [(lp.EC2_LAUNCH_TEMPLATE, "lt", launch_template(blockDeviceMappings=[
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}, {"deviceName": "/dev/sdf", "ebs": {"volumeSize": 50.0}}]))],
     False, [("launch-template-encrypted-root", "blockDeviceMappings[1] (/dev/sdf) ebs.encrypted is not set")]),
    ("launch-template-no-volume", [(lp.EC2_LAUNCH_TEMPLATE, "lt", launch_template(blockDeviceMappings=None))], False,
     [("launch-template-encrypted-root", "maps no EBS volume, so the instances' root volume is encrypted only if")]),
    ("ebs-volume-unencrypted", [(lp.EBS_VOLUME, "data", {"size": 10.0, "encrypted": False})], False,
     [("ebs-encrypted", "encrypted is False; set encrypted=True (CKV_AWS_8)")]),
    ("sg-ssh-world", [(lp.SECURITY_GROUP, "sg", security_group(WORLD_SSH))], False,
     [("ssh-not-open-to-world", "ingress[0] admits tcp 22 from 0.0.0.0/0, which includes SSH (22)"),
      ("world-open-only-web", "ingress[0] admits tcp 22 from 0.0.0.0/0")]),
    ("sg-range-covering-ssh-v6", [(lp.SECURITY_GROUP, "sg", security_group(
        {"protocol": "tcp", "fromPort": 0.0, "toPort": 65535.0, "ipv6CidrBlocks": ["::/0"]}))], False,
     [("ssh-not-open-to-world", "ingress[0] admits tcp 0-65535 from ::/0, which includes SSH (22)"),
      ("world-open-only-web", "ingress[0] admits tcp 0-65535 from ::/0")]),
    ("sg-all-traffic", [(lp.SECURITY_GROUP, "sg", security_group(
        {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}))], False,
     [("ssh-not-open-to-world", "ingress[0] admits all traffic from 0.0.0.0/0"),
      ("world-open-only-web", "ingress[0] admits all traffic from 0.0.0.0/0")]),
    ("sg-8080-world", [(lp.SECURITY_GROUP, "sg", security_group(
        {"protocol": "tcp", "fromPort": 8080.0, "toPort": 8080.0, "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]}))],
     False, [("world-open-only-web", "ingress[0] admits tcp 8080 from 0.0.0.0/0; from the whole internet only")]),
    ("sg-80-to-443-range", [(lp.SECURITY_GROUP, "sg", security_group(
        {"protocol": "tcp", "fromPort": 80.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]}))],
     False, [("world-open-only-web", "admits tcp 80-443 from 0.0.0.0/0")]),
    ("vpc-ingress-rule-ssh", [(lp.SECURITY_GROUP_INGRESS_RULE, "ssh", {
        "securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 22.0, "toPort": 22.0,
        "cidrIpv4": "0.0.0.0/0"})], False,
     [("ssh-not-open-to-world", "the rule admits tcp 22 from 0.0.0.0/0"),
      ("world-open-only-web", "the rule admits tcp 22 from 0.0.0.0/0")]),
    ("sg-rule-postgres-world", [(lp.SECURITY_GROUP_RULE, "pg", {
        "type": "ingress", "protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrBlocks": ["0.0.0.0/0"],
        "securityGroupId": "sg-1"})], False,
     [("world-open-only-web", "the rule admits tcp 5432 from 0.0.0.0/0")]),
    ("do-firewall-ssh-world", [
        (lp.DROPLET, "web", droplet(), "1"),
        (lp.DO_FIREWALL, "fw", do_firewall([1.0], None, {
            "protocol": "tcp", "portRange": "22", "sourceAddresses": ["0.0.0.0/0", "::/0"]}))], False,
     [("ssh-not-open-to-world", "inboundRules[0] admits tcp 22 from 0.0.0.0/0, ::/0, which includes SSH (22)"),
      ("world-open-only-web", "inboundRules[0] admits tcp 22 from 0.0.0.0/0, ::/0")]),
    ("do-firewall-udp-all-ports", [
        (lp.DROPLET, "web", droplet(), "1"),
        (lp.DO_FIREWALL, "fw", do_firewall([1.0], None, {
            "protocol": "udp", "portRange": "1-65535", "sourceAddresses": ["0.0.0.0/0"]}))], False,
     [("world-open-only-web", "inboundRules[0] admits udp 1-65535 from 0.0.0.0/0")]),
    ("rds-public", [(lp.RDS_INSTANCE, "db", rds_instance(publiclyAccessible=True))], False,
     [("rds-not-public", "publiclyAccessible is True; set it to False")]),
    ("rds-unencrypted", [(lp.RDS_INSTANCE, "db", rds_instance(storageEncrypted=False))], False,
     [("rds-storage-encrypted", "storageEncrypted is False; set storageEncrypted=True (CKV_AWS_16)")]),
    ("rds-backup-short", [(lp.RDS_INSTANCE, "db", rds_instance(backupRetentionPeriod=1.0))], False,
     [("rds-backup-retention", "backupRetentionPeriod is 1.0; keep backups for 7 to 35 days")]),
    ("rds-backup-unset", [(lp.RDS_INSTANCE, "db", rds_instance(backupRetentionPeriod=None))], False,
     [("rds-backup-retention", "backupRetentionPeriod is not set")]),
    ("rds-production-by-config", [(lp.RDS_INSTANCE, "db", rds_instance(
        deletionProtection=None, skipFinalSnapshot=True))], True,
     [("rds-production-protection", "production database: deletionProtection is not set"),
      ("rds-production-protection", "production database: skipFinalSnapshot is True")]),
    ("rds-production-by-tag", [(lp.RDS_INSTANCE, "db", rds_instance(
        deletionProtection=False, tags={lp.PRODUCTION_TAG: "true"}))], False,
     [("rds-production-protection", "production database: deletionProtection is False")]),
    ("ec2-user-data-pgpassword", [(lp.EC2_INSTANCE, "web", ec2_instance(
        userData="#cloud-config\nruncmd:\n  - export PGPASSWORD=hunter2\n"))], False,
     [("no-secrets-in-user-data", "userData line 3 assigns a literal value to PGPASSWORD")]),
    ("ec2-user-data-base64-gzip-url", [(lp.EC2_INSTANCE, "web", ec2_instance(userData=None, userDataBase64=gzip_base64(
        "#!/bin/sh\necho ok\nDATABASE_URL=postgres://app:s3cret@db:5432/app\n")))], False,
     [("no-secrets-in-user-data", "userDataBase64 line 3 contains credentials in a postgres:// URL")]),
    ("ec2-user-data-base64-invalid", [(lp.EC2_INSTANCE, "web", ec2_instance(
        userData=None, userDataBase64="not base64!"))], False,
     [("no-secrets-in-user-data", "userDataBase64 is not valid base64")]),
    ("launch-template-aws-key", [(lp.EC2_LAUNCH_TEMPLATE, "lt", launch_template(userData=base64.b64encode(
        b"#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n").decode()))], False,
     [("no-secrets-in-user-data", "userData line 2 contains an AWS access key id")]),
    ("droplet-user-data-do-token", [
        (lp.DROPLET, "web", droplet(userData=f"#!/bin/sh\nexport DIGITALOCEAN_TOKEN={DO_TOKEN}\n"), "1"),
        (lp.DO_FIREWALL, "fw", do_firewall([1.0]))], False,
     [("no-secrets-in-user-data", "userData line 2 contains a DigitalOcean API token")]),
    ("droplet-user-data-private-key", [
        (lp.DROPLET, "web", droplet(userData="#cloud-config\nwrite_files:\n  - content: |\n" + PEM), "1"),
        (lp.DO_FIREWALL, "fw", do_firewall([1.0]))], False,
     [("no-secrets-in-user-data", "userData line 4 contains a private key (PEM block)")]),
    ("droplet-without-firewall", [
        (lp.DROPLET, "web", droplet(), "1"),
        (lp.DO_FIREWALL, "fw", do_firewall([2.0], ["other"]))], False,
     [("droplet-behind-firewall", "droplet 'web' is not covered by any digitalocean.Firewall")]),
    ("droplet-ssh-open-without-keys", [
        (lp.DROPLET, "web", droplet(sshKeys=None), "1"),
        (lp.DO_FIREWALL, "fw", do_firewall([1.0]))], False,
     [("droplet-ssh-keys", "droplet 'web' has no sshKeys but firewall 'fw' admits SSH (22)")]),
    ("droplet-unfirewalled-without-keys", [(lp.DROPLET, "web", droplet(sshKeys=[]), "1")], False,
     [("droplet-behind-firewall", "droplet 'web' is not covered"),
      ("droplet-ssh-keys", "droplet 'web' has no sshKeys but no firewall covers it")]),
    ("database-cluster-without-firewall", [
        (lp.DO_DATABASE_CLUSTER, "db", {"engine": "pg"}, "db-uuid"),
        (lp.DO_DATABASE_CLUSTER, "cache", {"engine": "valkey"}, "cache-uuid"),
        (lp.DO_DATABASE_FIREWALL, "db-fw", {"clusterId": "db-uuid", "rules": [{"type": "tag", "value": "web"}]})],
     False, [("database-cluster-firewalled", "database cluster 'cache' has no digitalocean.DatabaseFirewall")]),
    ("database-firewall-world", [
        (lp.DO_DATABASE_CLUSTER, "db", {"engine": "pg"}, "db-uuid"),
        (lp.DO_DATABASE_FIREWALL, "db-fw", {"clusterId": "db-uuid", "rules": [
            {"type": "ip_addr", "value": "0.0.0.0/0"}]})], False,
     [("database-firewall-restricted", "rules[0] admits ip_addr '0.0.0.0/0' (the whole internet)")]),
    ("database-firewall-network", [
        (lp.DO_DATABASE_CLUSTER, "db", {"engine": "pg"}, "db-uuid"),
        (lp.DO_DATABASE_FIREWALL, "db-fw", {"clusterId": "db-uuid", "rules": [
            {"type": "droplet", "value": "1"}, {"type": "ip_addr", "value": "198.51.100.0/24"}]})], False,
     [("database-firewall-restricted", "rules[1] admits ip_addr '198.51.100.0/24' (256 addresses)")]),
    ("database-firewall-k8s", [
        (lp.DO_DATABASE_CLUSTER, "db", {"engine": "pg"}, "db-uuid"),
        (lp.DO_DATABASE_FIREWALL, "db-fw", {"clusterId": "db-uuid", "rules": [{"type": "k8s", "value": "k-1"}]})],
     False, [("database-firewall-restricted", "rules[0] has type 'k8s'; use one of droplet, tag, ip_addr")]),
    ("heroku-secret-config-var", [("heroku:app/app:App", "app", {"region": "us", "configVars": {"SECRET_KEY": "dev"}})],
     False, [("no-secrets-in-heroku-config-vars", "configVars.SECRET_KEY: its name (SECRET) marks a credential")]),
]


@pytest.mark.parametrize(("resources", "production", "expected"),
                         [case[1:] for case in BAD_CASES], ids=[case[0] for case in BAD_CASES])
def test_bad_resources_fire_their_rule(resources: list[lp.ResourceEntry], production: bool,
                                       expected: Expected) -> None:
    violations = check_resources(resources, production=production)
    unmatched = list(violations)
    for policy, fragment in expected:
        match = next((v for v in unmatched if v.policy == policy and fragment in v.message), None)
        assert match is not None, f"no {policy} violation containing {fragment!r} in {violations}"
        assert match.level == "mandatory"
        unmatched.remove(match)
    assert unmatched == [], f"unexpected violations: {unmatched}"


def test_every_policy_has_a_bad_case_and_is_mandatory() -> None:
    fired = {policy for case in BAD_CASES for policy, _ in case[3]}
    assert {p.name for p in lp.POLICIES} == fired
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in lp.POLICIES)


def test_violation_names_the_resource() -> None:
    resources: list[lp.ResourceEntry] = [
        (lp.DROPLET, "web", droplet(), "1"), (lp.RDS_INSTANCE, "db", rds_instance(publiclyAccessible=True))]
    assert {(v.policy, v.resource) for v in check_resources(resources)} == {
        ("droplet-behind-firewall", "web"), ("rds-not-public", "db")}


# --- correlation when ids are not known yet (preview) -----------------------------------------------


def test_firewall_with_unknown_droplet_ids_is_not_reported_as_missing() -> None:
    from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE

    resources: list[lp.ResourceEntry] = [
        (lp.DROPLET, "web", droplet(tags=[])),
        (lp.DO_FIREWALL, "fw", do_firewall(None, None) | {"dropletIds": UNKNOWN_ARRAY_VALUE}),
    ]
    assert check_resources(resources) == []


def test_unknown_user_data_is_advisory_not_a_violation() -> None:
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    violations = check_resources([(lp.EC2_INSTANCE, "web", ec2_instance(userData=UNKNOWN_STRING_VALUE))])
    assert violations == [Violation(
        "no-secrets-in-user-data", "web", "can't run during preview: string value at .userData can't be known "
        "during preview", level="advisory")]
