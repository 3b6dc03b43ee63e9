"""A console screenshot as Azure stores it: a 24-bit BMP, generated without imaging libraries."""

from __future__ import annotations

import struct
import zlib

__all__ = ["screenshot_bmp"]

_WIDTH, _HEIGHT = 320, 200


def screenshot_bmp(seed: str, lines: int = 12) -> bytes:
    """A small text-console look-alike: a black screen, grey text rows, a cursor.

    Parameters
    ----------
    seed
        Varies the row lengths (the lab passes the VM name), so each VM's picture differs.
    lines
        How many rows of "text" to draw.

    Returns
    -------
    bytes
        A valid uncompressed BMP (BITMAPINFOHEADER, bottom-up rows).
    """
    row_bytes = (_WIDTH * 3 + 3) // 4 * 4
    pixels = bytearray(row_bytes * _HEIGHT)
    lengths = [8 + zlib.crc32(f"{seed}:{line}".encode()) % 36 for line in range(lines)]
    for line, length in enumerate(lengths):
        top = 4 + line * 12
        for y in range(top, top + 7):
            for x in range(4, 4 + length * 8):
                if (x // 2 + y) % 4 and x % 8 < 6:  # glyph-like speckle inside 6-pixel cells
                    _set(pixels, row_bytes, x, y, (0xAA, 0xAA, 0xAA))
    cursor_top = 4 + lines * 12
    for y in range(cursor_top, cursor_top + 8):
        for x in range(4, 10):
            _set(pixels, row_bytes, x, y, (0xFF, 0xFF, 0xFF))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, _WIDTH, _HEIGHT, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + bytes(pixels)


def _set(pixels: bytearray, row_bytes: int, x: int, y: int, rgb: tuple[int, int, int]) -> None:
    offset = (_HEIGHT - 1 - y) * row_bytes + x * 3
    pixels[offset:offset + 3] = bytes((rgb[2], rgb[1], rgb[0]))
