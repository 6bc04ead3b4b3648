"""components/aws/certificate_access.py + certificate_store.py: the certificate secret and exactly the host's rights on it."""

from __future__ import annotations

import json

from components.aws.certificate_access import AwsCertificateAccess, AwsCertificateAccessArgs, host_policy
from components.aws.certificate_store import AwsCertificateStore, AwsCertificateStoreArgs


def test_store_is_a_secret_without_a_value_and_its_spec_names_it(run) -> None:
    specs = []

    def program() -> None:
        store = AwsCertificateStore("prod", AwsCertificateStoreArgs(stack="prod", domain="rocket.example.com", region="eu-west-1",
                                                                   production=True))
        store.spec.apply(specs.append)

    result = run(program)
    secret = result.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["recoveryWindowInDays"] == 7
    assert not result.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert specs == [{"kind": "aws-secretsmanager", "arn": secret.state["arn"], "region": "eu-west-1"}]


def test_http01_access_is_the_secret_only(run) -> None:
    program = run(lambda: AwsCertificateAccess("prod", AwsCertificateAccessArgs(
        role_name="prod-role", secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:c", domain="rocket.example.com")))
    policy = program.one("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == "prod-role"
    assert json.loads(policy.inputs["policy"])["Statement"] == [{
        "Sid": "CertificateStore", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
        "Resource": "arn:aws:secretsmanager:eu-west-1:1:secret:c"}]
    assert not program.calls  # no zone looked up


def test_dns01_writes_only_the_challenge_txt_records_of_one_zone() -> None:
    statements = json.loads(host_policy("arn:s", "example.com", "Z1"))["Statement"]
    change = statements[1]
    assert change["Resource"] == "arn:aws:route53:::hostedzone/Z1"
    names = change["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert names == ["_acme-challenge.example.com", "_acme-challenge.www.example.com"]
    # Nothing else writes DNS; the reads are what certbot-dns-route53 needs to find the zone and wait.
    writes = [s for s in statements if any(not a.split(":")[1].startswith(("Get", "List")) for a in
                                           ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]) if a.startswith("route53:"))]
    assert writes == [change]
