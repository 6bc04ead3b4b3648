"""What the agent keeps between passes: status.json, the lock, the app.env fingerprint,
and atomic writes. Light on purpose: the idle pass every 2 s imports only this."""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from pathlib import Path

from launchpad_agent.rules import APP_ENV, LOCK, STATUS, log

LAST_ERROR = Path("/run/launchpad-agent/last-error")


def load_status() -> dict:
    try:
        return json.loads(STATUS.read_text())
    except (OSError, ValueError):
        return {"live": None, "slot": None, "history": [], "last_failure": None}


def save_status(status: dict) -> None:
    write_atomic(STATUS, (json.dumps(status, indent=2, sort_keys=True) + "\n").encode(), 0o644)


def app_env_hash() -> str:
    """Changes when /etc/launchpad/app.env does (a rotated DATABASE_URL): crc32, not sha256,
    because hashlib's import alone costs the idle pass more than everything else."""
    return f"{zlib.crc32(APP_ENV.read_bytes()):08x}" if APP_ENV.is_file() else ""


def locked(wait: bool):
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
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
