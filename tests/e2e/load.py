"""A steady, bounded request loop against a local machine, for fault tests.

Each thread sends GETs one after another (keep-alive off, like independent
clients), at most `rate` per second in all, until stopped or `max_seconds`
pass. Every answer or failure is recorded with its time.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field

from facts import fact


def get(address: str, path: str, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """One GET on port 80: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection(address, 80, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@dataclass
class Result:
    t: float
    status: int | None
    error: str | None = None
    body: bytes = b""


@dataclass
class Load:
    address: str
    host: str | None = None
    path: str = "/"
    threads: int = 3
    rate: float = 30.0
    max_seconds: float = 60.0
    timeout: float = 10.0
    results: list[Result] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self) -> None:
        interval = self.threads / self.rate
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            conn = http.client.HTTPConnection(self.address, 80, timeout=self.timeout)
            try:
                conn.request("GET", self.path, headers={"Host": self.host} if self.host else {})
                resp = conn.getresponse()
                res = Result(started, resp.status, body=resp.read())
            except OSError as exc:
                res = Result(started, None, f"{type(exc).__name__}: {exc}")
            finally:
                conn.close()
            with self._lock:
                self.results.append(res)
            time.sleep(max(0.0, interval - (time.monotonic() - started)))

    def __enter__(self) -> Load:
        for _ in range(self.threads):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 5)

    def failed(self, since: float = 0.0) -> list[Result]:
        return [r for r in self.results if r.t >= since and r.status != 200]

    def ok(self, since: float = 0.0) -> list[Result]:
        return [r for r in self.results if r.t >= since and r.status == 200]

    def report(self, label: str, since: float = 0.0) -> str:
        sent = [r for r in self.results if r.t >= since]
        failed = self.failed(since)
        kinds = sorted({r.error or str(r.status) for r in failed})
        return fact(f"{label}: sent {len(sent)}, failed {len(failed)}" + (f" ({', '.join(kinds)})" if kinds else ""))

    def wait_for(self, predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if predicate(list(self.results)):
                    return
            time.sleep(0.05)
        raise AssertionError("load: condition not met in time")
