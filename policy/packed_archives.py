"""Open what user-data carries packed: base64 / gzip / tar payloads, so their contents are scanned too.

A cloud-config `write_files` entry with `encoding: b64` (or gz+b64), or a long base64 run in a
script, can hold a whole app folder: `.env`, `instance/config.py`, private keys. The secret
scanner (user_data_secrets.py) sees only base64 text; this module decodes it, lists the
archive's files, and hands each text file back to the scanner with a label saying where it
came from. Files that must never ship (`.env`, `instance/`, keys) are findings by name alone.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import gzip
import io
import re
import tarfile
import zlib

import yaml

# The release artifact's own exclusions (plan: `.env`, `.env.*`, `instance/`, `*.pem`, `*.key`, `id_rsa*`).
NEVER_SHIPPED = (".env", ".env.*", "*.pem", "*.key", "id_rsa*", "id_ed25519*", "id_ecdsa*", "*.p12", "*.pfx",
                 ".netrc", ".pgpass", "credentials.json")
NEVER_SHIPPED_DIRS = ("instance", ".git", ".aws", ".ssh")
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{200,}={0,2}(?![A-Za-z0-9+/=])")
_MAX_BYTES = 64 * 1024 * 1024  # a bomb stops here: user-data is at most 64 KiB, its payload a few MiB


def _unpack(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            return f.read(_MAX_BYTES)
    return data


def _members(data: bytes, label: str) -> list[tuple[str, bytes]]:
    """(label, bytes) of each file if `data` is a tar archive, else [(label, data)]."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            out = []
            for member in tar.getmembers():
                if member.isfile():
                    f = tar.extractfile(member)
                    out.append((f"{label} member {member.name}", f.read(_MAX_BYTES) if f else b""))
            return out
    except (tarfile.TarError, EOFError, OSError):
        return [(label, data)]


def _decode(text: str, label: str) -> list[tuple[str, bytes]]:
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", text), validate=True)
        return _members(_unpack(raw), label)
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error):
        return []


def packed_payloads(text: str) -> list[tuple[str, bytes]]:
    """Every packed payload in one user-data document, decoded: (label, bytes) per file."""
    found: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        doc = None
    if isinstance(doc, dict):
        for entry in doc.get("write_files") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("content"), str):
                continue
            encoding = str(entry.get("encoding", "")).lower()
            if encoding in ("b64", "base64", "gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
                seen.add(re.sub(r"\s+", "", entry["content"]))
                found += _decode(entry["content"], f"write_files {entry.get('path', '?')}")
    for match in _BASE64_RUN.finditer(text):
        if match.group(0) not in seen:
            found += _decode(match.group(0), "base64 payload")
    return found


def never_shipped(label: str) -> str | None:
    """Why an archive member must not be in user-data, or None."""
    if " member " not in label:
        return None
    path = label.rsplit(" member ", 1)[1].removeprefix("./")
    parts = path.split("/")
    for part in parts[:-1]:
        if part in NEVER_SHIPPED_DIRS:
            return f"packs {path}: files under {part}/ hold local state or credentials and never ship"
    if any(fnmatch.fnmatch(parts[-1], pattern) for pattern in NEVER_SHIPPED):
        return f"packs {path}, a file that holds secrets or keys and never ships"
    return None


def as_text(data: bytes) -> str | None:
    """The member as text, or None for binary files (images, wheels)."""
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")
