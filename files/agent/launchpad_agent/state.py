"""What the agent keeps between passes: status.json (and its publication for a cloud roll,
report.py), the lock, the app.env fingerprint, and atomic writes. Light on purpose: the idle
pass every 2 s imports only this."""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from pathlib import Path

from launchpad_agent.rules import APP_ENV, CONFIG, LOCK, STATUS, log

LAST_ERROR = Path("/run/launchpad-agent/last-error")
UNPUBLISHED = Path("/run/launchpad-agent/status-unpublished")
"""Present while the last status.json has not reached the status store (report.py)."""


def load_status() -> dict:
    try:
        return json.loads(STATUS.read_text())
    except (OSError, ValueError):
        return {"live": None, "slot": None, "history": [], "last_failure": None}


def save_status(status: dict) -> None:
    write_atomic(STATUS, (json.dumps(status, indent=2, sort_keys=True) + "\n").encode(), 0o644)
    publish_status()


def publish_status() -> None:
    """Publishes status.json when agent.json names a `status_store` (cloud hosts behind a
    balancer, report.py); marks it for a retry when that fails. Never raises: a release must
    not fail for it (the deployer stops the roll at its deadline instead)."""
    try:
        cfg = json.loads(CONFIG.read_text())
    except (OSError, ValueError):
        return  # the caller reads agent.json too and says what is wrong with it
    if not isinstance(cfg, dict) or not cfg.get("status_store"):
        return
    try:
        from launchpad_agent import report  # noqa: PLC0415 (only hosts that publish)
        report.publish(cfg, STATUS.read_bytes())
        UNPUBLISHED.unlink(missing_ok=True)
    except Exception as err:  # noqa: BLE001 - network, credentials, a bad config: retried next pass
        UNPUBLISHED.parent.mkdir(mode=0o700, exist_ok=True)
        UNPUBLISHED.write_text(f"{type(err).__name__}: {err}\n")
        log_once(f"status not published yet (retried every pass): {err}")


def app_env_hash() -> str:
    """Changes when /etc/launchpad/app.env does (a rotated DATABASE_URL): crc32, not sha256,
    because hashlib's import alone costs the idle pass more than everything else."""
    return f"{zlib.crc32(APP_ENV.read_bytes()):08x}" if APP_ENV.is_file() else ""


def locked(wait: bool):
    """Every pass takes the lock first, so a status publication that failed is retried here
    (when nothing is pending, that costs one stat of a /run file)."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    if UNPUBLISHED.exists():
        publish_status()
    return fd


def write_atomic(path: Path, data: bytes, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def log_once(message: str) -> int:
    """Logs a sync problem once, not every 2 s while it lasts; returns the exit code 1."""
    seen = LAST_ERROR.read_text() if LAST_ERROR.is_file() else ""
    if seen != message:
        log(message, level=3)
        LAST_ERROR.parent.mkdir(mode=0o700, exist_ok=True)
        LAST_ERROR.write_text(message)
    return 1
