"""launchpad/release/rolling.py, the loop every provider shares, against a fake fleet and a fake clock:
order of work, drain before the pin, stop at the first failure, rejoin only once serving, timeouts.
(The provider adapters: tests/launchpad/ops/test_roll_aws.py, test_roll_do.py; the local target's,
on real machines: tests/e2e/test_balanced.py.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from launchpad.release.manifest import Manifest, new_manifest
from clock import FakeClock
from launchpad.release.rolling import HostRefused, RollStopped, StatusWait, roll

HOSTS = ["i-a", "i-b", "i-c"]


def manifest(v: str) -> Manifest:
    return new_manifest(artifact="a" * 64, artifact_bytes=1, source_hash="b" * 64, deps_hash="c" * 16, deps="none",
                        app="rocket", module="rocket:app", env={"V": v}, secrets=None, release_command=None,
                        health_path="/healthz", static={}, writable=(), workers=None, threads=None, keep=5)


OLD, NEW = manifest("1"), manifest("2")


class FakeFleet(StatusWait):
    """Agents that follow their pin after `delay` s of fake time, unless told to refuse or hang;
    every call recorded in `events`."""

    def __init__(self, live: str | None, refuse: Mapping[str, str] = {}, hang: frozenset[str] = frozenset(),
                 delay: float = 3.0, unhealthy_rejoin: frozenset[str] = frozenset()) -> None:
        self.clock = FakeClock()
        self.poll_s = 1.0
        self.live = {h: live for h in HOSTS}
        self.pins: dict[str, tuple[str, float]] = {}
        self.pointer = live
        self.failure: dict[str, dict[str, Any] | None] = {h: None for h in HOSTS}
        self.refuse, self.hang, self.delay, self.unhealthy_rejoin = dict(refuse), hang, delay, unhealthy_rejoin
        self.events: list[tuple[str, ...]] = []
        self.in_rotation = set(HOSTS)

    def hosts(self) -> list[str]:
        return list(HOSTS)

    def status(self, host: str) -> dict[str, Any]:
        pinned = self.pins.get(host)
        wanted = pinned[0] if pinned else self.pointer
        since = pinned[1] if pinned else 0.0
        if wanted and wanted != self.live[host] and host not in self.hang and self.clock.now() - since >= self.delay:
            if self.refuse.get(host) == wanted:
                self.failure[host] = {"id": wanted, "stage": "release", "exit": 3, "tail": "boom", "at": self.clock.now()}
            else:
                self.live[host] = wanted
                self.events.append(("live", host, wanted))
        return {"live": self.live[host], "last_failure": self.failure[host]}

    def drain(self, host: str) -> float:
        assert host in self.in_rotation, f"{host} drained twice"
        self.in_rotation.discard(host)
        self.events.append(("drain", host))
        return 1.0

    def pin(self, host: str, release_id: str) -> None:
        assert host not in self.in_rotation, f"{host} pinned while the balancer still sends it requests"
        self.pins[host] = (release_id, self.clock.now())
        self.events.append(("pin", host, release_id))

    def unpin(self, host: str) -> None:
        if self.pins.pop(host, None):
            self.events.append(("unpin", host))

    def poke(self, host: str) -> None:
        pass

    def rejoin(self, host: str) -> float:
        self.events.append(("rejoin", host))
        if host in self.unhealthy_rejoin:
            raise RuntimeError(f"{host}: unhealthy in the balancer")
        self.in_rotation.add(host)
        return 2.0

    def set_pointer(self, release_id: str) -> None:
        assert all(h in self.pins or self.live[h] == release_id for h in HOSTS) or not any(self.live.values())
        self.pointer = release_id
        self.events.append(("pointer", release_id))


def quiet(_: str) -> None:
    pass


def steps(host: str, rid: str) -> list[tuple[str, ...]]:
    return [("drain", host), ("pin", host, rid), ("live", host, rid), ("rejoin", host)]


def test_hosts_roll_in_order_drained_before_pinned_rejoined_once_live_then_the_pointer_then_the_pins_go() -> None:
    fleet = FakeFleet(OLD.id)
    rolled = roll(fleet, NEW, OLD, 60, quiet, fleet.clock)
    expected = [e for h in HOSTS for e in steps(h, NEW.id)]
    expected += [("pointer", NEW.id), *(("unpin", h) for h in HOSTS)]
    assert fleet.events == expected
    assert [h["host"] for h in rolled.hosts] == HOSTS and all(h["took_s"] == 3.0 for h in rolled.hosts)
    assert fleet.in_rotation == set(HOSTS) and fleet.pins == {}


@pytest.mark.parametrize("bad, rolled_back, untouched, message", [
    (0, [], ["i-b", "i-c"], r"stopped at i-a \(host 1 of 3\).*refused at stage 'release'.*not touched: i-b, i-c"),
    (1, ["i-a"], ["i-c"], r"stopped at i-b \(host 2 of 3\).*rolled back: i-a; not touched: i-c"),
    (2, ["i-a", "i-b"], [], r"stopped at i-c \(host 3 of 3\).*rolled back: i-a, i-b; no other host"),
])
def test_a_refusal_stops_the_roll_and_every_host_ends_on_the_old_release(bad: int, rolled_back: list[str],
                                                                         untouched: list[str], message: str) -> None:
    fleet = FakeFleet(OLD.id, refuse={HOSTS[bad]: NEW.id})
    with pytest.raises(RollStopped, match=f"(?s){message}"):
        roll(fleet, NEW, OLD, 60, quiet, fleet.clock)
    assert set(fleet.live.values()) == {OLD.id} and fleet.pointer == OLD.id and fleet.pins == {}
    assert fleet.in_rotation == set(HOSTS)
    for h in untouched:
        assert not [e for e in fleet.events if e[1] == h]
    for h in rolled_back:
        assert ("live", h, OLD.id) in fleet.events
    assert ("pointer", NEW.id) not in fleet.events


def test_a_host_that_never_serves_times_out_and_stops_the_roll_there() -> None:
    fleet = FakeFleet(OLD.id, hang=frozenset({"i-a"}))
    with pytest.raises(RollStopped, match=r"(?s)stopped at i-a .*not live within 20 s.*not touched: i-b, i-c"):
        roll(fleet, NEW, OLD, 20, quiet, fleet.clock)
    assert 20 <= fleet.clock.t < 30 and fleet.pins == {} and fleet.pointer == OLD.id


def test_a_host_the_balancer_calls_unhealthy_on_rejoin_stops_the_roll() -> None:
    fleet = FakeFleet(OLD.id, unhealthy_rejoin=frozenset({"i-a"}))
    with pytest.raises(RollStopped, match=r"(?s)stopped at i-a .*unhealthy in the balancer"):
        roll(fleet, NEW, OLD, 60, quiet, fleet.clock)
    assert ("drain", "i-b") not in fleet.events and fleet.pointer == OLD.id


def test_rejoin_only_after_the_host_serves_the_new_release() -> None:
    fleet = FakeFleet(OLD.id, delay=7.0)
    roll(fleet, NEW, OLD, 60, quiet, fleet.clock)
    for h in HOSTS:
        assert fleet.events.index(("live", h, NEW.id)) < fleet.events.index(("rejoin", h))


def test_hosts_already_on_the_release_are_skipped() -> None:
    fleet = FakeFleet(OLD.id)
    fleet.live["i-a"] = NEW.id
    fleet.in_rotation.discard("i-a")  # as a roll killed after draining it would have left it
    roll(fleet, NEW, OLD, 60, quiet, fleet.clock)
    assert ("drain", "i-a") not in fleet.events and ("drain", "i-b") in fleet.events
    assert fleet.events[0] == ("rejoin", "i-a") and fleet.in_rotation == set(HOSTS)


def test_a_fleet_serving_nothing_takes_the_release_everywhere_at_once() -> None:
    fleet = FakeFleet(None)
    roll(fleet, NEW, None, 60, quiet, fleet.clock)
    assert fleet.events[0] == ("pointer", NEW.id) and not [e for e in fleet.events if e[0] in ("drain", "pin")]
    assert set(fleet.live.values()) == {NEW.id}


def test_no_host_yet_only_moves_the_pointer() -> None:
    fleet = FakeFleet(None)
    fleet.hosts = lambda: []  # type: ignore[method-assign]
    rolled = roll(fleet, NEW, None, 60, quiet, fleet.clock)
    assert fleet.events == [("pointer", NEW.id)] and rolled.hosts == []


def test_status_wait_raises_on_a_new_refusal_only() -> None:
    fleet = FakeFleet(OLD.id, refuse={"i-a": NEW.id})
    old_failure = {"id": NEW.id, "stage": "release", "exit": 3, "tail": "boom", "at": -1}
    fleet.failure["i-a"] = old_failure
    fleet.pins["i-a"] = (NEW.id, 0.0)
    with pytest.raises(HostRefused, match="refused at stage 'release'"):
        fleet.wait("i-a", NEW, 60, old_failure, quiet)
