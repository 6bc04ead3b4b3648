"""stacks/aws.py under mocks: the whole AWS program, with and without a database, in production or not."""

from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path

import pytest

from pulumi_mocks import DB_PASSWORD, ELASTIC_IP, INSTANCE_IP, RDS_ADDRESS, SECRET_ARN, SSH_KEY, Program
from launchpad.settings import validate
from stacks import aws as aws_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy"))
from launchpad_policies import check_resources  # noqa: E402
from user_data_secrets import find_secrets  # noqa: E402

BASE = {"launchpad:provider": "aws", "launchpad:region": "eu-west-1"}
DB = {"launchpad:database": {"enabled": True, "version": "16", "backupRetentionDays": 10}}
SSH = {"launchpad:adminCidrs": ["203.0.113.7/32", "2001:db8::/64"], "launchpad:sshKeys": [SSH_KEY]}


def build(run, stack: str = "test", **config) -> Program:
    settings = validate({**BASE, **config}, stack)
    return run(lambda: aws_stack.build(settings), stack=stack)


def readiness(program: Program):
    return next(c for c in program.of_type("command:local:Command") if c.name.endswith("-healthz"))


def release_id(program: Program) -> str:
    manifest = next(o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name.endswith("-manifest"))
    return json.loads(manifest.inputs["content"])["id"]


def user_data(program: Program) -> str:
    encoded = program.one("aws:ec2/instance:Instance").inputs["userDataBase64"]
    return gzip.decompress(base64.b64decode(encoded)).decode()


def web_sg(program: Program):
    return next(r for r in program.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name.endswith("-web"))


@pytest.fixture(params=["plain", "database"])
def program(request, run) -> Program:
    return build(run, **(DB if request.param == "database" else {}))


def test_security_group_admits_only_web_from_the_world(program: Program) -> None:
    rules = web_sg(program).inputs["ingress"]
    assert sorted(r["fromPort"] for r in rules) == [80, 443]
    for rule in rules:
        assert rule["cidrBlocks"] == ["0.0.0.0/0"] and rule["ipv6CidrBlocks"] == ["::/0"]


def test_ssh_only_from_admin_cidrs(run) -> None:
    program = build(run, **SSH)
    [ssh] = [r for r in web_sg(program).inputs["ingress"] if r["fromPort"] == 22]
    assert ssh["cidrBlocks"] == ["203.0.113.7/32"] and ssh["ipv6CidrBlocks"] == ["2001:db8::/64"]
    assert program.outputs["ssh"] == f"ssh ops@{ELASTIC_IP}"


def test_instance_hardened_and_in_the_public_subnet(program: Program) -> None:
    instance = program.one("aws:ec2/instance:Instance").inputs
    assert instance["metadataOptions"]["httpTokens"] == "required"
    assert instance["rootBlockDevice"]["encrypted"] is True
    assert instance["userDataReplaceOnChange"] is True
    public = next(r for r in program.of_type("aws:ec2/subnet:Subnet") if r.name.endswith("-public"))
    assert instance["subnetId"] == public.id
    ssh_sg = next(r for r in program.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name.endswith("-ssh"))
    assert instance["vpcSecurityGroupIds"] == [web_sg(program).id, ssh_sg.id]  # web, and SSH from the EICE only
    assert user_data(program).startswith("#cloud-config")


def test_no_credentials_in_user_data(program: Program) -> None:
    text = user_data(program)
    assert DB_PASSWORD not in text
    assert find_secrets(text) == []


