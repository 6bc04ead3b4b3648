"""Helpers for tests/e2e/test_release_apps.py: a test app deployed as a user does it.

`AppStack` writes the app's `Pulumi.<stack>.yaml` (the CLI reads stack files from the project
root only, so it lives there while the module runs), runs the deployer's commands with the
secret in the environment (as on a laptop without Pulumi) and keeps everything they print,
so the module can search it for the secret. `rolled()` runs one command under a steady
request loop and reads the times the command prints; `agent_steps()` reads the agent's
own per-stage times from the machine's journal.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from launchpad.local import machine, records
from launchpad.settings import PROJECT_ROOT

from .conftest import cli
from .load import Load, get


@dataclass
class AppStack:
    name: str
    app: Path
    """The copy of the test app that the tests edit (tests/apps/* stay as they are)."""
    secret: str
    outputs: list[str] = field(default_factory=list)
    address: str = ""
    init_pid: int = 0
    ids: dict[str, str] = field(default_factory=dict)
    """Release ids by what the tests made them for ("first", "1.1.0", "deps", ...)."""

    @property
    def web(self) -> str:
        return f"lp-{self.name}"

    @property
    def db(self) -> str:
        return f"lp-{self.name}-db"

    @property
    def stack_file(self) -> Path:
        return PROJECT_ROOT / f"Pulumi.{self.name}.yaml"

    def write(self, app_config: dict[str, Any], **extra: Any) -> None:
        config = {"launchpad:provider": "local", "launchpad:rateLimit": 0, **extra,  # one client address: no limit
                  "launchpad:app": {"path": str(self.app), **app_config,
                                    # Encrypted: only Pulumi could decrypt it, so the value comes from the environment.
                                    "secrets": {"SECRET_KEY": {"secure": "v1:only-pulumi-could-decrypt-this"}}}}
        self.stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        out = cli(*args, env={"LAUNCHPAD_SECRET_SECRET_KEY": self.secret})
        self.outputs.append(f"$ launchpad {' '.join(args)}\n{out.stdout}\n{out.stderr}")
        return out

    def sh(self, command: str, name: str | None = None) -> str:
        return machine.run(name or self.web, ["sh", "-c", command]).stdout

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return get(self.address, path, timeout=15)

    def post(self, path: str, form: str) -> int:
        conn = http.client.HTTPConnection(self.address, 80, timeout=15)
        try:
            conn.request("POST", path, body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
            return conn.getresponse().status
        finally:
            conn.close()

    def json(self, path: str) -> dict[str, Any]:
        code, _, body = self.get(path)
        assert code == 200, (path, code, body[:300])
        return json.loads(body)

    def smoke(self, *args: str) -> dict[str, Any]:
        """The app's own stdlib smoke script, through Nginx."""
        proc = subprocess.run([sys.executable, str(self.app / "smoke.py"), f"http://{self.address}", *args],
                              capture_output=True, text=True, timeout=180)
        result = json.loads(proc.stdout)
        assert proc.returncode == 0 and result["ok"], proc.stdout + proc.stderr
        return result

    def init_pid_now(self) -> int:
        state = machine.status(self.web)
        assert state is not None and state.init_pid
        return state.init_pid

    def agent_steps(self, release: str) -> dict[str, float]:
        """The agent's own stage times for `release`, from its journal (the release's last attempt
        wins): fetched, installed (venv + pip; ~0 when the venv is reused), database, release (its
        command), boot (a cold slot) or warm (a parked slot woken), health, switch, and live
        (from the agent's start to Nginx serving it)."""
        entries: list[str] = []
        for line in self.sh("journalctl -u launchpad-agent.service -o cat --no-pager").splitlines():
            if line.startswith("  | ") and entries:
                entries[-1] += "\n" + line  # a multi-line message: its time ends the last line
            else:
                entries.append(line)
        prefixes = [("fetched", "fetched"), ("installed", "installed"), ("database", "database"),
                    ("release command done", "release")]
        steps: dict[str, float] = {}
        for entry in entries:
            took = re.search(r"\(([0-9.]+) s\)$", entry)
            if not entry.startswith(f"{release}: ") or not took:
                continue
            what = entry[len(release) + 2:]
            if what.startswith("live on slot "):
                key: str | None = "switch"
                steps["live"] = float(re.findall(r"serving after ([0-9.]+) s", what)[0])
            elif what.startswith("slot "):
                key = "warm" if " was parked on " in what else "boot" if " started (" in what else \
                    "health" if " healthy (" in what else None
            else:
                key = next((k for prefix, k in prefixes if what.startswith(prefix)), None)
            if key == "fetched":
                steps = {}  # a new attempt at this release (a rollback to it): only its own stages
            if key:
                steps[key] = float(took.group(1))
        return steps

    def upper(self) -> Path:
        """The web machine's own disk: its overlay's upper layer (all it wrote since the base image)."""
        return records.machine_dir(self.web) / "upper"


def holding(root: Path, *needles: bytes) -> dict[bytes, list[str]]:
    """Files under `root` whose bytes hold each needle, relative to `root`; a .tar.gz is also
    searched decompressed (an artifact's contents)."""
    found: dict[bytes, list[str]] = {n: [] for n in needles}
    for path in sorted(root.rglob("*")):
        try:
            if not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            if path.name.endswith(".tar.gz"):
                data += gzip.decompress(data)
        except OSError:
            continue
        for needle in needles:
            if needle in data:
                found[needle].append(str(path.relative_to(root)))
    return found


@dataclass
class Rolled:
    out: subprocess.CompletedProcess[str]
    command_s: float
    load: Load

    @property
    def release(self) -> str:
        match = re.search(r"release ([0-9a-f]{12}) live", self.out.stdout)
        assert match, self.out.stdout + self.out.stderr
        return match.group(1)

    @property
    def live_after_s(self) -> float:
        """What the command measured: publish (or pointer moved) -> the host serves the id healthily."""
        match = re.search(r"\(([0-9.]+) s after (?:publishing|the pointer moved)", self.out.stdout)
        assert match, self.out.stdout
        return float(match.group(1))

    def failed(self) -> list[str]:
        return [r.error or f"HTTP {r.status}" for r in self.load.results if r.status != 200]


def rolled(stack: AppStack, *args: str, path: str = "/") -> Rolled:
    """`launchpad <args>` while a steady loop (3 clients, 20 requests/s in all) asks Nginx for `path`."""
    with Load(stack.address, path=path, threads=3, rate=20, max_seconds=900, timeout=15) as load:
        time.sleep(1)  # the loop is running before the command starts
        started = time.monotonic()
        out = stack.cli(*args)
        took = time.monotonic() - started
        time.sleep(1)  # and still running after it returned
    return Rolled(out, took, load)


def set_text(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text()
    new = re.sub(pattern, replacement, text)
    assert new != text, f"{pattern!r} not in {path}"
    path.write_text(new)


def spread(values: list[float]) -> str:
    if not values:
        return "none measured"
    return f"p50 {statistics.median(values):.1f} s, max {max(values):.1f} s over {len(values)}"


def stages(steps: dict[str, float]) -> str:
    """The agent's stage times, as the measured lines show them."""
    names = [("installed", "venv+pip"), ("release", "release command"), ("boot", "slot start"), ("warm", "parked slot woken"),
             ("health", "first healthy answer"), ("switch", "nginx switch")]
    return ", ".join(f"{label} {steps[key]:.1f}" for key, label in names if key in steps)
