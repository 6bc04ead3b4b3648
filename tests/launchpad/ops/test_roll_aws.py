"""launchpad/ops/roll_aws.py and roll_store.py against botocore's Stubber: the exact API calls a
rolling release makes on AWS (no network; fake clock)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from launchpad.ops.roll_aws import AwsRollFleet, BalancerWaitError
from launchpad.ops.roll_store import RollStore, host_of
from launchpad.release.manifest import new_manifest
from clock import FakeClock
from launchpad.release.rolling import roll

ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"
BUCKET, STACK = "shop-releases-1a2b", "shop"
ROLE = "AROAEXAMPLEROLEID"


def clients() -> tuple[Any, Any, Stubber, Stubber]:
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="eu-west-1")
    elbv2, s3 = session.client("elbv2"), session.client("s3")
    return elbv2, s3, Stubber(elbv2), Stubber(s3)


def health(*targets: tuple[str, str]) -> dict[str, Any]:
    return {"TargetHealthDescriptions": [{"Target": {"Id": i, "Port": 80}, "TargetHealth": {"State": s}} for i, s in targets]}


def one(host: str) -> dict[str, Any]:
    return {"TargetGroupArn": ARN, "Targets": [{"Id": host, "Port": 80}]}


def body(data: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(data).encode()
    return {"Body": StreamingBody(io.BytesIO(raw), len(raw))}


def manifest(v: str) -> Any:
    return new_manifest(artifact="a" * 64, artifact_bytes=1, source_hash="b" * 64, deps_hash="c" * 16, deps="none",
                        app="rocket", module="rocket:app", env={"V": v}, secrets=None, release_command=None,
                        health_path="/healthz", static={}, writable=(), workers=None, threads=None, keep=5)


def test_host_of_reads_the_instance_id_from_a_userid_key() -> None:
    assert host_of(f"{STACK}/status/{ROLE}:i-0abc.json") == "i-0abc"
    assert host_of(f"{STACK}/status/412345678.json") == "412345678"


def test_drain_deregisters_then_waits_through_draining_until_unused() -> None:
    elbv2, s3, elb, _ = clients()
    elb.add_response("deregister_targets", {}, one("i-a"))
    elb.add_response("describe_target_health", health(("i-a", "draining")), one("i-a"))
    elb.add_response("describe_target_health", health(("i-a", "draining")), one("i-a"))
    elb.add_response("describe_target_health", health(("i-a", "unused")), one("i-a"))
    with elb:
        took = AwsRollFleet(elbv2, RollStore(s3, BUCKET, STACK), ARN, clock=FakeClock(), poll_s=5).drain("i-a")
        elb.assert_no_pending_responses()
    assert took == 10


def test_a_target_aws_no_longer_lists_counts_as_drained() -> None:
    elbv2, s3, elb, _ = clients()
    elb.add_response("deregister_targets", {}, one("i-a"))
    elb.add_response("describe_target_health", {"TargetHealthDescriptions": []}, one("i-a"))
    with elb:
        assert AwsRollFleet(elbv2, RollStore(s3, BUCKET, STACK), ARN, clock=FakeClock()).drain("i-a") == 0


def test_rejoin_registers_then_waits_for_healthy() -> None:
    elbv2, s3, elb, _ = clients()
    elb.add_response("register_targets", {}, one("i-a"))
    for state in ("initial", "initial", "healthy"):
        elb.add_response("describe_target_health", health(("i-a", state)), one("i-a"))
    with elb:
        assert AwsRollFleet(elbv2, RollStore(s3, BUCKET, STACK), ARN, clock=FakeClock(), poll_s=5).rejoin("i-a") == 10
        elb.assert_no_pending_responses()


def test_rejoin_fails_a_host_the_balancer_keeps_calling_unhealthy() -> None:
    elbv2, s3, elb, _ = clients()
    elb.add_response("register_targets", {}, one("i-a"))
    for _ in range(4):
        elb.add_response("describe_target_health", health(("i-a", "unhealthy")), one("i-a"))
    with elb, pytest.raises(BalancerWaitError, match="i-a: the target group calls it unhealthy"):
        AwsRollFleet(elbv2, RollStore(s3, BUCKET, STACK), ARN, clock=FakeClock(), poll_s=30, healthy_timeout_s=120).rejoin("i-a")


def test_hosts_are_the_registered_targets_by_id_without_those_leaving() -> None:
    elbv2, s3, elb, _ = clients()
    elb.add_response("describe_target_health", health(("i-c", "healthy"), ("i-a", "healthy"), ("i-b", "draining")),
                     {"TargetGroupArn": ARN})
    with elb:
        assert AwsRollFleet(elbv2, RollStore(s3, BUCKET, STACK), ARN).hosts() == ["i-a", "i-c"]


def test_one_host_rolled_with_the_exact_calls_in_order() -> None:
    """A one-host group: list, status, drain, pin, status until live, rejoin, pointer, unpin."""
    old, new = manifest("1"), manifest("2")
    elbv2, s3, elb, st = clients()
    status_key = f"{STACK}/status/{ROLE}:i-a.json"
    when = datetime(2026, 11, 25, tzinfo=timezone.utc)
    # hosts() and the first status reads
    elb.add_response("describe_target_health", health(("i-a", "healthy")), {"TargetGroupArn": ARN})
    st.add_response("list_objects_v2", {"Contents": [{"Key": status_key, "LastModified": when}], "IsTruncated": False},
                    {"Bucket": BUCKET, "Prefix": f"{STACK}/status/"})
    st.add_response("get_object", body({"live": old.id, "last_failure": None}), {"Bucket": BUCKET, "Key": status_key})
    # drain
    elb.add_response("deregister_targets", {}, one("i-a"))
    elb.add_response("describe_target_health", health(("i-a", "unused")), one("i-a"))
    st.add_response("get_object", body({"live": old.id, "last_failure": None}), {"Bucket": BUCKET, "Key": status_key})
    # pin, then the agent reports the new id live on the second look
    st.add_response("put_object", {}, {"Bucket": BUCKET, "Key": f"{STACK}/releases/desired/i-a.json", "Body": ANY,
                                       "ContentType": "application/json", "CacheControl": "no-store"})
    st.add_response("get_object", body({"live": old.id, "last_failure": None}), {"Bucket": BUCKET, "Key": status_key})
    st.add_response("get_object", body({"live": new.id, "last_failure": None}), {"Bucket": BUCKET, "Key": status_key})
    # rejoin
    elb.add_response("register_targets", {}, one("i-a"))
    elb.add_response("describe_target_health", health(("i-a", "healthy")), one("i-a"))
    # the stack's pointer (the manifest must be there), then the pin goes
    st.add_response("head_object", {}, {"Bucket": BUCKET, "Key": f"{STACK}/releases/{new.id}.json"})
    st.add_response("put_object", {}, {"Bucket": BUCKET, "Key": f"{STACK}/releases/desired.json", "Body": ANY,
                                       "ContentType": "application/json", "CacheControl": "no-store"})
    st.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": f"{STACK}/releases/desired/i-a.json"})
    with elb, st:
        rolled = roll(AwsRollFleet(elbv2, RollStore(s3, BUCKET, STACK), ARN, clock=FakeClock()), new, old, 60,
                      progress=lambda _: None, clock=FakeClock())
        elb.assert_no_pending_responses()
        st.assert_no_pending_responses()
    assert [h["host"] for h in rolled.hosts] == ["i-a"]


def test_a_running_host_a_killed_roll_left_deregistered_is_rolled_again_and_a_gone_ones_status_forgotten() -> None:
    elbv2, s3, elb, st = clients()
    ec2 = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        region_name="eu-west-1").client("ec2")
    ec2s = Stubber(ec2)
    when = datetime(2026, 11, 25, tzinfo=timezone.utc)
    keys = {h: f"{STACK}/status/{ROLE}:{h}.json" for h in ("i-a", "i-b", "i-gone")}
    elb.add_response("describe_target_health", health(("i-a", "healthy")), {"TargetGroupArn": ARN})
    st.add_response("list_objects_v2", {"Contents": [{"Key": k, "LastModified": when} for k in keys.values()],
                                        "IsTruncated": False}, {"Bucket": BUCKET, "Prefix": f"{STACK}/status/"})
    for h in ("i-a", "i-b", "i-gone"):
        st.add_response("get_object", body({"live": "aaaaaaaaaaaa"}), {"Bucket": BUCKET, "Key": keys[h]})
    ec2s.add_response("describe_instances", {"Reservations": [{"Instances": [{"InstanceId": "i-b"}]}]},
                      {"Filters": [{"Name": "instance-id", "Values": ["i-b", "i-gone"]},
                                   {"Name": "instance-state-name", "Values": ["running"]}]})
    st.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": keys["i-gone"]})
    with elb, st, ec2s:
        assert AwsRollFleet(elbv2, RollStore(s3, BUCKET, STACK), ARN, ec2=ec2).hosts() == ["i-a", "i-b"]
        st.assert_no_pending_responses()
        ec2s.assert_no_pending_responses()


def test_the_entry_point_prints_statuses_and_refuses_an_unpublished_release(monkeypatch: pytest.MonkeyPatch,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from launchpad.ops import roll, roll_aws

    elbv2, s3, _, st = clients()
    key = f"{STACK}/status/{ROLE}:i-a.json"
    st.add_response("list_objects_v2", {"Contents": [{"Key": key, "LastModified": datetime(2026, 11, 25, tzinfo=timezone.utc)}],
                                        "IsTruncated": False}, {"Bucket": BUCKET, "Prefix": f"{STACK}/status/"})
    st.add_response("get_object", body({"live": "aaaaaaaaaaaa", "slot": "b"}), {"Bucket": BUCKET, "Key": key})
    st.add_client_error("get_object", "NoSuchKey", http_status_code=404,
                        expected_params={"Bucket": BUCKET, "Key": f"{STACK}/releases/bbbbbbbbbbbb.json"})
    monkeypatch.setattr(roll_aws, "clients", lambda region, profile=None: (elbv2, s3, None))
    base = ["aws", "--store", f"s3://{BUCKET}/{STACK}", "--region", "eu-west-1", "--target-group", ARN]
    with st:
        assert roll.main([*base, "--status"]) == 0
        assert json.loads(capsys.readouterr().out) == {"i-a": {"live": "aaaaaaaaaaaa", "slot": "b"}}
        assert roll.main([*base, "--release", "bbbbbbbbbbbb"]) == 2
        assert "release 'bbbbbbbbbbbb' is not in" in capsys.readouterr().err
    assert roll.main(["aws", "--store", f"s3://{BUCKET}/{STACK}", "--region", "eu-west-1", "--release", "bbbbbbbbbbbb"]) == 2
    assert "needs --target-group" in capsys.readouterr().err
