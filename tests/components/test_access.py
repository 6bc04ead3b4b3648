"""components/aws/access.py and components/digitalocean/access.py under mocks: the endpoint,
its security groups, the operators' policy; the droplet's host key, checked under the enrollment MAC."""

from __future__ import annotations

import json

import pulumi

from components.aws.access import AwsAccess, AwsAccessArgs
from components.digitalocean.access import DoAccess, DoAccessArgs
from components.digitalocean.enroll_bucket import DoEnrollBucket, DoEnrollBucketArgs
from pulumi_mocks import ACCOUNT, ENROLL_SPACES_ACCESS_KEY, ENROLL_SPACES_SECRET_KEY, SSH_HOST_KEY

EICE = "aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def _aws(run):
    def program():
        access = AwsAccess("prod", AwsAccessArgs(vpc_id="vpc-1", subnet_id="subnet-pub", stack="prod",
                                                 tags={"launchpad:stack": "prod"}))
        pulumi.export("sg", access.host_security_group_id)
        pulumi.export("policy", access.operator_policy_arn)
    return run(program)


def test_endpoint_in_the_stack_subnet_without_client_ip(run) -> None:
    program = _aws(run)
    endpoint = program.one(EICE)
    assert endpoint.inputs["subnetId"] == "subnet-pub"
    assert endpoint.inputs["preserveClientIp"] is False
    eice_sg = next(r for r in program.of_type(SG) if r.name == "prod-eice")
    assert endpoint.inputs["securityGroupIds"] == [eice_sg.id]


def test_ssh_only_from_the_endpoint_and_nothing_from_the_world(run) -> None:
    program = _aws(run)
    groups = {r.name: r for r in program.of_type(SG)}
    assert set(groups) == {"prod-eice", "prod-ssh"}
    for group in groups.values():
        assert group.inputs["vpcId"] == "vpc-1"
        assert not group.inputs.get("ingress") and not group.inputs.get("egress")  # no inline rules to fight the standalone ones
    [ingress] = program.of_type(INGRESS)
    [egress] = program.of_type(EGRESS)
    assert (ingress.inputs["securityGroupId"], ingress.inputs["referencedSecurityGroupId"]) == (groups["prod-ssh"].id, groups["prod-eice"].id)
    assert (egress.inputs["securityGroupId"], egress.inputs["referencedSecurityGroupId"]) == (groups["prod-eice"].id, groups["prod-ssh"].id)
    for rule in (ingress, egress):
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 22, 22)
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    assert program.outputs["sg"] == groups["prod-ssh"].id


def test_operator_policy_is_least_privilege_for_this_stack(run) -> None:
    program = _aws(run)
    policy = json.loads(program.one("aws:iam/policy:Policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Tunnel"]["Action"] == "ec2-instance-connect:OpenTunnel"
    assert by_sid["Tunnel"]["Resource"] == f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance-connect-endpoint/eice-prod-eice"
    assert by_sid["Tunnel"]["Condition"]["NumericEquals"] == {"ec2-instance-connect:remotePort": 22}
    assert by_sid["Key"]["Action"] == "ec2-instance-connect:SendSSHPublicKey"
    assert by_sid["Key"]["Condition"]["StringEquals"] == {"aws:ResourceTag/launchpad:stack": "prod", "ec2:osuser": "ops"}
    assert by_sid["HostKey"]["Action"] == "ec2:GetConsoleOutput"
    assert by_sid["HostKey"]["Condition"]["StringEquals"] == {"aws:ResourceTag/launchpad:stack": "prod"}
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"ec2-instance-connect:OpenTunnel", "ec2-instance-connect:SendSSHPublicKey", "ec2:GetConsoleOutput",
                       "ec2:DescribeInstances", "ec2:DescribeInstanceConnectEndpoints"}
    assert program.outputs["policy"] == f"arn:aws:iam::{ACCOUNT}:policy/prod-operator"


def test_every_aws_access_resource_is_tagged_and_parented(run) -> None:
    program = _aws(run)
    component = next(r for r in program.resources if r.type == "launchpad:access:AwsAccess")
    for r in program.resources:
        if r.custom:
            assert r.parent == component.urn
    for r in (program.one(EICE), *program.of_type(SG), program.one("aws:iam/policy:Policy")):
        assert r.inputs["tags"]["launchpad:stack"] == "prod"


def _enrollment() -> DoEnrollBucket:
    return DoEnrollBucket("staging", DoEnrollBucketArgs(stack="staging", region="fra1", release_bucket="staging-releases",
                                                        enroll_hex=pulumi.Output.secret("ab" * 32)))


def _do(run):
    def program():
        access = DoAccess("staging", DoAccessArgs(enrollment=_enrollment(), host_id="4242"))
        pulumi.export("public", access.host_public_key)
    return run(program)


def test_do_host_key_is_recorded_from_the_enrollment_bucket_under_the_enrollment_mac(run) -> None:
    program = _do(run)
    check = program.one("command:local:Command")
    assert "-m launchpad.ops.host_key s3://staging-releases-enroll/staging/enroll 4242" in check.inputs["create"]
    assert "http://" not in check.inputs["create"]  # no connection into the droplet
    assert check.inputs["environment"] == {"LAUNCHPAD_ENROLL": "ab" * 32,
                                           "LAUNCHPAD_ENROLL_ACCESS_KEY_ID": ENROLL_SPACES_ACCESS_KEY,
                                           "LAUNCHPAD_ENROLL_SECRET_ACCESS_KEY": ENROLL_SPACES_SECRET_KEY}
    assert "environment" in check.secret_inputs  # the enrollment value and key stay secrets
    assert check.inputs["triggers"] == ["4242"]  # a new droplet is checked again
    assert program.outputs["public"] == SSH_HOST_KEY
    assert not program.of_type("tls:index/privateKey:PrivateKey")  # no host private key made or sent anywhere


