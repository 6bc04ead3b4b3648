"""Draws the logo (PNG) and the favicon (ICO with a PNG inside) with the standard library only.

Run from the app folder: `python scripts/make_images.py`. The outputs are committed; run it again
only to change them.
"""

import math
import struct
import zlib
from pathlib import Path

STATIC_IMG = Path(__file__).resolve().parent.parent / "journal" / "static" / "img"


def png(width, height, pixel):
    """PNG bytes for an RGBA image whose pixels come from pixel(x, y) -> (r, g, b, a)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")


def logo_pixel(size):
    """A rounded square in the journal's blue with a lighter open-book shape and paper grain."""

    def pixel(x, y):
        u, v = (x + 0.5) / size, (y + 0.5) / size
        r = 0.18
        dx, dy = max(abs(u - 0.5) - (0.5 - r), 0), max(abs(v - 0.5) - (0.5 - r), 0)
        if math.hypot(dx, dy) > r:
            return (0, 0, 0, 0)
        grain = ((x * 7919 + y * 104729) ^ (x * y * 31)) % 9 - 4  # deterministic texture
        base = (61 + grain, 90 + grain, 128 + grain)
        # Two pages: a shallow V, thicker towards the spine.
        page_top = 0.30 + 0.08 * abs(u - 0.5) * 2
        if 0.2 < u < 0.8 and page_top < v < 0.72 + 0.04 * (1 - abs(u - 0.5) * 2) and abs(u - 0.5) > 0.015:
            shade = int(236 - 40 * (v - page_top)) + grain
            line = int((v - page_top) * size) % max(size // 12, 3) == 0 and 0.26 < u < 0.74 and abs(u - 0.5) > 0.05
            if line:
                shade -= 45
            return (shade, shade - 4, shade - 12, 255)
        return base + (255,)

    return pixel


def main():
    STATIC_IMG.mkdir(parents=True, exist_ok=True)
    logo = png(96, 96, logo_pixel(96))
    (STATIC_IMG / "logo.png").write_bytes(logo)
    icon = png(32, 32, logo_pixel(32))
    # ICO header + one directory entry pointing at an embedded PNG (valid since Windows Vista).
    ico = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 32, 32, 0, 0, 1, 32, len(icon), 6 + 16) + icon
    (STATIC_IMG / "favicon.ico").write_bytes(ico)
    print(f"logo.png {len(logo)} bytes, favicon.ico {len(ico)} bytes")


if __name__ == "__main__":
    main()
