"""A release rolled host by host through a balancer: the one loop every provider shares.

    rolled = roll(fleet, manifest, progress=print)

`fleet` is a provider's adapter (`Fleet` below): the local target drives HAProxy's runtime API
and reads each machine's status from its disk (launchpad/local/rolling.py); AWS deregisters the
instance from the ALB's target group (launchpad/ops/roll_aws.py); DigitalOcean takes the droplet
off the Load Balancer (launchpad/ops/roll_do.py). The loop, for each host in `fleet.hosts()`:
  1. drain: the balancer stops sending it new requests and its open ones finish;
  2. pin: `releases/desired/<host>.json` = the new id (the agent follows its own pointer before
     the stack's; files/agent/launchpad_agent/store.py), and poke the agent where one can;
  3. wait until the host reports the new id live (its agent's status.json: the agent marks a
     release live only after its own Nginx served it) and the adapter's own check agrees, or
     the agent records it refused, or the deadline passes;
  4. rejoin: back in the balancer, and healthy there (the balancer's own health check).
The first host that fails stops the roll: it never left its old release (blue/green), it
rejoins, hosts already switched go back to the old release the same way, every pin is removed,
and `RollStopped` says where and why. When every host serves the new id the stack's pointer
moves (a host booted later follows it), then the pins go: in that order, so no host ever sees
neither. A fleet serving nothing yet takes the release everywhere at once (nothing to drain).

Pure: no I/O of its own, the clock and sleep injectable (tests/launchpad/release/test_rolling.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from launchpad.release.manifest import Manifest

Progress = Callable[[str], None]
POLL_S = 0.5


class RollStopped(RuntimeError):
    """The roll stopped at a host; the message names it, why, and what every other host serves."""


class HostRefused(RuntimeError):
    """One host's agent refused the release (its last_failure), or the adapter saw it fail."""


class Fleet(Protocol):
    """One provider's view of a balanced stack, as the loop needs it."""

    def hosts(self) -> list[str]:
        """Host ids in roll order (instance ids, droplet ids, machine names)."""
        ...

    def status(self, host: str) -> Mapping[str, Any]:
        """The host agent's last status.json ({} when unknown): live, last_failure, ..."""
        ...

    def drain(self, host: str) -> float:
        """Out of the balancer, open requests finished; seconds it took."""
        ...

    def pin(self, host: str, release_id: str) -> None: ...

    def unpin(self, host: str) -> None: ...

    def poke(self, host: str) -> None:
        """Tell the host's agent to look now (a no-op where the 2-second timer must do)."""
        ...

    def wait(self, host: str, manifest: Manifest, deadline_s: float, before: Any, progress: Progress) -> None:
        """Until the host serves `manifest`: HostRefused when its agent refuses it (a new
        last_failure for that id, not `before`), TimeoutError past `deadline_s`. `StatusWait`
        does it from status(); the local target also GETs the machine itself."""
        ...

    def rejoin(self, host: str) -> float:
        """Back in the balancer and healthy in its check; seconds it took."""
        ...

    def set_pointer(self, release_id: str) -> None:
        """The stack's `releases/desired.json`."""
        ...


@dataclass
class Rolled:
    release: str
    seconds: float
    hosts: list[dict[str, Any]] = field(default_factory=list)
    """Per host: host, took_s (pointed -> serving), drained_s, rejoined_s."""


@dataclass
class Clock:
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def failure_text(failure: Mapping[str, Any]) -> str:
    tail = str(failure.get("tail") or "").rstrip()
    lines = [f"release {failure.get('id')} was refused at stage {failure.get('stage')!r} "
             f"(exit {failure.get('exit')}); the previous release keeps serving"]
    if tail:
        lines += ["last output:", *("  " + line for line in tail.splitlines()[-40:])]
    return "\n".join(lines)


class StatusWait:
    """`Fleet.wait` from the agent's published status alone (the clouds: the deployer cannot reach
    a host, and its agent marks a release live only after its own Nginx served it; the balancer's
    health check on rejoin is the second opinion)."""

    clock: Clock = Clock()
    poll_s: float = POLL_S

    def status(self, host: str) -> Mapping[str, Any]:
        raise NotImplementedError

    def wait(self, host: str, manifest: Manifest, deadline_s: float, before: Any, progress: Progress) -> None:
        started = self.clock.now()
        said, seen = "", "nothing yet"
        while True:
            status = self.status(host)
            failure = status.get("last_failure")
            if isinstance(failure, Mapping) and failure.get("id") == manifest.id and failure != before:
                raise HostRefused(failure_text(failure))
            if status.get("live") == manifest.id:
                return
            seen = f"its agent reports {status.get('live') or 'no release'} live" if status else "no status published yet"
            if seen != said:
                progress(f"  {host}: waiting for {manifest.id}: {seen}")
                said = seen
            if self.clock.now() - started >= deadline_s:
                raise TimeoutError(f"{host}: release {manifest.id} not live within {deadline_s:g} s; last seen: {seen}")
            self.clock.sleep(self.poll_s)


