"""The DigitalOcean database credentials sealed to the droplet (issue 12, items 3 and 4), under mocks.

DoDatabase's payload (the app's URL and the cluster admin's, private network, TLS required)
is sealed to the enrolled droplet's key in the release bucket; the droplet opens it with its
private key, nothing else in the program holds the admin password in plain text, and the
agent is told to expect a database. The grants and the write check the agent runs with it
are proven against a real PostgreSQL 15 in tests/agent/test_database.py.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest
import yaml

from launchpad.release.sealed import SealError, key_id, open_sealed
from launchpad.settings import validate
from pulumi_mocks import DB_PASSWORD, DO_DB_PRIVATE_HOST, HOST_PRIVATE_KEY, HOST_PUBLIC_KEY, SSH_KEY, Program
from stacks import digitalocean as do_stack

ADMIN_PASSWORD = "mock-admin-password"
KEY_ID = key_id(base64.b64decode(HOST_PUBLIC_KEY))
BASE = {"launchpad:provider": "digitalocean", "launchpad:region": "fra1", "launchpad:database": {"enabled": True}}
"""No adminCidrs: the credentials need no SSH (issue 12, item 4)."""


def build(run, **config) -> Program:
    settings = validate({**BASE, **config}, "test")
    return run(lambda: do_stack.build(settings), stack="test")


def sealed_object(program: Program):
    return next(r for r in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject")
                if r.name == "test-database")


def test_the_droplet_opens_the_app_and_admin_urls(run) -> None:
    program = build(run)
    obj = sealed_object(program)
    assert obj.inputs["acl"] == "private" and obj.inputs["key"] == f"test/database/{KEY_ID}.sealed"
    assert "content" in obj.secret_inputs
    payload = json.loads(open_sealed(HOST_PRIVATE_KEY, obj.inputs["content"], f"test/database/{KEY_ID}".encode()))
    assert payload["user"] == "app" and payload["database"] == "app"
    app, admin = urlsplit(payload["url"]), urlsplit(payload["admin_url"])
    assert (app.username, app.password, app.hostname, app.port, app.path) == ("app", DB_PASSWORD, DO_DB_PRIVATE_HOST, 25060, "/app")
    assert (admin.username, admin.password, admin.hostname, admin.path) == ("doadmin", ADMIN_PASSWORD, DO_DB_PRIVATE_HOST, "/app")
    assert app.query == admin.query == "sslmode=require"


def test_it_cannot_be_opened_as_anything_else(run) -> None:
    obj = sealed_object(build(run))
    with pytest.raises(SealError):
        open_sealed(HOST_PRIVATE_KEY, obj.inputs["content"], f"test/secrets/{KEY_ID}".encode())


def test_the_agent_expects_a_database_and_user_data_holds_no_credential(run) -> None:
    program = build(run)
    droplet = program.one("digitalocean:index/droplet:Droplet")
    text = droplet.inputs["userData"]
    files = {f["path"]: f["content"] for f in yaml.safe_load(text)["write_files"]}
    assert json.loads(files["/etc/launchpad/agent.json"])["database"] == {"kind": "spaces-sealed", "refresh_s": 300}
    assert ADMIN_PASSWORD not in text and DB_PASSWORD not in text
    # The admin password is nowhere in the program's inputs but sealed (and the cluster's own state).
    plain = json.dumps([r.inputs for r in program.resources if r.type != "digitalocean:index/databaseCluster:DatabaseCluster"],
                       default=str)
    assert ADMIN_PASSWORD not in plain


def test_without_a_database_nothing_is_sealed_or_expected(run) -> None:
    program = build(run, **{"launchpad:database": {"enabled": False}})
    assert not [r for r in program.resources if r.name == "test-database"]
    text = program.one("digitalocean:index/droplet:Droplet").inputs["userData"]
    files = {f["path"]: f["content"] for f in yaml.safe_load(text)["write_files"]}
    assert "database" not in json.loads(files["/etc/launchpad/agent.json"])


def test_behind_the_balancer_each_droplet_enrolls_and_gets_its_own_sealed_object(run) -> None:
    """Several droplets: each one's key read from the enrollment bucket under its droplet id (the enrollment
    MAC checked), never from its address; the credentials sealed to it; no remote command, no deploy key, no SSH rule."""
    program = build(run, **{"launchpad:hosts": 2})
    sealed = sorted(r.name for r in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject")
                    if r.name.endswith("-database"))
    assert sealed == ["test-0-database", "test-1-database"]
    enrolls = [c for c in program.of_type("command:local:Command") if c.name.endswith("-enroll-database")]
    assert len(enrolls) == 2 and all("launchpad.release.enroll s3://" in c.inputs["create"] for c in enrolls)
    assert not [c for c in enrolls if "http://" in c.inputs["create"]]
    assert not program.of_type("command:remote:Command") and not program.of_type("tls:index/privateKey:PrivateKey")
    for firewall in program.of_type("digitalocean:index/firewall:Firewall"):
        assert "22" not in {r.get("portRange") for r in firewall.inputs.get("inboundRules") or []}


def test_without_a_key_or_a_droplet_id_it_says_what_to_give(run) -> None:
    from components.digitalocean.database_delivery import DoDatabaseDelivery, DoDatabaseDeliveryArgs

    with pytest.raises(ValueError, match="host_key and host_id are both None; give the enrolled key, or the droplet's id"):
        DoDatabaseDelivery("x", DoDatabaseDeliveryArgs(store=None, payload={}))  # type: ignore[arg-type]
