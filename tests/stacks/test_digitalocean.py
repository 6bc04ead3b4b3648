"""stacks/digitalocean.py under mocks: the whole DigitalOcean program, with and without a database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from pulumi_mocks import (
    DB_PASSWORD, DEPLOY_PRIVATE_KEY, DO_DB_PRIVATE_HOST, DROPLET_IP, ENROLL_SPACES_ACCESS_KEY, ENROLL_SPACES_SECRET_KEY, RESERVED_IP,
    SSH_KEY, Program,
)
from launchpad.settings import validate
from stacks import digitalocean as do_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy"))
from launchpad_policies import check_resources  # noqa: E402
from user_data_secrets import find_secrets  # noqa: E402

BASE = {"launchpad:provider": "digitalocean", "launchpad:region": "fra1"}
SSH = {"launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": [SSH_KEY]}
DB = {"launchpad:database": {"enabled": True, "version": "16"}}
"""No adminCidrs, no sshKeys: a stack with a database deploys without any SSH (issue 12, item 4)."""
WORLD = ["0.0.0.0/0", "::/0"]
DROPLET = "digitalocean:index/droplet:Droplet"


def build(run, stack: str = "test", **config) -> Program:
    settings = validate({**BASE, **config}, stack)
    return run(lambda: do_stack.build(settings), stack=stack)


def readiness(program: Program):
    return next(c for c in program.of_type("command:local:Command") if c.name.endswith("-healthz"))


def release_id(program: Program) -> str:
    import json
    manifest = next(o for o in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject") if o.name.endswith("-manifest"))
    return json.loads(manifest.inputs["content"])["id"]


@pytest.fixture(params=["plain", "database"])
def program(request, run) -> Program:
    return build(run, **(DB if request.param == "database" else {}))


def test_droplet_is_debian_in_the_vpc_tagged_with_project_and_stack(program: Program) -> None:
    droplet = program.one(DROPLET).inputs
    assert droplet["image"] == "debian-12-x64"
    assert droplet["vpcUuid"] == program.one("digitalocean:index/vpc:Vpc").id
    assert {"launchpad", "launchpad-test"} <= set(droplet["tags"])
    assert droplet["region"] == "fra1"


def test_cloud_firewall_sources(run) -> None:
    for config, ssh in (({}, None), (SSH, ["203.0.113.7/32"])):
        program = build(run, **config)
        firewall = program.one("digitalocean:index/firewall:Firewall").inputs
        rules = {r.get("portRange"): r["sourceAddresses"] for r in firewall["inboundRules"] if r["protocol"] == "tcp"}
        assert rules.get("80") == WORLD and rules.get("443") == WORLD
        assert rules.get("22") == ssh
        assert set(rules) == ({"80", "443"} | ({"22"} if ssh else set()))
        assert firewall["tags"] == ["launchpad-test"]
        assert "launchpad-test" in program.one(DROPLET).inputs["tags"]


def test_ssh_keys_registered_and_on_the_droplet(run) -> None:
    program = build(run, **SSH)
    keys = program.of_type("digitalocean:index/sshKey:SshKey")
    assert [k.inputs["publicKey"] for k in keys] == [SSH_KEY]
    assert program.one(DROPLET).inputs["sshKeys"] == [k.state["fingerprint"] for k in keys]
    assert program.outputs["ssh"] == f"ssh ops@{RESERVED_IP}"


def test_no_credentials_in_user_data(program: Program) -> None:
    text = program.one(DROPLET).inputs["userData"]
    assert text.startswith("#cloud-config")
    assert DB_PASSWORD not in text and DO_DB_PRIVATE_HOST not in text and DEPLOY_PRIVATE_KEY.splitlines()[0] not in text
    assert find_secrets(text) == []


def test_database_cluster_in_the_vpc_trusting_only_the_droplet(run) -> None:
    program = build(run, **DB)
    cluster = program.one("digitalocean:index/databaseCluster:DatabaseCluster")
    assert cluster.inputs["privateNetworkUuid"] == program.one("digitalocean:index/vpc:Vpc").id
    assert cluster.inputs["engine"] == "pg" and cluster.inputs["version"] == "16"
    firewall = program.one("digitalocean:index/databaseFirewall:DatabaseFirewall")
    assert firewall.inputs["clusterId"] == cluster.id
    [rule] = firewall.inputs["rules"]
    assert rule["type"] == "tag"
    # The trusted tag is carried by the droplet and by nothing else in the stack.
    carriers = [r.type for r in program.resources if r.custom and rule["value"] in (r.inputs.get("tags") or [])
                and r.type != "digitalocean:index/firewall:Firewall"]
    assert carriers == [DROPLET]
    assert program.one("digitalocean:index/databaseDb:DatabaseDb").inputs["clusterId"] == cluster.id
    assert program.one("digitalocean:index/databaseUser:DatabaseUser").inputs["name"] == "app"
    assert program.outputs["database_host"] == DO_DB_PRIVATE_HOST


@pytest.mark.parametrize("config", [DB, {**DB, **SSH}], ids=["ssh closed", "ssh open"])
def test_database_credentials_reach_the_droplet_only_sealed_never_over_ssh(run, config: dict) -> None:
    """Issue 12, item 4: no remote command, no deploy key (nothing in state can log in), port 22
    only when adminCidrs asks for day-2 access, and the database URL only in the sealed object."""
    program = build(run, **config)
    assert not program.of_type("command:remote:Command")
    assert not program.of_type("tls:index/privateKey:PrivateKey")
    keys = program.of_type("digitalocean:index/sshKey:SshKey")
    assert [k.inputs["publicKey"] for k in keys] == ([SSH_KEY] if "launchpad:sshKeys" in config else [])
    droplet = program.one(DROPLET)
    assert droplet.inputs.get("sshKeys", []) == [k.state["fingerprint"] for k in keys]
    firewall = program.one("digitalocean:index/firewall:Firewall").inputs
    ports = {r.get("portRange") for r in firewall["inboundRules"] if r["protocol"] == "tcp"}
    assert ports == ({"80", "443", "22"} if "launchpad:adminCidrs" in config else {"80", "443"})
    # The URL is nowhere in the program's inputs but in the sealed object's (encrypted) content.
    objects = {r.name: r for r in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject")}
    sealed = objects["test-database"]
    assert sealed.inputs["acl"] == "private" and "content" in sealed.secret_inputs
    plain = json.dumps([r.inputs for r in program.resources], default=str)
    assert DB_PASSWORD not in plain and "postgresql://" not in plain
    assert json.loads(sealed.inputs["content"])["scheme"] == "x25519-hkdf-sha256-aes256gcm"
    # The first release waits for it: readiness after the sealed object.
    assert program.depends_on(readiness(program), sealed)


def test_readiness_gates_the_reserved_ip(program: Program) -> None:
    droplet = program.one(DROPLET)
    check = readiness(program)
    assignment = program.one("digitalocean:index/reservedIpAssignment:ReservedIpAssignment")
    assert program.depends_on(check, droplet)
    assert program.depends_on(assignment, check)
    # The sample stack sets no healthPath: GET / and any answer below 500, carrying the release's id.
    assert f"http://{DROPLET_IP}/ " in check.inputs["create"] and "--lenient" in check.inputs["create"]
    assert f"--release {release_id(program)}" in check.inputs["create"]
    assert check.inputs["triggers"] == [droplet.id, release_id(program)]
    assert assignment.inputs["dropletId"] == int(droplet.id)


def test_without_database_no_cluster_no_deploy_key(run) -> None:
    program = build(run)
    assert not program.of_type("digitalocean:index/databaseCluster:DatabaseCluster")
    assert not program.of_type("tls:index/privateKey:PrivateKey")
    assert not program.of_type("command:remote:Command")
    bucket = next(b for b in program.of_type("digitalocean:index/spacesBucket:SpacesBucket") if b.name == "test-releases").state["name"]
    assert program.outputs == {"url": f"http://{RESERVED_IP}/", "public_ip": RESERVED_IP, "release_store": {
        "store": f"s3://{bucket}/test", "region": "fra1", "endpoint": "https://fra1.digitaloceanspaces.com"}}


def test_nothing_is_deleted_before_its_replacement(program: Program) -> None:
    assert [r.name for r in program.resources if r.delete_before_replace] == []


def test_production_protects_the_database(run) -> None:
    program = build(run, stack="prod", **DB, **{"launchpad:production": True})
    protected = {r.type for r in program.resources if r.protect}
    assert protected == {"digitalocean:index/databaseCluster:DatabaseCluster", "digitalocean:index/databaseDb:DatabaseDb"}
    assert "launchpad:production" in program.one("digitalocean:index/databaseCluster:DatabaseCluster").inputs["tags"]
    assert not any(r.protect for r in build(run, **DB).resources)


def test_url_with_domain(run) -> None:
    program = build(run, **{"launchpad:domain": "rocket.example.com"})
    assert program.outputs["url"] == "http://rocket.example.com/"
    assert "--host rocket.example.com" in readiness(program).inputs["create"]


@pytest.mark.parametrize("config", [{}, SSH, DB])
def test_policy_pack_passes(run, config) -> None:
    program = build(run, **config)
    entries = [(r.type, r.name, r.inputs, r.id) for r in program.resources if r.custom]
    assert check_resources(entries) == []


def test_droplet_is_created_after_its_firewall(program: Program) -> None:
    assert program.depends_on(program.one(DROPLET), program.one("digitalocean:index/firewall:Firewall"))


# Releases (issue 10): the app ships from the stack's Spaces bucket, never in user-data.

def test_user_data_names_the_store_and_carries_no_app_or_secret(run, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "rocket.py").write_text("app = None  # MARKER-APP-BYTES\n")
    raw = {**BASE, "launchpad:app": {"path": str(app), "secrets": {"SECRET_KEY": "s3cr3t-do-Zx1"}}}
    settings = validate(raw, "test", frozenset({"launchpad:app"}), frozenset({"app.secrets.SECRET_KEY"}))
    program = run(lambda: do_stack.build(settings), stack="test")
    text = program.one(DROPLET).inputs["userData"]
    assert "MARKER-APP-BYTES" not in text and "s3cr3t-do-Zx1" not in text and "app.tar.gz" not in text
    bucket = next(b for b in program.of_type("digitalocean:index/spacesBucket:SpacesBucket") if b.name == "test-releases").state["name"]
    assert f"s3://{bucket}/test" in text and "spaces-sealed" in text
    assert "userData" in program.one(DROPLET).secret_inputs, "user-data holds the enrollment value: secret in state"
    assert find_secrets(text) == []
    # The secret exists only sealed, in the bucket.
    everything = str([r.inputs for r in program.resources])
    assert "s3cr3t-do-Zx1" not in everything


def test_an_app_change_changes_no_droplet_input(run, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "rocket.py").write_text("app = 1\n")
    first = build(run, **{"launchpad:app": {"path": str(app)}})
    (app / "rocket.py").write_text("app = 2\n")
    second = build(run, **{"launchpad:app": {"path": str(app)}})
    assert first.one(DROPLET).inputs == second.one(DROPLET).inputs
    assert release_id(first) != release_id(second)
    assert readiness(first).inputs["triggers"][1] != readiness(second).inputs["triggers"][1]


@pytest.mark.parametrize("config", [{}, DB, {**DB, **SSH}], ids=["plain", "database", "database + ssh"])
def test_enrollment_needs_no_way_into_the_droplet(run, config: dict) -> None:
    """Every command that learns a droplet's keys (sealing key, SSH host key) reads the stack's enrollment
    bucket by droplet id (components/digitalocean/enroll_bucket.py); none is given the droplet's address."""
    program = build(run, **config)
    droplet = program.one(DROPLET)
    enrolls = [c for c in program.of_type("command:local:Command")
               if "launchpad.release.enroll" in c.inputs["create"] or "launchpad.ops.host_key" in c.inputs["create"]]
    assert enrolls and all(f" s3://test-releases-a1b2c3d-enroll/test/enroll {droplet.id} " in c.inputs["create"] for c in enrolls)
    assert not [c for c in enrolls if DROPLET_IP in c.inputs["create"] or "http://" in c.inputs["create"]]
    agent = json.loads({f["path"]: f["content"] for f in yaml.safe_load(droplet.inputs["userData"])["write_files"]}
                       ["/etc/launchpad/agent.json"])
    assert agent["secrets"]["enrollment"] == {"store": "s3://test-releases-a1b2c3d-enroll/test/enroll",
                                              "enrollment_key_id": ENROLL_SPACES_ACCESS_KEY,
                                              "enrollment_key_secret": ENROLL_SPACES_SECRET_KEY}
    # Nginx no longer serves the host-key document: nothing reads the droplet's port 80 for it.
    assert "/.well-known/launchpad/host-key" not in droplet.inputs["userData"]
