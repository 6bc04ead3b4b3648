"""stacks/aws.py with launchpad:hosts > 1 under mocks: launch template, Auto Scaling group over two zones,
ALB, target group, listeners, certificate, security-group chaining, instance refresh and its waiter, outputs."""

from __future__ import annotations

import base64
import gzip

import pytest

from pulumi_mocks import ALB_DNS, FLEET_HOSTS, ZONES, Program
from launchpad.render.balanced import AWS_BALANCER_CIDRS
from launchpad.settings import validate
from stacks import aws as aws_stack

BASE = {"launchpad:provider": "aws", "launchpad:region": "eu-west-1", "launchpad:hosts": 3}
TLS = {"launchpad:domain": "rocket.example.com", "launchpad:dnsZone": "example.com"}


def build(run, **config) -> Program:
    settings = validate({**BASE, **config}, "test")
    return run(lambda: aws_stack.build(settings), stack="test")


def sg(program: Program, suffix: str):
    return next(r for r in program.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name.endswith(suffix))


def by_name(program: Program, typ: str, suffix: str):
    return next(r for r in program.of_type(typ) if r.name.endswith(suffix))


@pytest.fixture(params=["http", "tls"])
def program(request, run) -> Program:
    return build(run, **(TLS if request.param == "tls" else {}))


def test_no_single_host_resources(program: Program) -> None:
    assert not program.of_type("aws:ec2/instance:Instance")
    assert not program.of_type("aws:ec2/eip:Eip")


