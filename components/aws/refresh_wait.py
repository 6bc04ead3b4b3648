"""Wait for an Auto Scaling group's latest instance refresh, then print its healthy hosts as JSON.

Run where `pulumi up` runs, by the `{name}-refresh` command of components/aws/fleet.py:

    python -m components.aws.refresh_wait --group NAME --region REGION [--profile P] [--timeout S]

The AWS provider starts a refresh when the launch template version changes but does not wait
for it. This does: exit 0 when the latest refresh is Successful (or there is none: a new
group, whose capacity the provider already waited for), exit 1 with AWS's reason when it
failed, was cancelled or rolled back, or did not finish in time. Then it prints
[{"id", "address", "zone", "health"}, ...] for the group's InService hosts.

boto3 is imported here only: nothing else in the program needs it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

DONE = {"Successful"}
FAILED = {"Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed", "Baseline_Failed"}
POLL_S = 15


def verdict(refresh: dict[str, Any] | None) -> str | None:
    """None while running; "" when done well; otherwise why it failed."""
    if refresh is None:
        return ""
    status = str(refresh.get("Status"))
    if status in DONE:
        return ""
    if status in FAILED:
        reason = refresh.get("StatusReason") or "no reason given"
        return f"instance refresh {refresh.get('InstanceRefreshId')} ended {status}: {reason}"
    return None


def hosts_of(group: dict[str, Any], addresses: dict[str, str]) -> list[dict[str, Any]]:
    return [{"id": i["InstanceId"], "address": addresses.get(i["InstanceId"], ""), "zone": i.get("AvailabilityZone", ""),
             "health": i.get("HealthStatus", "")}
            for i in sorted(group.get("Instances", []), key=lambda i: i["InstanceId"]) if i.get("LifecycleState") == "InService"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.aws.refresh_wait")
    parser.add_argument("--group", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--profile")
    parser.add_argument("--timeout", type=int, default=3600)
    args = parser.parse_args(argv)
    try:
        import boto3  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        print("boto3 is needed to follow the instance refresh: install the project's dependencies (pip install -e .)", file=sys.stderr)
        return 2
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    autoscaling = session.client("autoscaling")
    deadline = time.monotonic() + args.timeout
    last = ""
    while True:
        found = autoscaling.describe_instance_refreshes(AutoScalingGroupName=args.group, MaxRecords=1).get("InstanceRefreshes", [])
        refresh = found[0] if found else None
        outcome = verdict(refresh)
        if outcome:
            print(outcome, file=sys.stderr)
            return 1
        if outcome == "":
            break
        assert refresh is not None
        seen = f"{refresh.get('Status')} {refresh.get('PercentageComplete', 0)}%"
        if seen != last:
            print(f"instance refresh {refresh.get('InstanceRefreshId')}: {seen}", file=sys.stderr)
            last = seen
        if time.monotonic() > deadline:
            print(f"instance refresh of {args.group} not finished after {args.timeout} s (last: {seen})", file=sys.stderr)
            return 1
        time.sleep(POLL_S)
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[args.group])["AutoScalingGroups"][0]
    ids = [i["InstanceId"] for i in group.get("Instances", [])]
    addresses: dict[str, str] = {}
    if ids:
        for reservation in session.client("ec2").describe_instances(InstanceIds=ids).get("Reservations", []):
            for instance in reservation.get("Instances", []):
                addresses[instance["InstanceId"]] = instance.get("PrivateIpAddress", "")
    print(json.dumps(hosts_of(group, addresses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
