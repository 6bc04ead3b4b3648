"""AWS's adapter for the shared rolling loop (launchpad/release/rolling.py): the ALB's target group.

    fleet = AwsRollFleet(elbv2, store, target_group_arn)

- hosts: the instances registered in the target group (`describe_target_health`), by id: the
  Auto Scaling group registers every host it launches there; plus any host that published a
  status and is still running (`ec2.describe_instances`) but is not registered: one a roll that
  was killed between its deregistration and its return left out of rotation, which this roll
  then puts back;
- drain: `deregister_targets`, then `describe_target_health` until the target is `unused`
  (the target group's deregistration delay lets its open requests finish; a target AWS no
  longer lists counts as gone);
- pin / pointer / status: the store (launchpad/ops/roll_store.py); the host's agent publishes
  its status.json there, so nothing reaches into the host (no SSH, no inbound port);
- rejoin: `register_targets`, then `describe_target_health` until the target is `healthy`
  (the balancer's own health check on the app's health path passed); `unhealthy` for longer
  than the wait, or never healthy, fails the host.
The Auto Scaling group checks health through the same target group (ELB health) with a grace
period of 10 minutes; a deregistered target is `unused`, not `unhealthy`, so the group leaves
it be while it is out of rotation.

boto3 clients are passed in (tests: botocore's Stubber); `clients()` makes real ones.
"""

from __future__ import annotations

from typing import Any

from launchpad.ops.roll_store import RollStore, StoreFleet
from launchpad.release.rolling import Clock

PORT = 80
DRAIN_TIMEOUT_S = 30 + 60
"""The target group's deregistration delay (components/aws/balancer.py) and a margin."""
HEALTHY_TIMEOUT_S = 180
"""Two checks 10 s apart pass a healthy host; this much allows for a slow first answer."""


class BalancerWaitError(RuntimeError):
    """The balancer did not reach the state asked for in time; the message says what it showed."""


def clients(region: str, profile: str | None = None) -> tuple[Any, Any, Any]:
    """(elbv2, s3, ec2) from the standard credential chain (environment, profile, SSO)."""
    import boto3  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: PLC0415

    session = boto3.Session(profile_name=profile, region_name=region)
    return session.client("elbv2"), session.client("s3"), session.client("ec2")


class AwsRollFleet(StoreFleet):
    def __init__(self, elbv2: Any, store: RollStore, target_group_arn: str, clock: Clock | None = None,
                 poll_s: float = 2.0, drain_timeout_s: float = DRAIN_TIMEOUT_S,
                 healthy_timeout_s: float = HEALTHY_TIMEOUT_S, ec2: Any = None) -> None:
        self.elbv2, self.store, self.arn, self.ec2 = elbv2, store, target_group_arn, ec2
        self.clock = clock or Clock()
        self.poll_s, self.drain_timeout_s, self.healthy_timeout_s = poll_s, drain_timeout_s, healthy_timeout_s

    def _health(self, host: str | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TargetGroupArn": self.arn}
        if host is not None:
            kwargs["Targets"] = [{"Id": host, "Port": PORT}]
        return list(self.elbv2.describe_target_health(**kwargs).get("TargetHealthDescriptions", []))

    def hosts(self) -> list[str]:
        seen = {str(d["Target"]["Id"]) for d in self._health()
                if (d.get("TargetHealth") or {}).get("State") not in ("draining", "unused")}
        return sorted(seen | self._left_out(seen))

    def _left_out(self, registered: set[str]) -> set[str]:
        """Running instances that published a status but are not in the target group."""
        if self.ec2 is None:
            return set()
        candidates = sorted(set(self.store.statuses()) - registered)
        if not candidates:
            return set()
        # Filters, not InstanceIds: an id AWS has forgotten (terminated long ago) matches nothing instead of failing.
        found = self.ec2.describe_instances(Filters=[{"Name": "instance-id", "Values": candidates},
                                                     {"Name": "instance-state-name", "Values": ["running"]}])
        running = {str(i["InstanceId"]) for r in found.get("Reservations", []) for i in r.get("Instances", [])}
        for gone in set(candidates) - running:
            self.store.forget(gone)  # a replaced instance's last status: nobody reads it again
        return running

    def state(self, host: str) -> tuple[str, str]:
        """(state, reason) of one target; ("unused", "Target.NotRegistered") when AWS lists none."""
        found = self._health(host)
        if not found:
            return "unused", "Target.NotRegistered"
        health = found[0].get("TargetHealth") or {}
        return str(health.get("State", "")), str(health.get("Reason") or health.get("Description") or "")

    def _until(self, host: str, wanted: str, timeout_s: float, fail_on: tuple[str, ...] = ()) -> float:
        started = self.clock.now()
        while True:
            state, reason = self.state(host)
            if state == wanted:
                return self.clock.now() - started
            if state in fail_on and self.clock.now() - started >= timeout_s / 2:
                raise BalancerWaitError(f"{host}: the target group calls it {state} ({reason}), not {wanted}")
            if self.clock.now() - started >= timeout_s:
                raise BalancerWaitError(f"{host}: not {wanted} in the target group after {timeout_s:g} s "
                                        f"(it shows {state}{f': {reason}' if reason else ''})")
            self.clock.sleep(self.poll_s)

    def drain(self, host: str) -> float:
        self.elbv2.deregister_targets(TargetGroupArn=self.arn, Targets=[{"Id": host, "Port": PORT}])
        return self._until(host, "unused", self.drain_timeout_s)

    def rejoin(self, host: str) -> float:
        self.elbv2.register_targets(TargetGroupArn=self.arn, Targets=[{"Id": host, "Port": PORT}])
        return self._until(host, "healthy", self.healthy_timeout_s, fail_on=("unhealthy",))
