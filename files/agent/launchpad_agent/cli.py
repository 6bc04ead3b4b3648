"""The agent's commands: sync (the timer's), deploy <id>, status [--json], run -- CMD.

The idle `sync` (nothing to do, every 2 s) stays cheap: it imports only the light
modules (state, store, rules), reads the pointer and status, and exits; the release
machinery, argparse and subprocess load only when something happens.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from launchpad_agent.rules import APP_ENV, CONFIG, ENV_DIR, Failure, log, refused
from launchpad_agent.state import app_env_hash, load_status, locked, log_once
from launchpad_agent.store import desired_pointer, open_store

DATABASE_DUE = Path("/run/launchpad-agent/database-due")
"""database.DUE, named here so the idle pass need not import database.py (pg, hashlib)."""


def cmd_sync(cfg: dict, wait: bool) -> int:
    if locked(wait) is None:
        return 0  # another run holds the lock; the timer comes back in 2 s
    code = 0
    # After a release, look again: a pointer written meanwhile is rolled now, not 2 s
    # after this pass ends (a poke during a pass joins the pass instead of starting one).
    for _ in range(5):
        try:
            store = open_store(cfg)
            raw = desired_pointer(cfg, store)
        except (Failure, OSError) as err:
            return log_once(f"cannot read the desired release from {cfg.get('store')}: {err}")
        if raw is None:
            return code
        try:
            pointer = json.loads(raw)
        except ValueError:
            return log_once("the desired release pointer is not JSON; waiting for the deployer to rewrite it")
        status, rid = load_status(), str(pointer.get("id"))
        stale = None
        if rid == status.get("live") and status.get("app_env", "") == app_env_hash():
            if not database_due(cfg):
                return code
            from launchpad_agent import database  # noqa: PLC0415 (every few minutes: database.py)
            stale = database.stale(cfg, store, status)
            if stale is None:
                return code
            log(f"{rid}: {stale[0]}; rolling the live release again with it")
        elif refused(status, pointer, time.time(), app_env_hash()):
            return code
        elif rid == status.get("live"):
            log(f"{rid}: {APP_ENV} changed; rolling the live release again with it")
        from launchpad_agent.release import deploy  # noqa: PLC0415 (lazy, see the module doc)
        code = deploy(cfg, store, rid, pointer, force_db=bool(stale and stale[1]))
    return code


def database_due(cfg: dict) -> bool:
    """Time to look at the database credential again (its mtime: database.py's schedule)."""
    if not cfg.get("database"):
        return False
    try:
        return time.time() >= DATABASE_DUE.stat().st_mtime
    except OSError:
        return True


def cmd_deploy(cfg: dict, args) -> int:
    from launchpad_agent.release import deploy  # noqa: PLC0415
    locked(True)
    return deploy(cfg, open_store(cfg), args.id)


def cmd_status(cfg: dict, args) -> int:
    status = load_status()
    if args.json:
        print(json.dumps(status, indent=2, sort_keys=True))
        return 0
    print(f"live: {status.get('live') or 'none'} (slot {status.get('slot') or '-'})")
    for h in status.get("history", []):
        print(f"  {h['id']}  {h['at']}  {h['status']:<8}  {str(h.get('source_hash') or '')[:12]:<12}  {h.get('took_s')} s")
    fail = status.get("last_failure")
    if fail:
        print(f"last failure: {fail['id']} at {fail['stage']} (exit {fail.get('exit')}): {fail.get('message', '')}")
        print("\n".join("  | " + ln for ln in (fail.get("tail") or "").splitlines()))
    return 0


def cmd_run(cfg: dict, args) -> int:
    import subprocess  # noqa: PLC0415
    from launchpad_agent.host import Host  # noqa: PLC0415
    status, host = load_status(), Host(cfg)
    if not status.get("live"):
        print("launchpad-agent: no live release yet", file=sys.stderr)
        return 1
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("launchpad-agent: run needs a command: launchpad-agent run -- flask shell", file=sys.stderr)
        return 2
    rid = status["live"]
    argv = host.sandboxed(host.release_dir(rid), ENV_DIR / f"{rid}.env", command, pipe=not sys.stdin.isatty())
    return subprocess.run(argv).returncode


def config() -> dict:
    try:
        return json.loads(CONFIG.read_text())
    except (OSError, ValueError) as err:
        print(f"launchpad-agent: {CONFIG}: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["certificate"]:  # the certificate step (certificate.py); no release config needed
        from launchpad_agent import certificate  # noqa: PLC0415
        return certificate.main(argv[1:])
    if argv in (["sync"], ["sync", "--wait"]):  # the timer's pass: no argparse
        return cmd_sync(config(), wait=argv[-1] == "--wait")
    import argparse  # noqa: PLC0415
    parser = argparse.ArgumentParser(prog="launchpad-agent", description="Pulls and rolls this host's app releases.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sync", help="deploy the desired release if it is not live (the timer runs this)")
    p.add_argument("--wait", action="store_true", help="wait for a running pass instead of leaving it be")
    sub.add_parser("deploy", help="deploy one release id now, even one refused before").add_argument("id")
    sub.add_parser("status", help="live release, history, last failure").add_argument("--json", action="store_true")
    sub.add_parser("run", help="run a command in the live release: run -- flask shell").add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.cmd == "sync":
        return cmd_sync(config(), args.wait)
    return {"deploy": cmd_deploy, "status": cmd_status, "run": cmd_run}[args.cmd](config(), args)

if __name__ == "__main__":
    sys.exit(main())
