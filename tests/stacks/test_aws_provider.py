"""stacks/aws_provider.py: the stack's `aws:*` config reaches the explicit AWS provider (issue 12, item 8).

The values arrive as Pulumi hands them to a program (strings, structured ones as JSON), and
come out as the provider takes them; the whole AWS program is run under mocks to show the
provider it registers carries them.
"""

from __future__ import annotations

import json

import pytest

from launchpad.settings import ConfigError, validate
from pulumi_mocks import Program, config_strings
from stacks import aws as aws_stack
from stacks.aws_provider import provider_args

BASE = {"launchpad:provider": "aws", "launchpad:region": "eu-west-1"}
ROLE = "arn:aws:iam::210987654321:role/launchpad-deploy"
AWS_CONFIG = {
    "aws:assumeRoles": [{"roleArn": ROLE, "sessionName": "launchpad", "externalId": "ext-1"}],
    "aws:allowedAccountIds": ["210987654321"],
    "aws:defaultTags": {"tags": {"CostCenter": "web-42", "owner": "ops"}},
    "aws:ignoreTags": {"keyPrefixes": ["kubernetes.io/"]},
    "aws:profile": "ops",
    "aws:maxRetries": 5,
    "aws:skipRequestingAccountId": True,
}


def args_for(config: dict, stack: str = "test", region: str = "eu-west-1") -> dict:
    settings = validate({**BASE, "launchpad:region": region}, stack)
    return provider_args(settings, config_strings(config))


def test_every_aws_key_reaches_the_provider_as_the_default_provider_would_take_it() -> None:
    args = args_for(AWS_CONFIG)
    assert args == {
        "region": "eu-west-1",
        "assume_roles": [{"roleArn": ROLE, "sessionName": "launchpad", "externalId": "ext-1"}],
        "allowed_account_ids": ["210987654321"],
        "default_tags": {"tags": {"CostCenter": "web-42", "owner": "ops"}},
        "ignore_tags": {"keyPrefixes": ["kubernetes.io/"]},
        "profile": "ops",
        "max_retries": 5,
        "skip_requesting_account_id": True,
    }


def test_without_aws_keys_only_the_region_is_set() -> None:
    assert args_for({}) == {"region": "eu-west-1"}


def test_string_settings_stay_strings() -> None:
    # A profile named "123" or "true" is a name, not a number or a boolean.
    assert args_for({"aws:profile": "123"})["profile"] == "123"
    assert args_for({"aws:stsRegion": "true"})["sts_region"] == "true"


def test_assume_role_of_pulumi_aws_6_is_taken_as_one_role() -> None:
    assert args_for({"aws:assumeRole": {"roleArn": ROLE}})["assume_roles"] == [{"roleArn": ROLE}]


@pytest.mark.parametrize("config, message", [
    ({"aws:alowedAccountIds": ["1"]}, "aws:alowedAccountIds: not a setting of the AWS provider (did you mean 'allowedAccountIds'?)"),
    ({"aws:region": "us-east-1"}, "aws:region: 'us-east-1' differs from launchpad:region 'eu-west-1', which decides the region"),
    ({"aws:assumeRole": {"roleArn": ROLE}, "aws:assumeRoles": [{"roleArn": ROLE}]},
     "aws:assumeRole: set either aws:assumeRole or aws:assumeRoles, not both"),
])
def test_bad_aws_keys_are_refused_not_dropped(config: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        args_for(config)
    assert message in str(caught.value)


def test_an_agreeing_aws_region_is_accepted() -> None:
    assert args_for({"aws:region": "eu-west-1"}) == {"region": "eu-west-1"}


def test_the_aws_program_registers_its_provider_with_the_stack_aws_config(run) -> None:
    settings = validate(BASE, "test")
    config = {**BASE, **AWS_CONFIG, "aws:secretKey": "mock-secret-key-value", "aws:accessKey": "AKIAMOCKMOCKMOCKMOCK"}
    program: Program = run(lambda: aws_stack.build(settings), stack="test", config=config,
                           secret_keys=["aws:secretKey", "aws:accessKey"])
    providers = program.of_type("pulumi:providers:aws")
    assert [p.name for p in providers] == ["aws"], "one explicit provider, named as before (existing URNs)"
    inputs = providers[0].inputs
    # Provider inputs travel as JSON text; inside, the names stay the provider's (camelCase).
    assert json.loads(inputs["assumeRoles"]) == AWS_CONFIG["aws:assumeRoles"]
    assert json.loads(inputs["allowedAccountIds"]) == ["210987654321"]
    assert json.loads(inputs["defaultTags"]) == {"tags": {"CostCenter": "web-42", "owner": "ops"}}
    assert inputs["region"] == "eu-west-1" and inputs["profile"] == "ops"
    assert {"secretKey", "accessKey"} <= providers[0].secret_inputs, "credentials stay secret in state"
    assert providers[0].secret_inputs.isdisjoint({"assumeRoles", "defaultTags", "region"})