def test_access_outputs_have_the_shape_the_cli_reads(run) -> None:
    from launchpad.ops.access import parse

    def program():
        aws_access = AwsAccess("prod", AwsAccessArgs(vpc_id="vpc-1", subnet_id="subnet-pub", stack="prod"))
        pulumi.export("aws", aws_access.access_output("eu-west-1", [("web", pulumi.Output.from_input("i-0abc"), "10.0.0.10")]))
        do_access = DoAccess("staging", DoAccessArgs(enrollment=_enrollment(), host_id="4242"))
        pulumi.export("do", do_access.access_output("ops", [("web", pulumi.Output.from_input("198.51.100.20"))]))
    program = run(program)
    aws_record = parse("prod", {"access": program.outputs["aws"]})
    assert (aws_record.transport, aws_record.region, aws_record.hosts[0].instance_id) == ("eice", "eu-west-1", "i-0abc")
    do_record = parse("staging", {"access": program.outputs["do"]})
    assert (do_record.transport, do_record.host_key, do_record.hosts[0].address) == ("ssh", SSH_HOST_KEY, "198.51.100.20")


def test_aws_stack_reaches_its_host_only_through_the_endpoint(run) -> None:
    from launchpad.settings import validate
    from stacks import aws as aws_stack

    config = {"launchpad:provider": "aws", "launchpad:region": "eu-west-1"}
    program = run(lambda: aws_stack.build(validate(config, "test")), stack="test", config=config)
    vpc = program.one("aws:ec2/vpc:Vpc")
    public = next(r for r in program.of_type("aws:ec2/subnet:Subnet") if r.name.endswith("-public"))
    endpoint = program.one(EICE)
    assert endpoint.inputs["subnetId"] == public.id
    ssh_sg = next(r for r in program.of_type(SG) if r.name == "test-ssh")
    assert ssh_sg.inputs["vpcId"] == vpc.id
    assert ssh_sg.id in program.one("aws:ec2/instance:Instance").inputs["vpcSecurityGroupIds"]
    # adminCidrs empty: no group admits port 22 from any address, only from the endpoint's group
    for group in program.of_type(SG):
        for rule in group.inputs.get("ingress") or []:
            assert not (rule["fromPort"] <= 22 <= rule["toPort"]), (group.name, rule)
    [ingress] = program.of_type(INGRESS)
    assert ingress.inputs["referencedSecurityGroupId"] == next(r for r in program.of_type(SG) if r.name == "test-eice").id
    assert program.outputs["access"]["hosts"][0]["instance_id"] == program.one("aws:ec2/instance:Instance").id


def _do_stack(run, **extra):
    from launchpad.settings import validate
    from stacks import digitalocean as do_stack

    config = {"launchpad:provider": "digitalocean", "launchpad:region": "fra1", **extra}
    return run(lambda: do_stack.build(validate(config, "test")), stack="test")


def test_do_stack_pins_the_recorded_host_key_and_opens_ssh_only_to_admins(run) -> None:
    from pulumi_mocks import SSH_KEY

    program = _do_stack(run, **{"launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": [SSH_KEY]})
    commands = {r.name: r for r in program.of_type("command:local:Command")}
    check, enroll = commands["test-host-key"], commands["test-enroll"]
    assert check.inputs["environment"] == enroll.inputs["environment"]  # the same enrollment value
    assert check.inputs["triggers"] == [program.one("digitalocean:index/droplet:Droplet").id]
    assert program.outputs["access"] == {"transport": "ssh", "user": "ops", "host_key": SSH_HOST_KEY,
                                         "hosts": [{"name": "web", "address": program.outputs["public_ip"]}]}
    firewall = program.one("digitalocean:index/firewall:Firewall")
    ssh_rules = [r for r in firewall.inputs["inboundRules"] if r.get("portRange") == "22"]
    assert ssh_rules == [{"protocol": "tcp", "portRange": "22", "sourceAddresses": ["203.0.113.7/32"]}]
    user_data = program.one("digitalocean:index/droplet:Droplet").inputs["userData"]
    assert "PRIVATE KEY" not in user_data and SSH_HOST_KEY not in user_data  # nothing of the host key travels


def test_do_stack_without_admin_cidrs_has_no_ssh_access(run) -> None:
    program = _do_stack(run)
    assert "access" not in program.outputs
    assert "test-host-key" not in {r.name for r in program.of_type("command:local:Command")}
    firewall = program.one("digitalocean:index/firewall:Firewall")
    assert not [r for r in firewall.inputs["inboundRules"] if r.get("portRange") == "22"]


def test_do_droplets_behind_a_balancer_each_pin_their_own_key(run) -> None:
    from pulumi_mocks import SSH_KEY

    program = _do_stack(run, **{"launchpad:hosts": 2, "launchpad:adminCidrs": ["203.0.113.7/32"],
                                "launchpad:sshKeys": [SSH_KEY]})
    checks = sorted(r.name for r in program.of_type("command:local:Command") if r.name.endswith("-host-key"))
    assert checks == ["test-0-host-key", "test-1-host-key"]
    droplets = {r.name: r for r in program.of_type("digitalocean:index/droplet:Droplet")}
    hosts = program.outputs["access"]["hosts"]
    assert [h["name"] for h in hosts] == ["test-0", "test-1"]
    assert all(h["host_key"] == SSH_HOST_KEY for h in hosts)
    assert {r.inputs["triggers"][0] for r in program.of_type("command:local:Command") if r.name.endswith("-host-key")} \
        == {d.id for d in droplets.values()}
