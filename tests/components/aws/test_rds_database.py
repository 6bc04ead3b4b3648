"""components/aws/rds_database.py: a private, encrypted, backed-up RDS whose password RDS keeps."""

from __future__ import annotations

import pytest

from components.aws.rds_database import RdsDatabase, RdsDatabaseArgs
from pulumi_mocks import SECRET_ARN


def _args(**changes) -> RdsDatabaseArgs:
    values = dict(vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"], client_security_group_id="sg-web",
                  version="16", instance_class="db.t4g.micro", storage_gb=20, backup_retention_days=7, name="app",
                  final_snapshot_identifier="launchpad-prod-final")
    values.update(changes)
    return RdsDatabaseArgs(**values)


def _db(run, **changes):
    out = {}

    def program() -> None:
        out["db"] = RdsDatabase("db", _args(**changes))
        out["db"].secret_arn.apply(lambda arn: out.__setitem__("arn", arn))
    program_result = run(program)
    return program_result, out


def test_private_encrypted_backed_up_password_managed_by_rds(run) -> None:
    program, out = _db(run, backup_retention_days=9)
    rds = program.one("aws:rds/instance:Instance").inputs
    assert rds["publiclyAccessible"] is False
    assert rds["storageEncrypted"] is True
    assert rds["backupRetentionPeriod"] == 9
    assert rds["manageMasterUserPassword"] is True
    assert "password" not in rds
    assert rds["engine"] == "postgres" and rds["engineVersion"] == "16"
    assert out["arn"] == SECRET_ARN


def test_in_the_private_subnets_behind_a_group_admitting_only_the_host(run) -> None:
    program, _ = _db(run)
    group = program.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    sg = program.one("aws:ec2/securityGroup:SecurityGroup")
    [rule] = sg.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (5432, 5432, "tcp")
    assert rule["securityGroups"] == ["sg-web"]
    assert not rule.get("cidrBlocks") and not rule.get("ipv6CidrBlocks")
    rds = program.one("aws:rds/instance:Instance").inputs
    assert rds["vpcSecurityGroupIds"] == [sg.id]
    assert rds["dbSubnetGroupName"] == group.state["name"]


def test_not_production_can_be_deleted(run) -> None:
    program, _ = _db(run)
    rds = program.one("aws:rds/instance:Instance")
    assert rds.protect is False
    assert rds.inputs["deletionProtection"] is False
    assert rds.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in rds.inputs


def test_production_is_protected_three_ways(run) -> None:
    program, _ = _db(run, production=True)
    rds = program.one("aws:rds/instance:Instance")
    assert rds.protect is True
    assert rds.inputs["deletionProtection"] is True
    assert rds.inputs["skipFinalSnapshot"] is False
    assert rds.inputs["finalSnapshotIdentifier"] == "launchpad-prod-final"
    assert not rds.delete_before_replace


@pytest.mark.parametrize("changes, message", [
    ({"subnet_ids": ["subnet-a"]}, "RDS needs two"),
    ({"backup_retention_days": 0}, "backup_retention_days is 0"),
    ({"production": True, "final_snapshot_identifier": None}, "needs final_snapshot_identifier"),
])
def test_bad_args_are_refused(run, changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        _db(run, **changes)
