"""One release, start to finish, under the caller's lock: fetch, install, release command,
boot the idle slot (or wake it, if it is parked on this very release: standby.py), health,
switch nginx, park the old slot, record, prune. Any failure is recorded (stage, exit code,
output tail) and leaves the live release serving.

The env file is written per attempt (`.<id>.attempt.env`) and becomes `<id>.env` only once the
release is live: rolling the live release again (a rotated database credential) never changes
the env file of the slot that is serving, so a failed re-roll leaves it exactly as it was."""

from __future__ import annotations

import json
import subprocess
import time

from pathlib import Path

from launchpad_agent import database, standby
from launchpad_agent.host import Host, link_atomic
from launchpad_agent.rules import (ENV_DIR, ID_RE, RELEASE_TIMEOUT_S, RETRY_S, SLOT_ENV_DIR, SLOTS, Failure, log, now_iso, record,
                                   static_problems, tail, validate_manifest)
from launchpad_agent.state import app_env_hash, load_status, save_status, write_atomic
from launchpad_agent.store import fetch_secrets


def attempt_env(rid: str) -> Path:
    return ENV_DIR / f".{rid}.attempt.env"


def deploy(cfg: dict, store, rid: str, pointer: dict | None = None, force_db: bool = False) -> int:
    """One release, start to finish; returns the exit code. Holds the lock (caller).
    `force_db`: set the database roles again (the live credential was refused)."""
    started, host, status = time.monotonic(), Host(cfg), load_status()
    stage_t = [started]

    def step(name: str) -> None:
        now = time.monotonic()
        log(f"{rid}: {name} ({now - stage_t[0]:.2f} s)")
        stage_t[0] = now

    live, live_slot = status.get("live"), status.get("slot")
    slot = "b" if live_slot == "a" else "a"
    try:
        raw = store.get(f"releases/{rid}.json") if ID_RE.fullmatch(rid) else None
        if raw is None:
            raise Failure("fetch", f"release {rid!r} is not in the store {cfg['store']}")
        manifest = json.loads(raw)
        problems = validate_manifest(manifest, rid, host.app)
        if problems:
            raise Failure("fetch", f"manifest {rid} refused: " + "; ".join(problems))
        # The static map becomes nginx config: checked on the host before anything is installed.
        problems = static_problems(manifest.get("static") or {})
        if problems:
            raise Failure("install", f"manifest {rid}: static map refused: " + "; ".join(problems))
        rel = host.extract(store, manifest)
        # DATABASE_URL joins the secrets: sealed by the deployer (DigitalOcean), or the app's own
        # role kept by the agent with the master credential (AWS, local): database.py.
        db = database.prepare(cfg, store, status.get("database"), force_db)
        secrets = fetch_secrets(cfg, store, manifest) + db.pairs
        env_file = host.env_file(manifest, secrets, attempt_env(rid))
        step("fetched")
        venv = host.venv(manifest, rel)
        host.link_state(rel, manifest, venv)
        step(f"installed (venv {manifest['deps_hash']})")
        if database.check(cfg, secrets):  # there, and the app's user can create and write
            step("database writable by the app's user")
        ran_before = any(h["id"] == rid and h["status"] != "failed" for h in status.get("history", []))
        if manifest.get("release_command") and not ran_before:
            log(f"{rid}: release command: {manifest['release_command']}")
            argv = host.sandboxed(rel, env_file, ["/bin/sh", "-c", manifest["release_command"]])
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=RELEASE_TIMEOUT_S + 60)
            except subprocess.TimeoutExpired as err:
                raise Failure("release", f"release command still running after {RELEASE_TIMEOUT_S // 60} min", 124,
                              tail(str(err.stdout or ""))) from None
            out = tail(proc.stdout + proc.stderr)
            if proc.returncode != 0:
                raise Failure("release", f"release command exited {proc.returncode}", proc.returncode, out)
            step("release command done" + (f":\n{out}" if out else ""))
        if standby.warm(host.app, slot, rid, env_file, live):  # a rollback to the parked release: a switch
            step(f"slot {slot} was parked on {rid}: its workers are back")
        else:
            host.start_slot(slot, rel, env_file)
            standby.started(slot, rid, env_file)
            step(f"slot {slot} started")
        host.health(slot, manifest.get("health_path"))
        step(f"slot {slot} healthy")
        host.switch(slot, manifest, rel)
        took = time.monotonic() - started
        step(f"live on slot {slot}, serving after {took:.2f} s")
    except Failure as fail:
        return failed(host, status, rid, slot, fail, pointer, started, cfg)
    except Exception as err:  # noqa: BLE001 - anything unforeseen is a refused release, never a half switch
        return failed(host, status, rid, slot, Failure("fetch", f"{type(err).__name__}: {err}"), pointer, started, cfg)
    # Live: the attempt's env file becomes the release's, and the new slot reads it from there.
    final = write_atomic(ENV_DIR / f"{rid}.env", env_file.read_bytes(), 0o600)
    link_atomic(SLOT_ENV_DIR / f"{slot}.env", final)
    env_file.unlink(missing_ok=True)
    subprocess.run(["systemctl", "enable", "--no-reload", f"{host.app}@{slot}.socket", f"{host.app}@{slot}.service"],
                   capture_output=True)
    status = record({**status, "slot": slot, "app_env": app_env_hash(), "database": db.version},
                    {"id": rid, "at": now_iso(), "source_hash": manifest.get("source_hash"), "status": "live",
                     "took_s": round(took, 2)})
    save_status(status)
    if live_slot in SLOTS and live_slot != slot:
        parked = host.retire(live_slot, rid)
        if parked and db.rotated:  # it holds the old database login, which is closed next
            parked = standby.stop(host.app, live_slot)
        step(f"slot {live_slot} ({live}) " + (f"parked with one of its {parked} workers" if parked else "stopped"))
    db.commit()
    database.schedule(cfg)
    save_status(host.prune(status, int(manifest.get("keep") or cfg.get("keep") or 5)))
    return 0


def failed(host: Host, status: dict, rid: str, slot: str, fail: Failure, pointer: dict | None, started: float,
           cfg: dict | None = None) -> int:
    log(f"{rid}: FAILED at {fail.stage}: {fail}" + (f"\n{fail.tail}" if fail.tail else ""), level=3)
    attempt_env(rid).unlink(missing_ok=True)  # never used by a serving slot
    if cfg is not None:
        database.schedule(cfg, RETRY_S)
    if fail.stage in ("boot", "health", "switch"):
        subprocess.run(["systemctl", "stop", f"{host.app}@{slot}.socket", f"{host.app}@{slot}.service"], capture_output=True)
        standby.forget(slot)
    if rid != status.get("live"):  # a refused re-roll of the live release leaves it live in the history
        status = record(status, {"id": rid, "at": now_iso(), "source_hash": None, "status": "failed",
                                 "took_s": round(time.monotonic() - started, 2)})
    status["last_failure"] = {"id": rid, "stage": fail.stage, "exit": fail.exit, "message": str(fail), "tail": fail.tail,
                              "at": now_iso(), "pointer_at": (pointer or {}).get("at"),
                              "retry_after": time.time() + RETRY_S if fail.retry else None,
                              "app_env": app_env_hash()}
    save_status(status)
    return 1