def _one(fleet: Fleet, host: str, manifest: Manifest, deadline_s: float, progress: Progress, clock: Clock) -> dict[str, Any]:
    drained = fleet.drain(host)
    progress(f"  {host}: drained in {drained:.1f} s; pointing it at {manifest.id}")
    before = fleet.status(host).get("last_failure")
    pointed = clock.now()
    fleet.pin(host, manifest.id)
    fleet.poke(host)
    fleet.wait(host, manifest, deadline_s, before, progress)
    took = clock.now() - pointed
    rejoined = fleet.rejoin(host)
    progress(f"  {host}: serves {manifest.id} ({took:.1f} s after it was pointed), back in rotation ({rejoined:.1f} s)")
    return {"host": host, "took_s": round(took, 2), "drained_s": round(drained, 2), "rejoined_s": round(rejoined, 2)}


def roll(fleet: Fleet, manifest: Manifest, old: Manifest | None = None, deadline_s: float = 900.0,
         progress: Progress = print, clock: Clock | None = None) -> Rolled:
    """Rolls `manifest` over the fleet. `old`: what a stopped roll returns switched hosts to (default:
    what the first host serves, if the caller has its manifest)."""
    clock = clock or Clock()
    hosts = fleet.hosts()
    started = clock.now()
    live = {h: fleet.status(h).get("live") for h in hosts}
    if not any(live.values()):
        return _everywhere(fleet, hosts, manifest, deadline_s, progress, clock)
    result = Rolled(manifest.id, 0.0)
    done: list[str] = []
    for index, host in enumerate(hosts):
        if live[host] == manifest.id:
            # In rotation too: a roll killed between drain and rejoin may have left it out.
            progress(f"  {host}: already serves {manifest.id}; in rotation after {fleet.rejoin(host):.1f} s")
            continue
        try:
            result.hosts.append(_one(fleet, host, manifest, deadline_s, progress, clock))
        except Exception as err:  # noqa: BLE001 - whatever stopped it, the fleet goes back to one release
            progress(f"  {host}: did not take {manifest.id}; stopping the roll")
            _quietly(fleet.unpin, host, progress)
            _quietly(fleet.rejoin, host, progress)
            back = _back(fleet, done, old, deadline_s, progress, clock)
            untouched = [h for h in hosts[index + 1:]]
            raise RollStopped(
                f"rolling release {manifest.id} stopped at {host} (host {index + 1} of {len(hosts)}): {err}\n"
                f"{host} kept serving {live[host]}; "
                + (f"rolled back: {', '.join(done)}; " if done else "") + back
                + (f"not touched: {', '.join(untouched)}" if untouched else "no other host")) from None
        done.append(host)
    fleet.set_pointer(manifest.id)
    for host in hosts:
        fleet.unpin(host)
    result.seconds = clock.now() - started
    return result


def _back(fleet: Fleet, done: list[str], old: Manifest | None, deadline_s: float, progress: Progress, clock: Clock) -> str:
    """Hosts already switched go back to `old` the same way (drained, pointed, healthy, rejoined).
    Returns a note for the message when one could not."""
    trouble = []
    for host in reversed(done):
        try:
            if old is None:
                trouble.append(f"{host}: no earlier release known to return to")
            else:
                _one(fleet, host, old, deadline_s, progress, clock)
        except Exception as err:  # noqa: BLE001 - report it, keep returning the others
            trouble.append(f"{host}: {err}")
        finally:
            _quietly(fleet.unpin, host, progress)
    return "".join(f"NOT rolled back: {t}; " for t in trouble)


def _quietly(step: Callable[[str], Any], host: str, progress: Progress) -> None:
    try:
        step(host)
    except Exception as err:  # noqa: BLE001 - its old release may be unhealthy on its own; the balancer keeps checking
        progress(f"  {host}: {getattr(step, '__name__', 'step')}: {err}")


def _everywhere(fleet: Fleet, hosts: list[str], manifest: Manifest, deadline_s: float, progress: Progress,
                clock: Clock) -> Rolled:
    started = clock.now()
    befores = {h: fleet.status(h).get("last_failure") for h in hosts}
    for host in hosts:
        fleet.unpin(host)
    fleet.set_pointer(manifest.id)
    progress(f"  no host serves a release yet: {manifest.id} everywhere at once" if hosts
             else f"  no host yet: the stack's pointer names {manifest.id}; hosts booted later take it")
    for host in hosts:
        fleet.poke(host)
    result = Rolled(manifest.id, 0.0)
    for host in hosts:
        fleet.wait(host, manifest, max(1.0, deadline_s - (clock.now() - started)), befores[host], progress)
        result.hosts.append({"host": host, "took_s": round(clock.now() - started, 2)})
        fleet.rejoin(host)
    result.seconds = clock.now() - started
    return result
