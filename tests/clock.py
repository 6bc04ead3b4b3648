"""A clock the tests move by hand: `sleep` advances `now` at once, so waits and timeouts run instantly."""

from __future__ import annotations

from launchpad.release.rolling import Clock


class FakeClock(Clock):
    def __init__(self) -> None:
        self.t = 0.0
        super().__init__(now=lambda: self.t, sleep=self._sleep)

    def _sleep(self, s: float) -> None:
        self.t += s
