"""N slow clients against one loopback server, for a bounded time (stdlib only; run under nsenter --net).

    python3 bench/slowclients.py --port 80 --n 100 --mode trickle --seconds 20

- trickle:  sends a request one byte per `--interval` seconds and never finishes its headers
            (a phone on a bad line, or slowloris); reconnects when the server hangs up.
- slowread: sends a whole request for `--path` (a large answer) with a 4 KiB receive buffer,
            then reads 1 KiB per `--interval` seconds; reconnects when the answer ends or is cut.

Only 127.0.0.1 / ::1 are accepted as targets. Every loop ends at `--seconds` (at most 600)
or on SIGTERM/SIGINT; the last line printed is `SLOWJSON {...}` with the counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import socket
import sys
import time

MARK = "SLOWJSON "
MAX_SECONDS = 600.0
MAX_CLIENTS = 2000
LOOPBACK = ("127.0.0.1", "::1")


class Counts:
    def __init__(self) -> None:
        self.connects = self.closed_by_server = self.errors = self.bytes_sent = self.bytes_received = 0
        self.open = self.max_open = 0
        self.statuses: dict[str, int] = {}

    def opened(self) -> None:
        self.connects += 1
        self.open += 1
        self.max_open = max(self.max_open, self.open)


async def _connect(host: str, port: int, rcvbuf: int | None) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: it sets the window
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return sock


async def trickle(host: str, port: int, interval: float, end: float, c: Counts) -> None:
    loop = asyncio.get_running_loop()
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slowclient\r\nX-Slow: "
    while time.monotonic() < end:
        try:
            sock = await _connect(host, port, None)
        except OSError:
            c.errors += 1
            await asyncio.sleep(0.5)
            continue
        c.opened()
        try:
            i = 0
            while time.monotonic() < end:
                byte = request[i:i + 1] if i < len(request) else b"a"
                await loop.sock_sendall(sock, byte)
                c.bytes_sent += 1
                i += 1
                await asyncio.sleep(max(0.0, min(interval, end - time.monotonic())))
                # Did the server answer (408/400) or hang up meanwhile? A peek that does not wait:
                # the cheapest check, so 500 clients cost the host little beside the servers.
                try:
                    data = sock.recv(4096, socket.MSG_PEEK)
                except BlockingIOError:
                    continue
                c.bytes_received += len(data)
                c.closed_by_server += 1
                break
        except OSError:
            c.closed_by_server += 1
        finally:
            c.open -= 1
            sock.close()
        await asyncio.sleep(0.2)


async def slowread(host: str, port: int, path: str, interval: float, end: float, c: Counts) -> None:
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slowclient\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < end:
        try:
            sock = await _connect(host, port, 4096)
        except OSError:
            c.errors += 1
            await asyncio.sleep(0.5)
            continue
        c.opened()
        first = True
        try:
            await loop.sock_sendall(sock, request)
            c.bytes_sent += len(request)
            while time.monotonic() < end:
                data = await asyncio.wait_for(loop.sock_recv(sock, 1024), timeout=max(0.01, end - time.monotonic()))
                if not data:
                    c.closed_by_server += 1
                    break
                if first:
                    status = data.split(b" ", 2)[1].decode(errors="replace") if data.startswith(b"HTTP/") else "?"
                    c.statuses[status] = c.statuses.get(status, 0) + 1
                    first = False
                c.bytes_received += len(data)
                await asyncio.sleep(interval)
        except asyncio.TimeoutError:
            pass
        except OSError:
            c.closed_by_server += 1
        finally:
            c.open -= 1
            sock.close()
        await asyncio.sleep(0.2)


async def main(args: argparse.Namespace) -> Counts:
    c = Counts()
    started = time.monotonic()
    end = started + args.seconds
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = []
    for i in range(args.n):
        if args.mode == "trickle":
            tasks.append(asyncio.create_task(trickle(args.host, args.port, args.interval, end, c)))
        else:
            tasks.append(asyncio.create_task(slowread(args.host, args.port, args.path, args.interval, end, c)))
        await asyncio.sleep(args.ramp / max(1, args.n))  # spread the connects over the ramp
    print(f"slowclients: {args.n} {args.mode} clients started in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([waiter, *tasks], timeout=max(0.0, end - time.monotonic()), return_when=asyncio.FIRST_COMPLETED)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    waiter.cancel()
    c.open = 0
    return c


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--mode", choices=("trickle", "slowread"), required=True)
    ap.add_argument("--path", default="/big")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--ramp", type=float, default=2.0, help="seconds over which the clients connect")
    ap.add_argument("--seconds", type=float, required=True)
    args = ap.parse_args(argv)
    if args.host not in LOOPBACK:
        ap.error(f"--host {args.host!r}: only loopback ({', '.join(LOOPBACK)}) is a valid target")
    if not 0 < args.seconds <= MAX_SECONDS:
        ap.error(f"--seconds {args.seconds}: expected 0 < s <= {MAX_SECONDS:g}")
    if not 0 < args.n <= MAX_CLIENTS:
        ap.error(f"--n {args.n}: expected 1..{MAX_CLIENTS}")
    if args.interval <= 0:
        ap.error(f"--interval {args.interval}: expected > 0")
    return args


if __name__ == "__main__":
    a = parse()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.n * 2 + 64)), hard))
    counts = asyncio.run(main(a))
    used = resource.getrusage(resource.RUSAGE_SELF)
    print(MARK + json.dumps({"n": a.n, "mode": a.mode, "seconds": a.seconds, "connects": counts.connects,
                             "cpu_s": round(used.ru_utime + used.ru_stime, 2),
                             "closed_by_server": counts.closed_by_server, "errors": counts.errors,
                             "max_open": counts.max_open, "bytes_sent": counts.bytes_sent,
                             "bytes_received": counts.bytes_received, "statuses": counts.statuses}), flush=True)