def test_launch_template_is_hardened_and_carries_the_same_bootstrap(program: Program) -> None:
    lt = program.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert lt["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    [disk] = lt["blockDeviceMappings"]
    assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volumeType"] == "gp3"
    text = gzip.decompress(base64.b64decode(lt["userData"])).decode()
    assert text.startswith("#cloud-config") and "LAUNCHPAD_TRUSTED_PROXIES=2" in text
    for cidr in AWS_BALANCER_CIDRS:
        assert f"set_real_ip_from {cidr};" in text
    [nic] = lt["networkInterfaces"]
    assert sg(program, "-web").id in nic["securityGroups"]


def test_group_spans_two_zones_and_registers_in_the_target_group(program: Program) -> None:
    group = program.one("aws:autoscaling/group:Group").inputs
    subnets = {r.id: r for r in program.of_type("aws:ec2/subnet:Subnet")}
    zones = {subnets[s].inputs["availabilityZone"] for s in group["vpcZoneIdentifiers"]}
    assert zones == set(ZONES[:2])
    assert (group["minSize"], group["maxSize"], group["desiredCapacity"]) == (3, 3, 3)
    assert group["healthCheckType"] == "ELB" and group["waitForElbCapacity"] == 3
    tg = program.one("aws:lb/targetGroup:TargetGroup")
    assert group["targetGroupArns"] == [tg.state["arn"]]
    lt = program.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert group["launchTemplate"] == {"id": lt.id, "version": "1"}


def test_instance_refresh_keeps_every_host_serving(program: Program) -> None:
    refresh = program.one("aws:autoscaling/group:Group").inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    prefs = refresh["preferences"]
    assert prefs["minHealthyPercentage"] == 100 and prefs["maxHealthyPercentage"] == 200
    assert prefs["autoRollback"] is True and prefs["skipMatching"] is True


def test_pulumi_up_waits_for_the_refresh(program: Program) -> None:
    group = program.one("aws:autoscaling/group:Group")
    [waiter] = [c for c in program.of_type("command:local:Command") if "components.aws.refresh_wait" in c.inputs["create"]]
    assert f"--group {group.state['name']}" in waiter.inputs["create"] and "--region eu-west-1" in waiter.inputs["create"]
    assert group.urn in waiter.dependencies
    assert waiter.inputs["triggers"] == [1]  # the launch template's version: a new bootstrap re-runs it
    [readiness] = [c for c in program.of_type("command:local:Command") if "launchpad.wait" in c.inputs["create"]]
    assert ALB_DNS in readiness.inputs["create"] and waiter.urn in readiness.dependencies


def test_target_group_health_check_is_the_apps_health_path(run) -> None:
    program = build(run, **{"launchpad:app": {"healthPath": "/healthz"}})
    check = program.one("aws:lb/targetGroup:TargetGroup").inputs["healthCheck"]
    assert (check["path"], check["matcher"], check["protocol"]) == ("/healthz", "200", "HTTP")
    # Without one: GET / and anything below 500, as releases count health.
    check = build(run).one("aws:lb/targetGroup:TargetGroup").inputs["healthCheck"]
    assert (check["path"], check["matcher"]) == ("/", "200-499")


def test_hosts_admit_web_only_from_the_balancers_group(program: Program) -> None:
    web, balancer = sg(program, "-web"), sg(program, "-balancer")
    rules = web.inputs["ingress"]
    assert sorted(r["fromPort"] for r in rules) == [80, 443]
    for rule in rules:
        assert rule["securityGroups"] == [balancer.id] and not rule.get("cidrBlocks") and not rule.get("ipv6CidrBlocks")
    assert sorted(r["fromPort"] for r in balancer.inputs["ingress"]) == [80, 443]
    assert all(r["cidrBlocks"] == ["0.0.0.0/0"] for r in balancer.inputs["ingress"])
    [out] = balancer.inputs["egress"]
    assert (out["fromPort"], out["toPort"], out["cidrBlocks"]) == (80, 80, ["10.0.0.0/24", "10.0.1.0/24"])


def test_balancer_lives_alone_in_its_own_subnets(program: Program) -> None:
    alb = program.one("aws:lb/loadBalancer:LoadBalancer").inputs
    subnets = {r.id: r for r in program.of_type("aws:ec2/subnet:Subnet")}
    assert sorted(subnets[s].inputs["cidrBlock"] for s in alb["subnets"]) == list(AWS_BALANCER_CIDRS)
    assert alb["securityGroups"] == [sg(program, "-balancer").id]
    assert alb["internal"] is False and alb["dropInvalidHeaderFields"] is True and alb["loadBalancerType"] == "application"
    group = program.one("aws:autoscaling/group:Group").inputs
    assert not set(group["vpcZoneIdentifiers"]) & set(alb["subnets"])


def test_plain_http_forwards_to_the_hosts(run) -> None:
    program = build(run)
    [listener] = program.of_type("aws:lb/listener:Listener")
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    assert listener.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": program.one("aws:lb/targetGroup:TargetGroup").state["arn"]}]
    assert not program.of_type("aws:acm/certificate:Certificate")
    assert program.outputs["url"] == f"http://{ALB_DNS}/"


def test_tls_redirects_http_and_uses_a_certificate_validated_in_route53(run) -> None:
    program = build(run, **TLS)
    https = by_name(program, "aws:lb/listener:Listener", "-https").inputs
    http = by_name(program, "aws:lb/listener:Listener", "-http").inputs
    cert = program.one("aws:acm/certificate:Certificate")
    validation = program.one("aws:acm/certificateValidation:CertificateValidation")
    assert (https["port"], https["protocol"], https["certificateArn"]) == (443, "HTTPS", validation.state["certificateArn"])
    assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert http["defaultActions"] == [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
    assert cert.inputs["domainName"] == "rocket.example.com" and cert.inputs["subjectAlternativeNames"] == ["www.rocket.example.com"]
    assert cert.inputs["validationMethod"] == "DNS"
    records = program.of_type("aws:route53/record:Record")
    assert all(r.inputs["zoneId"] == "Z0MOCKZONE" for r in records)
    assert sorted(r.inputs["name"] for r in records if r.inputs["type"] == "A") == ["rocket.example.com", "www.rocket.example.com"]
    assert ("aws:route53/getZone:getZone", {"name": "example.com", "privateZone": False}) in program.calls
    # Port 80 still answers the health path (readiness), as a single TLS host does.
    rule = program.one("aws:lb/listenerRule:ListenerRule").inputs
    assert rule["conditions"][0]["pathPattern"]["values"] == ["/"] and rule["actions"][0]["type"] == "forward"
    assert program.outputs["url"] == "https://rocket.example.com/"


def test_outputs(program: Program) -> None:
    assert program.outputs["public_ip"] == ALB_DNS
    assert program.outputs["hosts"] == FLEET_HOSTS
    assert set(program.outputs) >= {"url", "public_ip", "hosts"}


def test_autoscaling_tracks_cpu_between_min_and_max(run) -> None:
    settings = validate({"launchpad:provider": "aws", "launchpad:autoscale": {"min": 2, "max": 6, "targetCpu": 60}}, "test")
    program = run(lambda: aws_stack.build(settings), stack="test")
    group = program.one("aws:autoscaling/group:Group")
    assert (group.inputs["minSize"], group.inputs["maxSize"], group.inputs["desiredCapacity"]) == (2, 6, 2)
    policy = program.one("aws:autoscaling/policy:Policy").inputs
    assert policy["policyType"] == "TargetTrackingScaling"
    assert policy["targetTrackingConfiguration"]["targetValue"] == 60.0
    assert policy["targetTrackingConfiguration"]["predefinedMetricSpecification"]["predefinedMetricType"] == "ASGAverageCPUUtilization"


def test_one_host_has_no_balancer(run) -> None:
    settings = validate({"launchpad:provider": "aws", "launchpad:region": "eu-west-1"}, "test")
    program = run(lambda: aws_stack.build(settings), stack="test")
    assert not program.of_type("aws:lb/loadBalancer:LoadBalancer") and not program.of_type("aws:autoscaling/group:Group")
    assert "hosts" not in program.outputs and len(program.of_type("aws:ec2/subnet:Subnet")) == 3


def test_policy_pack_passes_the_balanced_stack(run) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy"))
    from launchpad_policies import check_resources

    def violations(program: Program) -> set[str]:
        return {v.policy for v in check_resources([(r.type, r.name, r.inputs, r.id) for r in program.resources if r.custom],
                                                  production=True)}

    config = {"launchpad:database": {"enabled": True}, "launchpad:production": True}
    program = build(run, **TLS, **config)
    # Whatever the pack says of the single host's shared parts (user-data), the balancer, the group
    # and the launch template add no violation of their own.
    single = validate({**BASE, **config, "launchpad:hosts": 1}, "test")
    assert violations(program) <= violations(run(lambda: aws_stack.build(single), stack="test"))


def test_releases_roll_host_by_host_before_the_group_and_the_store_writes_no_pointer(program: Program) -> None:
    """components/aws/rollout.py: the roll owns the pointer; it runs once the release's objects exist and
    before the group (whose first hosts then boot on the pointer), again for each new release id."""
    [roll] = [c for c in program.of_type("command:local:Command") if "launchpad.ops.roll aws" in c.inputs["create"]]
    create = roll.inputs["create"]
    tg = program.one("aws:lb/targetGroup:TargetGroup")
    manifest = next(o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name.endswith("-manifest"))
    release_id = manifest.inputs["key"].rsplit("/", 1)[-1].removesuffix(".json")
    assert f"--target-group {tg.state['arn']}" in create and f"--release {release_id}" in create
    assert "--store s3://" in create and create.split("--store ", 1)[1].split()[0].endswith("/test")
    assert roll.inputs["triggers"] == [release_id]
    for name in ("-artifact", "-manifest"):
        obj = next(o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name.endswith(name))
        assert program.depends_on(roll, obj)
    assert program.depends_on(roll, program.one("aws:secretsmanager/secretVersion:SecretVersion"))
    assert program.depends_on(program.one("aws:autoscaling/group:Group"), roll)
    assert not [o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name.endswith("-desired")]
    assert program.outputs["rollout"]["target_group"] == tg.state["arn"]


def test_each_host_may_put_only_its_own_status_and_follows_its_own_pin(program: Program) -> None:
    import json

    policy = json.loads(program.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    [put] = [s for s in policy["Statement"] if s["Action"] == "s3:PutObject"]
    assert len(put["Resource"]) == 1 and put["Resource"][0].endswith("/test/status/${aws:userid}.json")
    assert not [s for s in policy["Statement"] if s["Action"] not in ("s3:PutObject", "s3:GetObject", "secretsmanager:GetSecretValue")]
    lt = program.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    text = gzip.decompress(base64.b64decode(lt["userData"])).decode()
    assert '"host_id": "aws"' in text and '/test/status"' in text and '"status_store": "s3://' in text


def test_one_host_keeps_its_pointer_object_and_publishes_no_status(run) -> None:
    import json

    settings = validate({"launchpad:provider": "aws", "launchpad:region": "eu-west-1"}, "test")
    program = run(lambda: aws_stack.build(settings), stack="test")
    assert [o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name.endswith("-desired")]
    assert not [c for c in program.of_type("command:local:Command") if "launchpad.ops.roll" in c.inputs["create"]]
    policy = json.loads(program.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert not [s for s in policy["Statement"] if s["Action"] == "s3:PutObject"]


def test_the_launch_template_passes_the_packs_launch_template_rules_and_a_weakened_one_fails(run) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy"))
    from launchpad_policies import check_resources

    program = build(run)
    lt = program.one("aws:ec2/launchTemplate:LaunchTemplate")
    rules = {"launch-template-imdsv2-required", "launch-template-encrypted-root"}
    assert not [v for v in check_resources([(lt.type, lt.name, lt.inputs, lt.id)]) if v.policy in rules]
    weak = {**lt.inputs, "metadataOptions": {**lt.inputs["metadataOptions"], "httpTokens": "optional"},
            "blockDeviceMappings": [{**lt.inputs["blockDeviceMappings"][0], "ebs": {
                **lt.inputs["blockDeviceMappings"][0]["ebs"], "encrypted": "false"}}]}
    assert {v.policy for v in check_resources([(lt.type, lt.name, weak, lt.id)]) if v.policy in rules} == rules
