"""launchpad/local/rolling.py's order of work without machines: the balancer, the agents and the
health probes are fakes that record what happened; the store is a real folder. (The same flow on
real machines: tests/e2e/test_balanced.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from launchpad.local import balancer, rolling
from launchpad.local.release import ReleaseFailed
from launchpad.release.manifest import new_manifest
from launchpad.release.store import DirStore

HOSTS = [rolling.Host(f"lp-s-web-{i}", f"web-{i}", f"10.213.0.{4 * i + 2}") for i in range(3)]


def manifest(env: str) -> Any:
    return new_manifest(artifact="a" * 64, artifact_bytes=1, source_hash="b" * 64, deps_hash="c" * 16, deps="none",
                        app="rocket", module="rocket:app", env={"V": env}, secrets=None, release_command=None,
                        health_path="/healthz", static={}, writable=(), workers=None, threads=None, keep=5)


class Fleet:
    """Agents that switch when pointed (unless told to refuse), a balancer that records calls."""

    def __init__(self, store: Path, live: str | None, refuse: set[tuple[str, str]] = frozenset()) -> None:
        self.store, self.refuse, self.events = store, set(refuse), []
        self.live = {h.machine: live for h in HOSTS}

    def pointer(self, name: str) -> str:
        pin = self.store / "releases" / "desired" / f"{name}.json"
        path = pin if pin.is_file() else self.store / "releases" / "desired.json"
        return json.loads(path.read_text())["id"]

    def wait(self, h: rolling.Host, domain: Any, m: Any, deadline: float, before: Any, progress: Any) -> None:
        wanted = self.pointer(h.machine)
        assert wanted == m.id, f"{h.machine} follows {wanted}, asked to serve {m.id}"
        if (h.machine, m.id) in self.refuse:
            self.events.append(("refused", h.machine, m.id))
            raise ReleaseFailed(f"release {m.id} was refused at stage 'health'")
        self.live[h.machine] = m.id
        self.events.append(("live", h.machine, m.id))


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = DirStore(tmp_path / "store")
    old, new = manifest("1"), manifest("2")
    for m in (old, new):
        store.put_manifest(m)

    def make(live: str | None, refuse: set[tuple[str, str]] = frozenset()) -> Fleet:
        fleet = Fleet(store.root, live, refuse)
        if live:
            store.set_desired(live)
        monkeypatch.setattr(rolling, "store_dir", lambda stack: store.root)
        monkeypatch.setattr(rolling, "hosts", lambda stack: HOSTS)
        monkeypatch.setattr(rolling, "host_status", lambda name: {"live": fleet.live[name]})
        monkeypatch.setattr(rolling, "poke_machine", lambda name: fleet.events.append(("poke", name)))
        monkeypatch.setattr(rolling, "_wait_host", fleet.wait)
        monkeypatch.setattr(balancer, "drain", lambda stack, server: fleet.events.append(("drain", server)) or 0.0)
        monkeypatch.setattr(balancer, "rejoin", lambda stack, server: fleet.events.append(("rejoin", server)) or 0.0)
        monkeypatch.setattr(balancer, "wait_status", lambda stack, server, want, t: 0.0)
        return fleet

    return store, old, new, make


def _pins(store: DirStore) -> list[str]:
    return sorted(p.name for p in (store.root / "releases" / "desired").glob("*.json"))


def test_hosts_switch_one_after_another_then_the_stack_pointer_moves(world) -> None:
    store, old, new, make = world
    fleet = make(old.id)
    rolled = rolling.roll("s", None, new, 60, progress=lambda _: None)
    assert [h["machine"] for h in rolled.hosts] == [h.machine for h in HOSTS]
    expected = []
    for i, h in enumerate(HOSTS):
        expected += [("drain", f"web-{i}"), ("poke", h.machine), ("live", h.machine, new.id), ("rejoin", f"web-{i}")]
    assert fleet.events == expected
    assert store.get_desired().id == new.id and _pins(store) == []


def test_a_refusal_on_the_first_host_stops_the_roll_and_touches_no_other(world) -> None:
    store, old, new, make = world
    fleet = make(old.id, refuse={(HOSTS[0].machine, new.id)})
    with pytest.raises(ReleaseFailed, match=r"(?s)stopped at lp-s-web-0 \(host 1 of 3\).*not touched: lp-s-web-1, lp-s-web-2"):
        rolling.roll("s", None, new, 60, progress=lambda _: None)
    assert fleet.events == [("drain", "web-0"), ("poke", "lp-s-web-0"), ("refused", "lp-s-web-0", new.id), ("rejoin", "web-0")]
    assert set(fleet.live.values()) == {old.id}
    assert store.get_desired().id == old.id and _pins(store) == []


def test_a_refusal_further_on_rolls_the_switched_hosts_back(world) -> None:
    store, old, new, make = world
    fleet = make(old.id, refuse={(HOSTS[1].machine, new.id)})
    with pytest.raises(ReleaseFailed, match=r"(?s)stopped at lp-s-web-1 \(host 2 of 3\).*rolled back: lp-s-web-0; not touched: lp-s-web-2"):
        rolling.roll("s", None, new, 60, progress=lambda _: None)
    assert ("live", "lp-s-web-0", new.id) in fleet.events and fleet.events[-2:] == [("live", "lp-s-web-0", old.id),
                                                                                   ("rejoin", "web-0")]
    assert set(fleet.live.values()) == {old.id}
    assert store.get_desired().id == old.id and _pins(store) == []


def test_a_fleet_serving_nothing_yet_takes_its_first_release_everywhere_at_once(world) -> None:
    store, _, new, make = world
    fleet = make(None)
    rolling.roll("s", None, new, 60, progress=lambda _: None)
    # No drain: nothing served; each host is then seen healthy in the balancer.
    assert [e[0] for e in fleet.events] == ["poke"] * 3 + ["live", "rejoin"] * 3
    assert store.get_desired().id == new.id


def test_a_host_already_on_the_release_is_left_alone(world) -> None:
    store, old, new, make = world
    fleet = make(old.id)
    fleet.live[HOSTS[0].machine] = new.id  # e.g. a roll that stopped, then ran again
    rolling.roll("s", None, new, 60, progress=lambda _: None)
    assert ("drain", "web-0") not in fleet.events and ("drain", "web-1") in fleet.events


def test_show_stat_is_read_per_server() -> None:
    text = ("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,hrsp_5xx,\n"
            "web,FRONTEND,,,1,2,,5,,,,,,,,,,OPEN,,\n"
            "hosts,web-0,0,0,2,3,,10,,,,,,,,1,0,UP,0,\n"
            "hosts,web-1,0,0,0,3,,10,,,,,,,,0,2,DRAIN,4,\n"
            "hosts,BACKEND,0,0,2,3,,20,,,,,,,,1,2,UP,4,\n")
    seen = balancer.parse_stat(text)
    assert sorted(seen) == ["web-0", "web-1"]
    assert seen["web-1"] == balancer.Server("web-1", "DRAIN", 0, 10, 0, 2, 4)

