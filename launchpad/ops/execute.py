"""Run an operation on one or more hosts of a Target.

Each connection gets a private temporary folder (0700) for its pinned known_hosts and,
on AWS, its throwaway key; it is removed when the command ends. The final command
inherits this process's terminal, so output streams as it comes, `-t` gives the remote
command a TTY, and the remote exit code is the local one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from launchpad.ops.access import HostRef
from launchpad.ops.connect import Runner, Target, capture
from launchpad.ops.remote import OpsError, Remote

SSH_FAILED = 255
"""ssh's own failure (no route, refused, host key mismatch, auth): never a remote exit code we pass on silently."""


@dataclass
class Done:
    host: HostRef
    code: int
    stdout: str = ""
    stderr: str = ""


def _argv(target: Target, host: HostRef, remote: Remote, workdir: Path, run: Runner) -> list[str]:
    target.prepare(host, workdir, run)
    argv = target.argv(host, remote, workdir)
    if shutil.which(argv[0]) is None:
        raise OpsError(f"{argv[0]}: not found on PATH (needed to reach {host.name})")
    return argv


def call(target: Target, host: HostRef, remote: Remote, *, captured: bool = False, run: Runner = capture) -> Done:
    """One host: streamed to this terminal, or captured (status)."""
    with tempfile.TemporaryDirectory(prefix="launchpad-ops-") as tmp:
        argv = _argv(target, host, remote, Path(tmp), run)
        if captured:
            done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            return Done(host, done.returncode, done.stdout, done.stderr)
        return Done(host, subprocess.call(argv))


def _pump(stream: TextIO, prefix: str, out: TextIO, lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            out.write(prefix + line)
            out.flush()


def call_all(target: Target, hosts: Sequence[HostRef], remote: Remote, run: Runner = capture) -> list[Done]:
    """Several hosts at once (logs --follow on every host), each line prefixed with its host."""
    if len(hosts) == 1:
        return [call(target, hosts[0], remote, run=run)]
    lock = threading.Lock()
    procs: list[tuple[HostRef, subprocess.Popen[str], list[threading.Thread]]] = []
    with tempfile.TemporaryDirectory(prefix="launchpad-ops-") as tmp:
        for i, host in enumerate(hosts):
            workdir = Path(tmp) / str(i)
            workdir.mkdir(mode=0o700)
            argv = _argv(target, host, remote, workdir, run)
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            assert proc.stdout is not None and proc.stderr is not None
            pumps = [threading.Thread(target=_pump, args=(s, f"[{host.name}] ", o, lock), daemon=True)
                     for s, o in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr))]
            for t in pumps:
                t.start()
            procs.append((host, proc, pumps))
        results = []
        for host, proc, pumps in procs:
            code = proc.wait()
            for t in pumps:
                t.join()
            results.append(Done(host, code))
        return results


def exit_code(results: Sequence[Done]) -> int:
    """The first non-zero exit code (a single host's own code), else 0."""
    return next((r.code for r in results if r.code != 0), 0)
