"""components/digitalocean/database.py: the managed cluster, its firewall, database and user."""

from __future__ import annotations

import pulumi

from components.digitalocean.database import DoDatabase, DoDatabaseArgs
from pulumi_mocks import DB_PASSWORD, DO_DB_PRIVATE_HOST


def _db(run, production=False):
    out: dict = {}

    def program() -> None:
        db = DoDatabase("db", DoDatabaseArgs(region="fra1", vpc_id="vpc-uuid", client_tag="launchpad-t", version="16",
                                             size="db-s-1vcpu-1gb", name="app", production=production, tags=["launchpad"]))
        db.private_host.apply(lambda h: out.__setitem__("host", h))
        db.password.apply(lambda p: out.__setitem__("password", p))
        # What carries the password on must carry it as a secret.
        pulumi.CustomResource("test:index:Consumer", "consumer", {"password": db.password})
    result = run(program)
    return result, out


def test_cluster_in_the_vpc_firewalled_to_the_host_tag_only(run) -> None:
    program, out = _db(run)
    cluster = program.one("digitalocean:index/databaseCluster:DatabaseCluster")
    assert cluster.inputs["engine"] == "pg" and cluster.inputs["version"] == "16"
    assert cluster.inputs["privateNetworkUuid"] == "vpc-uuid"
    firewall = program.one("digitalocean:index/databaseFirewall:DatabaseFirewall")
    assert firewall.inputs["clusterId"] == cluster.id
    assert firewall.inputs["rules"] == [{"type": "tag", "value": "launchpad-t"}]
    assert out["host"] == DO_DB_PRIVATE_HOST


def test_database_and_user_created_password_kept_secret(run) -> None:
    program, out = _db(run)
    assert program.one("digitalocean:index/databaseDb:DatabaseDb").inputs["name"] == "app"
    assert program.one("digitalocean:index/databaseUser:DatabaseUser").inputs["name"] == "app"
    assert out["password"] == DB_PASSWORD
    assert "password" in program.one("test:index:Consumer").secret_inputs


def test_production_protects_cluster_and_data(run) -> None:
    program, _ = _db(run, production=True)
    assert program.one("digitalocean:index/databaseCluster:DatabaseCluster").protect is True
    assert program.one("digitalocean:index/databaseDb:DatabaseDb").protect is True
    program, _ = _db(run, production=False)
    assert not any(r.protect for r in program.resources)