def test_without_database_no_rds_and_the_role_reads_only_releases_and_app_secrets(run) -> None:
    program = build(run)
    assert not program.of_type("aws:rds/instance:Instance")
    store_secret = program.one("aws:secretsmanager/secret:Secret").state["arn"]
    bucket = program.one("aws:s3/bucket:Bucket").state["arn"]
    policy = json.loads(program.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [store_secret]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": [f"{bucket}/test/*"]}]
    assert program.one("aws:ec2/instance:Instance").inputs["iamInstanceProfile"] == \
        program.one("aws:iam/instanceProfile:InstanceProfile").state["name"]
    assert "database_host" not in program.outputs
    assert "--database" not in readiness(program).inputs["create"]


def test_rds_private_encrypted_backed_up_password_managed(run) -> None:
    program = build(run, **DB)
    rds = program.one("aws:rds/instance:Instance").inputs
    assert rds["publiclyAccessible"] is False
    assert rds["storageEncrypted"] is True
    assert rds["backupRetentionPeriod"] == 10
    assert rds["manageMasterUserPassword"] is True and "password" not in rds
    private = sorted(r.id for r in program.of_type("aws:ec2/subnet:Subnet") if "-private-" in r.name)
    assert sorted(program.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]) == private
    assert program.outputs["database_host"] == RDS_ADDRESS


def test_postgres_only_from_the_web_security_group(run) -> None:
    program = build(run, **DB)
    db_sg = next(r for r in program.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name.endswith("-db"))
    [rule] = db_sg.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"]) == (5432, 5432)
    assert rule["securityGroups"] == [web_sg(program).id]
    assert not rule.get("cidrBlocks") and not rule.get("ipv6CidrBlocks")
    assert program.one("aws:rds/instance:Instance").inputs["vpcSecurityGroupIds"] == [db_sg.id]


def agent_json(text: str) -> dict:
    import yaml

    found = next(f for f in yaml.safe_load(text)["write_files"] if f["path"] == "/etc/launchpad/agent.json")
    content = found["content"]
    return json.loads(base64.b64decode(content) if found.get("encoding") == "b64" else content)


def test_the_agent_keeps_the_app_role_with_both_secrets_read_through_the_role(run) -> None:
    """Issue 12, item 2: no DATABASE_URL written once at boot with the master; the agent reads the
    RDS-managed master secret and the stack's app-password secret whenever it needs them."""
    program = build(run, **DB)
    policy = json.loads(program.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    arns = {r.name: r.state["arn"] for r in program.of_type("aws:secretsmanager/secret:Secret")}
    assert set(arns) == {"test-app-secrets", "test-app-credential"}
    assert policy["Statement"][0] == {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                      "Resource": [arns["test-app-secrets"], SECRET_ARN, arns["test-app-credential"]]}
    profile = program.one("aws:iam/instanceProfile:InstanceProfile")
    assert program.one("aws:ec2/instance:Instance").inputs["iamInstanceProfile"] == profile.state["name"]
    text = user_data(program)
    assert agent_json(text)["database"] == {
        "kind": "aws-secretsmanager", "master": SECRET_ARN, "app": arns["test-app-credential"], "region": "eu-west-1",
        "host": RDS_ADDRESS, "port": 5432, "dbname": "app", "role": "app_app", "sslmode": "require", "refresh_s": 300}
    assert "secretsmanager\")" not in text and "get_secret_value" not in text, "no boot-time read of the master"
    assert DB_PASSWORD not in text
    # The app role's password: generated by the stack, only in its Secrets Manager secret.
    version = next(v for v in program.of_type("aws:secretsmanager/secretVersion:SecretVersion")
                   if v.name == "test-app-credential")
    assert json.loads(version.inputs["secretString"]) == {"password": DB_PASSWORD} and "secretString" in version.secret_inputs
    generated = program.one("random:index/randomPassword:RandomPassword").inputs
    assert generated["length"] >= 32 and generated["special"] is False


def test_readiness_gates_the_elastic_ip(program: Program) -> None:
    instance = program.one("aws:ec2/instance:Instance")
    check = readiness(program)
    assoc = program.one("aws:ec2/eipAssociation:EipAssociation")
    assert program.depends_on(check, instance)
    assert program.depends_on(assoc, check)
    assert f"http://{INSTANCE_IP}/ " in check.inputs["create"] and f"--release {release_id(program)}" in check.inputs["create"]
    assert check.inputs["triggers"] == [instance.id, release_id(program)]
    pointer = next(o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name.endswith("-desired"))
    assert program.depends_on(check, pointer)
    assert assoc.inputs["instanceId"] == instance.id


def test_readiness_uses_the_apps_health_path(run) -> None:
    create = readiness(build(run, **DB, **{"launchpad:app": {"healthPath": "/healthz"}})).inputs["create"]
    assert f"http://{INSTANCE_IP}/healthz " in create and "--lenient" not in create


def test_nothing_is_deleted_before_its_replacement(program: Program) -> None:
    assert [r.name for r in program.resources if r.delete_before_replace] == []


def test_outputs(run) -> None:
    program = build(run)
    assert program.outputs == {
        "url": f"http://{ELASTIC_IP}/", "public_ip": ELASTIC_IP,
        "access": {"transport": "eice", "user": "ops", "region": "eu-west-1",
                   "hosts": [{"name": "web", "address": "10.0.0.10", "instance_id": "test-instance-id"}]},
        "operator_policy_arn": "arn:aws:iam::123456789012:policy/test-operator",
        # Where `launchpad releases|rollback` find the store; no credential in it.
        "release_store": {"store": f"s3://{program.one('aws:s3/bucket:Bucket').state['bucket']}/test", "region": "eu-west-1"}}
    tls = build(run, **{"launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com"})
    assert tls.outputs["url"] == "https://rocket.example.com/"
    assert "--host rocket.example.com" in readiness(tls).inputs["create"]


def test_not_production_nothing_protected(program: Program) -> None:
    assert [r.name for r in program.resources if r.protect] == []
    assert not any("launchpad:production" in (r.inputs.get("tags") or {}) for r in program.tagged())


def test_production_protects_the_database_and_tags_everything(run) -> None:
    program = build(run, stack="prod", **DB, **{"launchpad:production": True})
    rds = program.one("aws:rds/instance:Instance")
    assert [r.name for r in program.resources if r.protect] == [rds.name]
    assert rds.inputs["deletionProtection"] is True
    assert rds.inputs["skipFinalSnapshot"] is False
    assert rds.inputs["finalSnapshotIdentifier"] == "launchpad-prod-final"
    tagged = program.tagged()
    assert len(tagged) >= 10
    assert all(r.inputs["tags"].get("launchpad:production") == "true" for r in tagged)


def _policy_entries(program: Program):
    return [(r.type, r.name, r.inputs, r.id) for r in program.resources if r.custom]


@pytest.mark.parametrize("production", [False, True])
def test_policy_pack_passes(run, production: bool) -> None:
    config = {**DB, **SSH, "launchpad:production": production}
    program = build(run, stack="prod" if production else "test", **config)
    assert check_resources(_policy_entries(program), production=production) == []


def test_policy_pack_would_catch_a_regression(run) -> None:
    """The check above can fail: the same resources with IMDSv1 allowed are refused."""
    program = build(run)
    entries = _policy_entries(program)
    tampered = [(t, n, {**p, "metadataOptions": {"httpTokens": "optional"}} if t == "aws:ec2/instance:Instance" else p, i)
                for t, n, p, i in entries]
    assert [v.policy for v in check_resources(tampered)] == ["ec2-imdsv2-required"]


# Releases (issue 10): the app ships from the stack's S3 bucket, secrets from Secrets Manager.

def _with_app(run, app: Path, secret: str | None = None) -> Program:
    raw = {**BASE, "launchpad:app": {"path": str(app), **({"secrets": {"SECRET_KEY": secret}} if secret else {})}}
    settings = validate(raw, "test", frozenset({"launchpad:app"}) if secret else frozenset(),
                        frozenset({"app.secrets.SECRET_KEY"}) if secret else None)
    return run(lambda: aws_stack.build(settings), stack="test")


def test_user_data_names_bucket_and_secret_only(run, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "rocket.py").write_text("app = None  # MARKER-APP-BYTES\n")
    program = _with_app(run, app, secret="s3cr3t-aws-Qw7")
    text = user_data(program)
    assert "MARKER-APP-BYTES" not in text and "s3cr3t-aws-Qw7" not in text and "app.tar.gz" not in text
    bucket = program.one("aws:s3/bucket:Bucket").state["bucket"]
    secret_arn = program.one("aws:secretsmanager/secret:Secret").state["arn"]
    assert f"s3://{bucket}/test" in text and secret_arn in text and "aws-secretsmanager" in text
    assert find_secrets(text) == []
    version = program.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert json.loads(version.inputs["secretString"]) == {"SECRET_KEY": "s3cr3t-aws-Qw7"} and "secretString" in version.secret_inputs
    holders = [r.name for r in program.resources if "s3cr3t-aws-Qw7" in json.dumps(r.inputs, default=str)]
    assert holders == [version.name]


def test_an_app_change_replaces_no_host(run, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "rocket.py").write_text("app = 1\n")
    first = _with_app(run, app)
    (app / "rocket.py").write_text("app = 2\n")
    second = _with_app(run, app)
    for typ in ("aws:ec2/instance:Instance", "aws:iam/rolePolicy:RolePolicy", "aws:iam/instanceProfile:InstanceProfile",
                "aws:s3/bucket:Bucket", "aws:ec2/eipAssociation:EipAssociation"):
        assert first.one(typ).inputs == second.one(typ).inputs, typ
    assert release_id(first) != release_id(second)
    assert readiness(first).inputs["triggers"][1] != readiness(second).inputs["triggers"][1]


def test_the_host_waits_for_the_agent_object(run) -> None:
    program = build(run)
    agent = next(o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name.endswith("-agent"))
    assert program.depends_on(program.one("aws:ec2/instance:Instance"), agent)
