"""components/aws/host_role.py: the host may read its secret, and nothing else."""

from __future__ import annotations

import json

import pytest

from components.aws.host_role import AwsHostRole, AwsHostRoleArgs

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1"


def test_only_get_secret_value_on_the_given_secret(run) -> None:
    program = run(lambda: AwsHostRole("web", AwsHostRoleArgs(secret_arns=[ARN])))
    policy = json.loads(program.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"] == [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [ARN]}]
    assume = json.loads(program.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in assume["Statement"]] == [{"Service": "ec2.amazonaws.com"}]
    assert not program.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_profile_waits_for_the_permission(run) -> None:
    program = run(lambda: AwsHostRole("web", AwsHostRoleArgs(secret_arns=[ARN])))
    profile = program.one("aws:iam/instanceProfile:InstanceProfile")
    assert program.depends_on(profile, program.one("aws:iam/rolePolicy:RolePolicy"))
    assert profile.inputs["role"] == program.one("aws:iam/role:Role").state["name"]


def test_a_role_without_secrets_is_refused(run) -> None:
    with pytest.raises(ValueError, match="secret_arns is empty"):
        run(lambda: AwsHostRole("web", AwsHostRoleArgs(secret_arns=[])))


def test_release_objects_read_only_under_the_stacks_prefix(run) -> None:
    objects = "arn:aws:s3:::prod-releases-a1b2c3d/prod/*"
    program = run(lambda: AwsHostRole("web", AwsHostRoleArgs(secret_arns=[ARN], object_arns=[objects])))
    policy = json.loads(program.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [ARN]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": [objects]},
    ]
