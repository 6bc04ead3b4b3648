"""Run Launchpad's benchmarks and write docs/benchmarks/README.md + serving.png.

    sudo .venv/bin/python -m bench                     # every current part (~40 min on 2 cores)
    sudo .venv/bin/python -m bench --parts page        # one part; the others keep their last results
    sudo .venv/bin/python -m bench --parts page,static,slow,peer,gap,release --keep-up
    .venv/bin/python -m bench --report-only            # re-render the report from results.json

`serving` and `redeploy` measure the host layout from before releases (/srv/<app>/current,
launchpad-deploy): their last results stay in the report until they are ported; `gap`
and `release` measure the same questions on today's layout.

The parts users ask about (issue 16) run on one stack with a database and the benchmark
app (bench/rig.py, machines lp-benchpage*): page, static, slow, peer, gap, release
(`release` last: it rolls new releases). `--keep-up` leaves that stack running so the
next invocation reuses it. Otherwise every machine started here is downed at the end.
Traffic stays on the machines' loopback and their addresses.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import boot, gap, gap_variants, page, peer, program_start, quiet, redeploy, release_time, report, rig, serving, slow, static_files
from launchpad.render.bootstrap import render_user_data
from launchpad.local import stack as local_stack
from launchpad.settings import validate

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks"
PARTS = ("serving", "boot", "start", "redeploy", "page", "static", "slow", "peer", "gap", "confirm", "release")
RIG_PARTS = ("page", "static", "slow", "peer", "gap", "confirm", "release")
DEFAULT_PARTS = ("start", "boot", *RIG_PARTS)
"""In this order on the benchmark stack; `release` last, since it replaces the live release."""
STACK = "bench"  # machine lp-bench
# rateLimit 0: wrk's connections all come from one address, the default limit would answer 429.
CONFIG = {"launchpad:provider": "local", "launchpad:rateLimit": 0}


def variants(cpus: int) -> list[serving.Variant]:
    V, S = serving.Variant, serving.Shape
    return [
        V("as rendered", "the stack exactly as Launchpad renders it"),
        V("access log unbuffered (Debian default)", "one write(2) per request instead of one per 64 KiB", access_log="debian"),
        V("access log off", "what logging costs at all", access_log="off"),
        V("TCP 127.0.0.1 instead of unix socket", "loopback TCP between Nginx and gunicorn", tcp=True),
        V(f"sync ×{2 * cpus} workers", "one fewer worker than 2·CPU+1", shape=S(2 * cpus)),
        V(f"sync ×{cpus + 1} workers", "CPU+1 workers: leave Nginx its share", shape=S(cpus + 1)),
        V(f"gthread {cpus}×4 + upstream keepalive 16", "threads, with Nginx reusing upstream connections",
          shape=S(cpus, 4), upstream_keepalive=16),
        V(f"gthread {cpus}×4, no keepalive", "threads, a new upstream connection per request", shape=S(cpus, 4), upstream_keepalive=0),
        V("proxy_buffering off (not adopted)", "sync workers would then wait on slow clients", proxy_buffering=False),
    ]


def run_rig(parts: list[str], args: argparse.Namespace, result: dict[str, Any], say: Any) -> None:
    """The parts users ask about, on one benchmark stack; each result saved as soon as it exists."""
    results_path = args.out / "results.json"
    try:
        say(f"boot the benchmark stack ({rig.STACK}: web + PostgreSQL, app bench/apps/page as a release)")
        r = rig.up(progress=lambda t: say("  " + t))
        for part in RIG_PARTS:
            if part not in parts:
                continue
            say(f"part {part}")
            if part == "page":
                result["page"] = page.run(r, args.seconds, args.rounds, say)
            elif part == "static":
                result["static"] = static_files.run(r, args.seconds, args.rounds, say)
            elif part == "slow":
                result["slow"] = slow.run(r, args.seconds, args.tuning_rounds, say)
            elif part == "peer":
                result["peer"] = peer.run(r, args.seconds, args.rounds, say)
            elif part == "gap":
                result["gap"] = gap.run(r, args.seconds, args.tuning_rounds, say)
            elif part == "confirm":
                result["confirm"] = gap.run(r, args.seconds, args.rounds, say, variants=gap_variants.CONFIRM, pinned=False)
            elif part == "release":
                result["release"] = release_time.run(r, args.release_rounds, say)
            result[part]["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            args.out.mkdir(parents=True, exist_ok=True)
            results_path.write_text(json.dumps(result, indent=1) + "\n")
    finally:
        if not args.keep_up:
            say("down the benchmark stack")
            rig.down(progress=lambda t: None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default=",".join(DEFAULT_PARTS), help=f"comma-separated subset of {', '.join(PARTS)}")
    ap.add_argument("--seconds", type=float, default=10.0, help="wrk duration per run (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the serving table (default 3)")
    ap.add_argument("--tuning-rounds", type=int, default=2, help="rounds of the one-setting-at-a-time table (default 2)")
    ap.add_argument("--boot-rounds", type=int, default=2, help="boots per boot case (default 2)")
    ap.add_argument("--release-rounds", type=int, default=3, help="releases per case in the release part (default 3)")
    ap.add_argument("--keep-up", action="store_true", help="leave the benchmark stack (lp-benchpage*) running")
    ap.add_argument("--quiet-wait", type=float, default=60.0, help="seconds a run waits at most for a quiet host (default 60)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        ap.error(f"--parts: unknown {', '.join(unknown)}; valid: {', '.join(PARTS)}")

    results_path = args.out / "results.json"
    result: dict[str, Any] = json.loads(results_path.read_text()) if results_path.is_file() else {}
    if not args.report_only:
        result.update(machine=f"{platform.node()} ({platform.machine()}, Linux {platform.release()})",
                      date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        settings = validate(CONFIG, STACK)
        started = time.monotonic()

        def say(text: str) -> None:
            print(f"[{time.monotonic() - started:7.1f}s] {text}", flush=True)

        if "start" in parts:
            say("program start")
            result["program_start"] = program_start.run(progress=say)
        if "serving" in parts or "redeploy" in parts:
            try:
                say(f"boot the stack ({local_stack.web_name(STACK)})")
                local_stack.up(settings, progress=lambda t: None)
                m = serving.InMachine(local_stack.web_name(STACK), settings.app.unix_name)
                if "serving" in parts:
                    cpus = serving.host_facts(m)["cpus"]
                    result["serving"] = serving.run(m.name, m.app, args.seconds, args.rounds, variants(cpus),
                                                    tuning_rounds=args.tuning_rounds, progress=say)
                if "redeploy" in parts:
                    say("redeploy under load")
                    result["redeploy"] = redeploy.run(m, settings.app_path, progress=say)
            finally:
                say("down the stack")
                local_stack.down(STACK, progress=lambda t: None)
        quiet.MAX_WAIT_S = args.quiet_wait
        if any(p in RIG_PARTS for p in parts):
            run_rig(parts, args, result, say)
        if "boot" in parts:
            say("boot to ready")
            boot_settings = validate({"launchpad:provider": "local"}, "benchboot")
            result["boot"] = boot.run(boot_settings, render_user_data(boot_settings), args.boot_rounds, progress=say)
        args.out.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(result, indent=1) + "\n")
    if not result.get("serving"):
        print("no serving results yet: run the serving part first", file=sys.stderr)
        return 1
    notes = args.out / "notes.md"
    result["notes"] = notes.read_text() if notes.is_file() else ""
    report.write(result, args.out)
    print(f"wrote {args.out / 'README.md'} and {args.out / 'serving.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
