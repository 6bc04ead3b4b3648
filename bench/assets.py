"""The benchmark app's static files, generated (not committed): a 30 KiB stylesheet and a 500 KiB image.

Deterministic bytes, so every build of the app packs the same artifact. The
stylesheet carries its content hash in its name (`site.<10 hex>.css`), as a
front-end build names it: the releases' Nginx config caches such names for a year
(`immutable`). The image has a plain name (`hero.png`): cached for 5 minutes,
since a release may change it. The image is noise, so nothing compresses it, as
with a real photo.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from pathlib import Path
from typing import Any

CSS_BYTES = 30 * 1024
PNG_BYTES = 500 * 1024
SEED = 16  # issue 16


def css(size: int = CSS_BYTES) -> bytes:
    """A stylesheet of exactly `size` bytes: many small rules, like a framework's."""
    rules, i = [], 0
    total = 0
    while True:
        rule = (f".c{i} {{ margin: {i % 7}px {i % 11}px; padding: {i % 5}px; color: #{(i * 2654435761) % 0xFFFFFF:06x}; "
                f"border-radius: {i % 9}px; }}\n")
        if total + len(rule) > size:
            break
        rules.append(rule)
        total += len(rule)
        i += 1
    body = "".join(rules)
    left = size - len(body)
    # The remainder as one comment ("/*...*/\n" needs 5 bytes), else spaces.
    return (body + ("/*" + "*" * (left - 5) + "*/\n" if left >= 5 else " " * left)).encode()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(size: int = PNG_BYTES, width: int = 400) -> bytes:
    """A valid RGB PNG of noise, padded with a tEXt chunk to exactly `size` bytes."""
    rnd = random.Random(SEED)
    row = 1 + width * 3
    height = max(1, (size - 200) // (row + 1))
    raw = b"".join(b"\x00" + rnd.randbytes(width * 3) for _ in range(height))
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = _chunk(b"IDAT", zlib.compress(raw, 9))
    end = _chunk(b"IEND", b"")
    pad = size - len(head) - len(idat) - len(end) - 12 - len(b"Comment\x00")
    if pad < 0:
        raise ValueError(f"png: {size} bytes is too small for a {width}x{height} image of noise")
    text = _chunk(b"tEXt", b"Comment\x00" + b"x" * pad)
    return head + idat + text + end


def write_static(folder: Path) -> dict[str, Any]:
    """Writes both files into folder; returns their names, sizes and sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    style = css()
    name = f"site.{hashlib.sha256(style).hexdigest()[:10]}.css"
    image = png()
    (folder / name).write_bytes(style)
    (folder / "hero.png").write_bytes(image)
    return {"css": {"path": f"/static/{name}", "bytes": len(style), "sha256": hashlib.sha256(style).hexdigest()},
            "image": {"path": "/static/hero.png", "bytes": len(image), "sha256": hashlib.sha256(image).hexdigest()}}
